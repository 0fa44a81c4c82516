CREATE TABLE "benchwatch_private"."ingest_tokens" (
  "id"           uuid                     NOT NULL DEFAULT gen_random_uuid(),
  "name"         text                     NOT NULL,
  "token_hash"   text                     NOT NULL,
  "token_prefix" text                     NOT NULL,
  "created_at"   timestamp with time zone NOT NULL DEFAULT now(),
  "last_used_at" timestamp with time zone,
  "revoked_at"   timestamp with time zone,
  CONSTRAINT "ingest_tokens_hash_is_sha256_hex" CHECK ((token_hash ~ '^[0-9a-f]{64}$'::text)),
  CONSTRAINT "ingest_tokens_name_not_blank" CHECK ((btrim(name) <> ''::text)),
  CONSTRAINT "ingest_tokens_pkey" PRIMARY KEY (id),
  CONSTRAINT "ingest_tokens_token_hash_key" UNIQUE (token_hash)
);

ALTER TABLE "benchwatch_private"."ingest_tokens"
  ENABLE ROW LEVEL SECURITY;

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."ingest_tokens" TO "postgres";

COMMENT ON COLUMN "benchwatch_private"."ingest_tokens"."last_used_at" IS 'Last successful authentication, to within a minute.';

COMMENT ON COLUMN "benchwatch_private"."ingest_tokens"."token_hash" IS 'encode(sha256(token), ''hex''); the token itself is never stored.';

COMMENT ON COLUMN "benchwatch_private"."ingest_tokens"."token_prefix" IS 'The first 10 characters of the token (bw_ and 7 more), so a user can tell tokens apart.';

COMMENT ON TABLE "benchwatch_private"."ingest_tokens" IS 'Per-project ingest tokens for CI: only the SHA-256 hash (hex) of each token is kept, with its first 10 characters to recognise it; revoked_at ends it.';
