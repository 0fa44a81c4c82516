CREATE TABLE "public"."benchmark_transactions" (
  "id"               uuid                     NOT NULL,
  "commit_sha"       text                     NOT NULL,
  "branch_name"      text,
  "model_version"    text                     NOT NULL,
  "model_provider"   text                     NOT NULL,
  "dataset_version"  text                     NOT NULL,
  "dataset_size"     integer,
  "prompt_version"   text                     NOT NULL,
  "environment"      text                     NOT NULL,
  "run_id"           text,
  "triggered_by"     text,
  "metrics"          jsonb                    NOT NULL,
  "duration_seconds" numeric,
  "tags"             text[]                   NOT NULL,
  "notes"            text,
  "created_at"       timestamp with time zone NOT NULL
) PARTITION BY RANGE (created_at);

ALTER TABLE "public"."benchmark_transactions"
  ENABLE ROW LEVEL SECURITY;

ALTER TABLE "public"."benchmark_transactions"
  ALTER COLUMN "created_at" SET DEFAULT now();

ALTER TABLE "public"."benchmark_transactions"
  ALTER COLUMN "id" SET DEFAULT gen_random_uuid();

ALTER TABLE "public"."benchmark_transactions"
  ALTER COLUMN "tags" SET DEFAULT '{}'::text[];

ALTER TABLE "public"."benchmark_transactions"
  ADD CONSTRAINT "benchmark_transactions_dataset_size_nonnegative" CHECK (((dataset_size IS NULL) OR (dataset_size >= 0)));

ALTER TABLE "public"."benchmark_transactions"
  ADD CONSTRAINT "benchmark_transactions_duration_nonnegative" CHECK (((duration_seconds IS NULL) OR (duration_seconds >= (0)::numeric)));

ALTER TABLE "public"."benchmark_transactions"
  ADD CONSTRAINT "benchmark_transactions_pkey" PRIMARY KEY (id, created_at);

CREATE INDEX benchmark_transactions_commit_sha_idx ON ONLY public.benchmark_transactions USING btree (commit_sha);

CREATE INDEX benchmark_transactions_created_at_idx ON ONLY public.benchmark_transactions USING btree (created_at);

CREATE INDEX benchmark_transactions_series_idx ON ONLY public.benchmark_transactions
  USING btree (model_version, model_provider, dataset_version, prompt_version, environment, created_at DESC);

CREATE TRIGGER benchmark_transactions_append_only
  BEFORE UPDATE ON public.benchmark_transactions
  FOR EACH ROW
  EXECUTE FUNCTION benchwatch_private.tg_benchmark_transactions__append_only();

CREATE CONSTRAINT TRIGGER benchmark_transactions_notify_webhook
  AFTER INSERT ON public.benchmark_transactions DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW
  EXECUTE FUNCTION benchwatch_private.tg_benchmark_transactions__notify_webhook();

CREATE POLICY "benchmark_transactions_delete_service_role" ON "public"."benchmark_transactions"
  FOR DELETE
  TO "service_role"
  USING (true);

CREATE POLICY "benchmark_transactions_select_anon" ON "public"."benchmark_transactions"
  FOR SELECT
  TO "anon"
  USING (true);

CREATE POLICY "benchmark_transactions_select_authenticated" ON "public"."benchmark_transactions"
  FOR SELECT
  TO "authenticated"
  USING (true);

CREATE POLICY "benchmark_transactions_select_service_role" ON "public"."benchmark_transactions"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT SELECT ON TABLE "public"."benchmark_transactions" TO "anon", "authenticated";

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."benchmark_transactions" TO "postgres";

GRANT DELETE, SELECT ON TABLE "public"."benchmark_transactions" TO "service_role";

ALTER TABLE "public"."benchmark_transactions"
  ADD CONSTRAINT "benchmark_transactions_metrics_valid" CHECK (benchwatch_private.metrics_are_valid(metrics));

COMMENT ON COLUMN "public"."benchmark_transactions"."metrics" IS 'Metric name to finite number, e.g. {"f1": 0.895, "latency_ms": 412}.';

COMMENT ON TABLE "public"."benchmark_transactions" IS 'Append-only log of every benchmark run, partitioned by month on created_at; written only through upsert_benchmark_result / the ingest function.';
