-- Why: the dashboard's trend charts read daily rollups instead of scanning the
-- log. `mv_daily_stats` keeps the setup guide's shape (date, model_version,
-- avg_f1, run_count) and adds what the dashboard plots: the other headline
-- metrics, the spread of f1, and every metric's daily average as jsonb. It reads
-- the archive too, so archiving old runs never changes past days. The unique
-- index lets pg_cron's `refresh-daily-stats` job refresh it CONCURRENTLY.
-- Days are UTC days.

create extension if not exists pg_cron;

create materialized view public.mv_daily_stats as
with runs as (
  select t.created_at, t.model_version, t.environment, t.metrics, t.duration_seconds
  from public.benchmark_transactions t
  union all
  select a.created_at, a.model_version, a.environment, a.metrics, a.duration_seconds
  from public.benchmark_transactions_archive a
),
days as (
  select (r.created_at at time zone 'UTC')::date as date,
         r.model_version,
         r.environment,
         r.metrics,
         r.duration_seconds
  from runs r
),
per_metric as (
  select d.date, d.model_version, m.key, avg(m.value::numeric) as avg_value
  from days d
  cross join lateral jsonb_each_text(d.metrics) as m(key, value)
  group by d.date, d.model_version, m.key
)
select d.date,
       d.model_version,
       avg((d.metrics ->> 'f1')::numeric) as avg_f1,
       count(*)::bigint as run_count,
       avg((d.metrics ->> 'precision')::numeric) as avg_precision,
       avg((d.metrics ->> 'recall')::numeric) as avg_recall,
       avg((d.metrics ->> 'accuracy')::numeric) as avg_accuracy,
       avg((d.metrics ->> 'latency_ms')::numeric) as avg_latency_ms,
       min((d.metrics ->> 'f1')::numeric) as min_f1,
       max((d.metrics ->> 'f1')::numeric) as max_f1,
       stddev_samp((d.metrics ->> 'f1')::numeric) as stddev_f1,
       avg(d.duration_seconds) as avg_duration_seconds,
       array_agg(distinct d.environment order by d.environment) as environments,
       (select jsonb_object_agg(pm.key, pm.avg_value order by pm.key)
        from per_metric pm
        where pm.date = d.date and pm.model_version = d.model_version) as avg_metrics
from days d
group by d.date, d.model_version
with data;

comment on materialized view public.mv_daily_stats is
  'Daily (UTC) rollup per model_version: avg_f1, run_count, other headline metric averages, f1 spread, environments and every metric''s average. Refreshed nightly by the refresh-daily-stats pg_cron job.';

create unique index mv_daily_stats_date_model_key on public.mv_daily_stats (date, model_version);
create index mv_daily_stats_model_date_idx on public.mv_daily_stats (model_version, date desc);

revoke all on table public.mv_daily_stats from public, anon, authenticated, service_role;
grant select on table public.mv_daily_stats to anon, authenticated, service_role;

select cron.schedule(
  'refresh-daily-stats',
  '0 1 * * *',
  'REFRESH MATERIALIZED VIEW CONCURRENTLY public.mv_daily_stats'
);
