CREATE TABLE "benchwatch_private"."webhook_receipts" (
  "webhook_id"  text                     NOT NULL,
  "received_at" timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "webhook_receipts_pkey" PRIMARY KEY (webhook_id)
);

ALTER TABLE "benchwatch_private"."webhook_receipts"
  ENABLE ROW LEVEL SECURITY;

CREATE INDEX webhook_receipts_received_at_idx ON benchwatch_private.webhook_receipts USING btree (received_at);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."webhook_receipts" TO "postgres";

COMMENT ON TABLE "benchwatch_private"."webhook_receipts" IS 'webhook-ids notify-slack has already accepted, so a replayed webhook does nothing; kept for a day (the signature window is 5 minutes).';
