CREATE TABLE "benchwatch_private"."idempotency_keys" (
  "key_hash"     bytea                    NOT NULL,
  "request_hash" bytea                    NOT NULL,
  "created_at"   timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY (key_hash)
);

ALTER TABLE "benchwatch_private"."idempotency_keys"
  ENABLE ROW LEVEL SECURITY;

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."idempotency_keys" TO "postgres";

COMMENT ON TABLE "benchwatch_private"."idempotency_keys" IS 'Every Idempotency-Key used to record a run (the SHA-256 of ''idempotency-key:'' || key; in a batch the key is <key>#<index>) and the SHA-256 of the run it was used with, so the same key with a different run is refused (BW009).';
