CREATE TABLE "benchwatch_private"."ingest_rate_counters" (
  "token_id"     uuid                     NOT NULL,
  "window_start" timestamp with time zone NOT NULL,
  "requests"     integer                  NOT NULL DEFAULT 0,
  CONSTRAINT "ingest_rate_counters_pkey" PRIMARY KEY (token_id, window_start),
  CONSTRAINT "ingest_rate_counters_token_fkey" FOREIGN KEY (token_id) REFERENCES benchwatch_private.ingest_tokens(id) ON DELETE CASCADE
);

ALTER TABLE "benchwatch_private"."ingest_rate_counters"
  ENABLE ROW LEVEL SECURITY;

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."ingest_rate_counters" TO "postgres";

COMMENT ON TABLE "benchwatch_private"."ingest_rate_counters" IS 'Requests per ingest token per calendar minute, for the per-token rate limit; pruned after an hour.';
