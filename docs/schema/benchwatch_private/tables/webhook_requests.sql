CREATE TABLE "benchwatch_private"."webhook_requests" (
  "id"             bigint                   NOT NULL DEFAULT nextval('benchwatch_private.webhook_requests_id_seq'::regclass),
  "net_request_id" bigint,
  "webhook_id"     text                     NOT NULL,
  "reason"         text                     NOT NULL,
  "record"         jsonb,
  "created_at"     timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "webhook_requests_pkey" PRIMARY KEY (id),
  CONSTRAINT "webhook_requests_reason_valid" CHECK ((reason = ANY (ARRAY['run'::text, 'sweep'::text])))
);

ALTER TABLE "benchwatch_private"."webhook_requests"
  ENABLE ROW LEVEL SECURITY;

ALTER SEQUENCE "benchwatch_private"."webhook_requests_id_seq" OWNED BY "benchwatch_private"."webhook_requests"."id";

CREATE INDEX webhook_requests_created_at_idx ON benchwatch_private.webhook_requests USING btree (created_at);

CREATE POLICY "webhook_requests_select_service_role" ON "benchwatch_private"."webhook_requests"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."webhook_requests" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."webhook_requests" TO "service_role";

COMMENT ON TABLE "benchwatch_private"."webhook_requests" IS 'Every signed request the database webhook queued with pg_net: its pg_net request id, webhook-id, why (run or sweep) and the record it named.';
