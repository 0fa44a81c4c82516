CREATE TABLE "public"."benchmark_transactions_archive" (
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
  "tags"             text[]                   NOT NULL DEFAULT '{}'::text[],
  "notes"            text,
  "created_at"       timestamp with time zone NOT NULL,
  "archived_at"      timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "benchmark_transactions_archive_pkey" PRIMARY KEY (id)
);

ALTER TABLE "public"."benchmark_transactions_archive"
  ENABLE ROW LEVEL SECURITY;

CREATE INDEX benchmark_transactions_archive_commit_sha_idx ON public.benchmark_transactions_archive USING btree (commit_sha);

CREATE INDEX benchmark_transactions_archive_created_at_idx ON public.benchmark_transactions_archive USING btree (created_at);

CREATE INDEX benchmark_transactions_archive_series_idx ON public.benchmark_transactions_archive
  USING btree (model_version, model_provider, dataset_version, prompt_version, environment, created_at DESC);

CREATE POLICY "benchmark_transactions_archive_insert_service_role" ON "public"."benchmark_transactions_archive"
  FOR INSERT
  TO "service_role"
  WITH CHECK (true);

CREATE POLICY "benchmark_transactions_archive_select_anon" ON "public"."benchmark_transactions_archive"
  FOR SELECT
  TO "anon"
  USING (true);

CREATE POLICY "benchmark_transactions_archive_select_authenticated" ON "public"."benchmark_transactions_archive"
  FOR SELECT
  TO "authenticated"
  USING (true);

CREATE POLICY "benchmark_transactions_archive_select_service_role" ON "public"."benchmark_transactions_archive"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT SELECT ON TABLE "public"."benchmark_transactions_archive" TO "anon", "authenticated";

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."benchmark_transactions_archive" TO "postgres";

GRANT INSERT, SELECT ON TABLE "public"."benchmark_transactions_archive" TO "service_role";

COMMENT ON TABLE "public"."benchmark_transactions_archive" IS 'Runs moved out of benchmark_transactions by archive_benchmarks() once older than the retention window; same columns plus archived_at.';
