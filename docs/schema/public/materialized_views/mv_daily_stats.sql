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

GRANT SELECT ON TABLE "public"."mv_daily_stats" TO "anon", "authenticated";

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."mv_daily_stats" TO "postgres";

GRANT SELECT ON TABLE "public"."mv_daily_stats" TO "service_role";

COMMENT ON MATERIALIZED VIEW "public"."mv_daily_stats" IS 'Daily (UTC) rollup per model_version: avg_f1, run_count, other headline metric averages, f1 spread, environments and every metric''s average. Refreshed nightly by the refresh-daily-stats pg_cron job.';
