CREATE TABLE "benchwatch_private"."run_identities" (
  "identity_hash"  bytea                    NOT NULL,
  "kind"           text                     NOT NULL,
  "request_hash"   bytea                    NOT NULL,
  "transaction_id" uuid                     NOT NULL,
  "response"       jsonb                    NOT NULL DEFAULT '{}'::jsonb,
  "created_at"     timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "run_identities_kind_valid" CHECK ((kind = ANY (ARRAY['idempotency_key'::text, 'run_identity'::text]))),
  CONSTRAINT "run_identities_pkey" PRIMARY KEY (identity_hash)
);

ALTER TABLE "benchwatch_private"."run_identities"
  ENABLE ROW LEVEL SECURITY;

CREATE INDEX run_identities_transaction_id_idx ON benchwatch_private.run_identities USING btree (transaction_id);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."run_identities" TO "postgres";

COMMENT ON TABLE "benchwatch_private"."run_identities" IS 'Idempotency records: the identity of every recorded run (Idempotency-Key, or run_id + commit + series + metrics) and the answer it got.';
