-- Why: the dashboard's read API (the `benchmarks` Edge Function), one SQL call
-- per view, with the regression rules applied in one place:
--   * filter_values and series_list: what there is to look at (active series);
--   * current_snapshot: the latest run of each series with its deltas against
--     the baseline that applies to it (compare_run, the same logic as ingest and
--     detect_regression, at the default 5% threshold and metric policies);
--   * metric_trend: one metric of one series over time, raw runs or, over a
--     long range, daily aggregates, with the baseline and the alerts to mark.
-- Runs moved to the archive stay in trends.

create or replace function benchwatch_private.filter_values()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  with active as (
    select s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment, s.tags
    from public.benchmark_snapshots s
    where s.pinned_at is null
      and s.is_active
  )
  select pg_catalog.jsonb_build_object(
    'model_version', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
                      from (select distinct a.model_version as value from active a) as v),
    'model_provider', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
                       from (select distinct a.model_provider as value from active a) as v),
    'dataset_version', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
                        from (select distinct a.dataset_version as value from active a) as v),
    'prompt_version', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
                       from (select distinct a.prompt_version as value from active a) as v),
    'environment', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
                    from (select distinct a.environment as value from active a) as v),
    'tags', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
             from (select distinct t.value from active a cross join lateral pg_catalog.unnest(a.tags) as t(value)) as v))
$$;

comment on function benchwatch_private.filter_values() is
  'Distinct sorted model_version, model_provider, dataset_version, prompt_version, environment and tags values over the active latest snapshots, for the dashboard''s filters.';

revoke execute on function benchwatch_private.filter_values() from public, anon, authenticated;
grant execute on function benchwatch_private.filter_values() to service_role;

create or replace function benchwatch_private.series_list()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'model_version', s.model_version,
           'model_provider', s.model_provider,
           'dataset_version', s.dataset_version,
           'prompt_version', s.prompt_version,
           'environment', s.environment,
           'last_run_at', s.created_at,
           'metrics', (select coalesce(pg_catalog.jsonb_agg(k.key order by k.key), '[]'::jsonb)
                       from pg_catalog.jsonb_object_keys(s.metrics) as k(key)))
         order by s.model_version, s.dataset_version, s.environment, s.model_provider, s.prompt_version),
         '[]'::jsonb)
  from public.benchmark_snapshots s
  where s.pinned_at is null
    and s.is_active
$$;

comment on function benchwatch_private.series_list() is
  'Every active series (model_version, model_provider, dataset_version, prompt_version, environment) with its last run time and metric names.';

revoke execute on function benchwatch_private.series_list() from public, anon, authenticated;
grant execute on function benchwatch_private.series_list() to service_role;

create or replace function benchwatch_private.current_snapshot(p_filters jsonb)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_filters jsonb := coalesce(p_filters, '{}'::jsonb);
  v_tags text[];
  v_result jsonb;
begin
  perform benchwatch_private.assert_valid_filters(p_filters,
    array['model_version', 'model_provider', 'dataset_version', 'prompt_version', 'environment',
          'tags', 'since', 'until'],
    'read the snapshot');
  if pg_catalog.jsonb_typeof(v_filters) = 'null' then
    v_filters := '{}'::jsonb;
  end if;
  if pg_catalog.jsonb_typeof(v_filters -> 'tags') = 'array' then
    v_tags := array(select t.value from pg_catalog.jsonb_array_elements_text(v_filters -> 'tags') as t(value));
  end if;

  select pg_catalog.jsonb_build_object('series', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'snapshot_id', s.id,
           'transaction_id', s.transaction_id,
           'series', pg_catalog.jsonb_build_object(
             'model_version', s.model_version,
             'model_provider', s.model_provider,
             'dataset_version', s.dataset_version,
             'prompt_version', s.prompt_version,
             'environment', s.environment),
           'commit_sha', s.commit_sha,
           'branch_name', s.branch_name,
           'run_id', s.run_id,
           'triggered_by', s.triggered_by,
           'tags', pg_catalog.to_jsonb(s.tags),
           'created_at', s.created_at,
           'has_own_baseline', exists (
             select 1 from public.benchmark_snapshots b
             where b.pinned_at is not null
               and b.model_version = s.model_version
               and b.model_provider = s.model_provider
               and b.dataset_version = s.dataset_version
               and b.prompt_version = s.prompt_version
               and b.environment = s.environment),
           'baseline', c.baseline,
           'prompt_mismatch', coalesce(c.prompt_mismatch, false),
           'open_alerts', (
             select pg_catalog.count(*)::integer from public.regression_alerts a
             where a.status = 'open'
               and a.model_version = s.model_version
               and a.model_provider = s.model_provider
               and a.dataset_version = s.dataset_version
               and a.prompt_version = s.prompt_version
               and a.environment = s.environment),
           'status', case
             when c.regressed then 'regressed'
             when c.baseline is null then 'no_baseline'
             else 'ok'
           end,
           'metrics', coalesce(c.metrics, '[]'::jsonb))
         order by s.model_version, s.dataset_version, s.environment, s.model_provider, s.prompt_version),
         '[]'::jsonb))
  into v_result
  from public.benchmark_snapshots s
  cross join lateral (
    select coalesce(pg_catalog.bool_or(r.is_regression), false) as regressed,
           pg_catalog.bool_or(r.prompt_mismatch) as prompt_mismatch,
           (pg_catalog.array_agg(pg_catalog.jsonb_build_object(
              'model_version', r.baseline_model_version,
              'transaction_id', r.baseline_transaction_id,
              'pinned_at', r.baseline_pinned_at,
              'prompt_version', r.baseline_prompt_version))
            filter (where r.baseline_snapshot_id is not null))[1] as baseline,
           pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'metric', r.metric_name,
             'current', r.current_value,
             'baseline', r.baseline_value,
             'relative_change', r.relative_change,
             'absolute_change', r.absolute_change,
             'direction', case r.direction when 'higher' then 'higher_is_better' else 'lower_is_better' end,
             'is_regression', r.is_regression,
             'status', r.status)
             order by r.metric_name) as metrics
    from benchwatch_private.compare_run(
      s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
      s.metrics, 0.05) as r
  ) as c
  where s.pinned_at is null
    and s.is_active
    and (v_filters ->> 'model_version' is null or s.model_version = v_filters ->> 'model_version')
    and (v_filters ->> 'model_provider' is null or s.model_provider = v_filters ->> 'model_provider')
    and (v_filters ->> 'dataset_version' is null or s.dataset_version = v_filters ->> 'dataset_version')
    and (v_filters ->> 'prompt_version' is null or s.prompt_version = v_filters ->> 'prompt_version')
    and (v_filters ->> 'environment' is null or s.environment = v_filters ->> 'environment')
    and (v_tags is null or s.tags operator(pg_catalog.&&) v_tags)
    and (v_filters ->> 'since' is null or s.created_at >= (v_filters ->> 'since')::timestamptz)
    and (v_filters ->> 'until' is null or s.created_at <= (v_filters ->> 'until')::timestamptz);

  return v_result;
end
$$;

comment on function benchwatch_private.current_snapshot(jsonb) is
  'The latest run of every active series matching the filters (series fields, tags overlap, since/until on the run time), each with its baseline, prompt mismatch, open alert count, status and per-metric deltas (compare_run at 5%).';

revoke execute on function benchwatch_private.current_snapshot(jsonb) from public, anon, authenticated;
grant execute on function benchwatch_private.current_snapshot(jsonb) to service_role;

create or replace function benchwatch_private.metric_trend(
  p_series jsonb,
  p_metric text,
  p_from timestamptz default null,
  p_to timestamptz default null,
  p_max_points integer default 2000
)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_key text;
  v_model_version text;
  v_model_provider text;
  v_dataset_version text;
  v_prompt_version text;
  v_environment text;
  v_from timestamptz := coalesce(p_from, pg_catalog.now() - interval '90 days');
  v_to timestamptz := coalesce(p_to, pg_catalog.now());
  v_max integer := coalesce(p_max_points, 2000);
  v_runs bigint;
  v_resolution text;
  v_points jsonb;
  v_baseline jsonb;
  v_direction text;
  v_alerts jsonb;
begin
  if p_series is null or pg_catalog.jsonb_typeof(p_series) <> 'object' then
    raise exception using
      errcode = 'BW021',
      message = 'Cannot read the trend: series must be a JSON object with model_version, model_provider, dataset_version, prompt_version and environment';
  end if;
  foreach v_key in array array['model_version', 'model_provider', 'dataset_version', 'prompt_version', 'environment'] loop
    if pg_catalog.jsonb_typeof(p_series -> v_key) is distinct from 'string'
       or pg_catalog.btrim(p_series ->> v_key) = '' then
      raise exception using
        errcode = 'BW021',
        message = pg_catalog.format('Cannot read the trend: series.%s is required', v_key);
    end if;
  end loop;
  if p_metric is null or pg_catalog.btrim(p_metric) = '' then
    raise exception using
      errcode = 'BW021',
      message = 'Cannot read the trend: metric is required';
  end if;
  if v_from > v_to then
    raise exception using
      errcode = 'BW021',
      message = 'Cannot read the trend: from must not be after to',
      detail = pg_catalog.format('from = %s, to = %s', v_from, v_to);
  end if;
  if v_max < 1 then
    raise exception using
      errcode = 'BW021',
      message = 'Cannot read the trend: max_points must be at least 1',
      detail = pg_catalog.format('got %s', v_max);
  end if;

  v_model_version := p_series ->> 'model_version';
  v_model_provider := p_series ->> 'model_provider';
  v_dataset_version := p_series ->> 'dataset_version';
  v_prompt_version := p_series ->> 'prompt_version';
  v_environment := p_series ->> 'environment';

  -- Both reads use the series indexes (series columns, created_at).
  select pg_catalog.count(*) into v_runs
  from (
    select t.id from public.benchmark_transactions t
    where t.model_version = v_model_version and t.model_provider = v_model_provider
      and t.dataset_version = v_dataset_version and t.prompt_version = v_prompt_version
      and t.environment = v_environment and t.created_at between v_from and v_to
      and t.metrics operator(pg_catalog.?) p_metric
    union all
    select ar.id from public.benchmark_transactions_archive ar
    where ar.model_version = v_model_version and ar.model_provider = v_model_provider
      and ar.dataset_version = v_dataset_version and ar.prompt_version = v_prompt_version
      and ar.environment = v_environment and ar.created_at between v_from and v_to
      and ar.metrics operator(pg_catalog.?) p_metric
  ) as runs;

  if v_runs <= v_max then
    v_resolution := 'raw';
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             't', r.created_at,
             'value', r.metrics -> p_metric,
             'transaction_id', r.id,
             'commit_sha', r.commit_sha,
             'branch_name', r.branch_name)
           order by r.created_at, r.id), '[]'::jsonb)
    into v_points
    from (
      select t.id, t.created_at, t.metrics, t.commit_sha, t.branch_name
      from public.benchmark_transactions t
      where t.model_version = v_model_version and t.model_provider = v_model_provider
        and t.dataset_version = v_dataset_version and t.prompt_version = v_prompt_version
        and t.environment = v_environment and t.created_at between v_from and v_to
        and t.metrics operator(pg_catalog.?) p_metric
      union all
      select ar.id, ar.created_at, ar.metrics, ar.commit_sha, ar.branch_name
      from public.benchmark_transactions_archive ar
      where ar.model_version = v_model_version and ar.model_provider = v_model_provider
        and ar.dataset_version = v_dataset_version and ar.prompt_version = v_prompt_version
        and ar.environment = v_environment and ar.created_at between v_from and v_to
        and ar.metrics operator(pg_catalog.?) p_metric
    ) as r;
  else
    v_resolution := 'daily';
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             't', (d.day::timestamp) at time zone 'UTC',
             'value', d.avg_value,
             'min', d.min_value,
             'max', d.max_value,
             'runs', d.runs)
           order by d.day), '[]'::jsonb)
    into v_points
    from (
      select (r.created_at at time zone 'UTC')::date as day,
             pg_catalog.avg(r.value) as avg_value,
             pg_catalog.min(r.value) as min_value,
             pg_catalog.max(r.value) as max_value,
             pg_catalog.count(*) as runs
      from (
        select t.created_at, (t.metrics ->> p_metric)::numeric as value
        from public.benchmark_transactions t
        where t.model_version = v_model_version and t.model_provider = v_model_provider
          and t.dataset_version = v_dataset_version and t.prompt_version = v_prompt_version
          and t.environment = v_environment and t.created_at between v_from and v_to
          and t.metrics operator(pg_catalog.?) p_metric
        union all
        select ar.created_at, (ar.metrics ->> p_metric)::numeric
        from public.benchmark_transactions_archive ar
        where ar.model_version = v_model_version and ar.model_provider = v_model_provider
          and ar.dataset_version = v_dataset_version and ar.prompt_version = v_prompt_version
          and ar.environment = v_environment and ar.created_at between v_from and v_to
          and ar.metrics operator(pg_catalog.?) p_metric
      ) as r
      group by 1
    ) as d;
  end if;

  -- The baseline that applies to the series, by compare_run's own resolution rule.
  select case when c.baseline_snapshot_id is not null then pg_catalog.jsonb_build_object(
           'value', c.baseline_value,
           'transaction_id', c.baseline_transaction_id,
           'model_version', c.baseline_model_version,
           'pinned_at', c.baseline_pinned_at) end,
         case c.direction when 'higher' then 'higher_is_better' else 'lower_is_better' end
  into v_baseline, v_direction
  from benchwatch_private.compare_run(
    v_model_version, v_model_provider, v_dataset_version, v_prompt_version, v_environment,
    pg_catalog.jsonb_build_object(p_metric, 0), 0.05) as c
  where c.metric_name = p_metric;

  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'id', a.id,
           'opened_at', a.opened_at,
           'opened_transaction_id', a.opened_transaction_id,
           'opened_value', a.opened_value,
           'resolved_at', a.resolved_at,
           'status', a.status)
         order by a.opened_at, a.id), '[]'::jsonb)
  into v_alerts
  from public.regression_alerts a
  where a.model_version = v_model_version and a.model_provider = v_model_provider
    and a.dataset_version = v_dataset_version and a.prompt_version = v_prompt_version
    and a.environment = v_environment and a.metric_name = p_metric;

  return pg_catalog.jsonb_build_object(
    'resolution', v_resolution,
    'points', v_points,
    'baseline', v_baseline,
    'alerts', v_alerts,
    'direction', v_direction);
end
$$;

comment on function benchwatch_private.metric_trend(jsonb, text, timestamptz, timestamptz, integer) is
  'One metric of one series between p_from and p_to (default: the last 90 days): raw runs when there are at most p_max_points, else daily (UTC) avg/min/max/runs; plus the applicable baseline, the series'' alerts on that metric, and the metric''s direction.';

revoke execute on function benchwatch_private.metric_trend(jsonb, text, timestamptz, timestamptz, integer) from public, anon, authenticated;
grant execute on function benchwatch_private.metric_trend(jsonb, text, timestamptz, timestamptz, integer) to service_role;
