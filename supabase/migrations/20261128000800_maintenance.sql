-- Maintenance: archival and daily statistics, each run by a pg_cron job.
--
-- * `public.benchmark_transactions_archive` and `archive_benchmarks(retention)`: runs older
--   than the retention window (default one year) move out of benchmark_transactions; the job
--   `archive-benchmarks` runs it nightly.
-- * `public.mv_daily_stats`: daily averages per model (date, model_version, avg_f1, run_count
--   and more), refreshed nightly by the job `refresh-daily-stats` with
--   REFRESH MATERIALIZED VIEW CONCURRENTLY.

-- Tables --------------------------------------------------------------------------------------

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

COMMENT ON TABLE "public"."benchmark_transactions_archive" IS 'Runs moved out of benchmark_transactions by archive_benchmarks() once older than the retention window; same columns plus archived_at.';

-- Functions -----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION public.archive_benchmarks (
  older_than interval DEFAULT '1 year'::interval
)
  RETURNS integer
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_moved integer;
begin
  if archive_benchmarks.older_than is null or archive_benchmarks.older_than <= interval '0' then
    raise exception using
      errcode = '22023',
      message = 'Cannot archive runs: older_than must be a positive interval such as ''1 year''',
      detail = pg_catalog.format('older_than = %s', coalesce(archive_benchmarks.older_than::text, 'null'));
  end if;

  with moved as (
    delete from public.benchmark_transactions t
    where t.created_at < pg_catalog.now() - archive_benchmarks.older_than
    returning t.*
  )
  insert into public.benchmark_transactions_archive (
    id, commit_sha, branch_name, model_version, model_provider, dataset_version, dataset_size,
    prompt_version, environment, run_id, triggered_by, metrics, duration_seconds, tags, notes,
    created_at, archived_at)
  select m.id, m.commit_sha, m.branch_name, m.model_version, m.model_provider, m.dataset_version,
         m.dataset_size, m.prompt_version, m.environment, m.run_id, m.triggered_by, m.metrics,
         m.duration_seconds, m.tags, m.notes, m.created_at, pg_catalog.now()
  from moved m;

  get diagnostics v_moved = row_count;
  return v_moved;
end
$function$;

COMMENT ON FUNCTION "public"."archive_benchmarks"(interval) IS 'Moves runs older than older_than (default 1 year) from benchmark_transactions into benchmark_transactions_archive; returns how many it moved.';

REVOKE ALL ON FUNCTION "public"."archive_benchmarks"(interval) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "public"."archive_benchmarks"(interval) TO "service_role";

-- Triggers, row level security policies and grants --------------------------------------------

REVOKE ALL ON TABLE "public"."benchmark_transactions_archive" FROM PUBLIC, "anon", "authenticated", "service_role";

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

GRANT INSERT, SELECT ON TABLE "public"."benchmark_transactions_archive" TO "service_role";

-- Views ---------------------------------------------------------------------------------------

CREATE MATERIALIZED VIEW "public"."mv_daily_stats"
  AS  WITH runs AS (
         SELECT t.created_at,
            t.model_version,
            t.environment,
            t.metrics,
            t.duration_seconds
           FROM public.benchmark_transactions t
        UNION ALL
         SELECT a.created_at,
            a.model_version,
            a.environment,
            a.metrics,
            a.duration_seconds
           FROM public.benchmark_transactions_archive a
        ), days AS (
         SELECT ((r.created_at AT TIME ZONE 'UTC'::text))::date AS date,
            r.model_version,
            r.environment,
            r.metrics,
            r.duration_seconds
           FROM runs r
        ), per_metric AS (
         SELECT d_1.date,
            d_1.model_version,
            m.key,
            avg((m.value)::numeric) AS avg_value
           FROM (days d_1
             CROSS JOIN LATERAL jsonb_each_text(d_1.metrics) m(key, value))
          GROUP BY d_1.date, d_1.model_version, m.key
        )
 SELECT d.date,
    d.model_version,
    avg(((d.metrics ->> 'f1'::text))::numeric) AS avg_f1,
    count(*) AS run_count,
    avg(((d.metrics ->> 'precision'::text))::numeric) AS avg_precision,
    avg(((d.metrics ->> 'recall'::text))::numeric) AS avg_recall,
    avg(((d.metrics ->> 'accuracy'::text))::numeric) AS avg_accuracy,
    avg(((d.metrics ->> 'latency_ms'::text))::numeric) AS avg_latency_ms,
    min(((d.metrics ->> 'f1'::text))::numeric) AS min_f1,
    max(((d.metrics ->> 'f1'::text))::numeric) AS max_f1,
    stddev_samp(((d.metrics ->> 'f1'::text))::numeric) AS stddev_f1,
    avg(d.duration_seconds) AS avg_duration_seconds,
    array_agg(DISTINCT d.environment ORDER BY d.environment) AS environments,
    ( SELECT jsonb_object_agg(pm.key, pm.avg_value ORDER BY pm.key) AS jsonb_object_agg
           FROM per_metric pm
          WHERE ((pm.date = d.date) AND (pm.model_version = d.model_version))) AS avg_metrics
   FROM days d
  GROUP BY d.date, d.model_version;

CREATE UNIQUE INDEX mv_daily_stats_date_model_key ON public.mv_daily_stats USING btree (date, model_version);

CREATE INDEX mv_daily_stats_model_date_idx ON public.mv_daily_stats USING btree (model_version, date DESC);

COMMENT ON MATERIALIZED VIEW "public"."mv_daily_stats" IS 'Daily (UTC) rollup per model_version: avg_f1, run_count, other headline metric averages, f1 spread, environments and every metric''s average. Refreshed nightly by the refresh-daily-stats pg_cron job.';

REVOKE ALL ON TABLE "public"."mv_daily_stats" FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT SELECT ON TABLE "public"."mv_daily_stats" TO "anon", "authenticated";

GRANT SELECT ON TABLE "public"."mv_daily_stats" TO "service_role";

-- Jobs ----------------------------------------------------------------------------------------

SELECT cron.schedule('archive-benchmarks', '30 2 * * *', 'select public.archive_benchmarks()');

SELECT cron.schedule(
  'refresh-daily-stats',
  '0 1 * * *',
  'REFRESH MATERIALIZED VIEW CONCURRENTLY public.mv_daily_stats'
);
