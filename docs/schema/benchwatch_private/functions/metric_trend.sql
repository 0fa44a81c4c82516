CREATE OR REPLACE FUNCTION benchwatch_private.metric_trend (
  p_series     jsonb,
  p_metric     text,
  p_from       timestamp with time zone DEFAULT NULL::timestamp WITH time zone,
  p_to         timestamp with time zone DEFAULT NULL::timestamp WITH time zone,
  p_max_points integer                  DEFAULT 2000
)
  RETURNS jsonb
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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

  -- Both reads use the series indexes (series columns, created_at). Only whether there
  -- are more than v_max runs matters, so the count stops at v_max + 1.
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
    limit v_max + 1
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
         -- direction_unknown: null when the metric has no direction.
         case c.direction when 'higher' then 'higher_is_better' when 'lower' then 'lower_is_better' end
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
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metric_trend"(jsonb, text, timestamp WITH time zone, timestamp WITH time zone, integer) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."metric_trend"(jsonb, text, timestamp with time zone, timestamp with time zone, integer) IS 'One metric of one series between p_from and p_to (default: the last 90 days): raw runs when there are at most p_max_points, else daily (UTC) avg/min/max/runs; plus the applicable baseline, the series'' alerts on that metric, and the metric''s direction (null when it has none).';

REVOKE ALL ON FUNCTION "benchwatch_private"."metric_trend"(jsonb, text, timestamp WITH time zone, timestamp WITH time zone, integer) FROM PUBLIC;
