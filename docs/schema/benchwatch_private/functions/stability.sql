CREATE OR REPLACE FUNCTION benchwatch_private.stability (
  p_filters     jsonb   DEFAULT '{}'::jsonb,
  p_window_days integer DEFAULT 30
)
  RETURNS jsonb
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_filters jsonb := coalesce(p_filters, '{}'::jsonb);
  v_unknown text;
  v_since timestamptz;
  v_result jsonb;
begin
  if pg_catalog.jsonb_typeof(v_filters) <> 'object' then
    raise exception using errcode = 'BW020', message = 'Cannot read stability: filters must be a JSON object';
  end if;
  select pg_catalog.string_agg(k, ', ' order by k) into v_unknown
  from pg_catalog.jsonb_object_keys(v_filters) as k
  where k <> all (array['model_version', 'model_provider', 'dataset_version', 'prompt_version', 'environment']);
  if v_unknown is not null then
    raise exception using errcode = 'BW020',
      message = pg_catalog.format('Cannot read stability: unknown filter %s', v_unknown);
  end if;
  if p_window_days is null or p_window_days < 1 or p_window_days > 3650 then
    raise exception using errcode = 'BW020',
      message = 'Cannot read stability: window_days must be between 1 and 3650';
  end if;
  v_since := pg_catalog.now() - pg_catalog.make_interval(days => p_window_days);

  with runs as (
    select t.environment, t.model_version, t.model_provider, t.dataset_version, t.prompt_version, t.metrics
    from public.benchmark_transactions t
    where t.created_at >= v_since
      and (v_filters ->> 'model_version' is null or t.model_version = v_filters ->> 'model_version')
      and (v_filters ->> 'model_provider' is null or t.model_provider = v_filters ->> 'model_provider')
      and (v_filters ->> 'dataset_version' is null or t.dataset_version = v_filters ->> 'dataset_version')
      and (v_filters ->> 'prompt_version' is null or t.prompt_version = v_filters ->> 'prompt_version')
      and (v_filters ->> 'environment' is null or t.environment = v_filters ->> 'environment')
  ),
  per_env as (
    select r.environment, pg_catalog.count(*)::integer as runs,
           pg_catalog.count(distinct (r.model_version, r.model_provider, r.dataset_version, r.prompt_version))::integer as series
    from runs r
    group by r.environment
  ),
  -- Spread is measured within each series (one model, dataset and prompt), then averaged
  -- over the environment's series, so two different models are not mistaken for noise.
  per_series_metric as (
    select r.environment, r.model_version, r.model_provider, r.dataset_version, r.prompt_version,
           m.key as metric, pg_catalog.count(*)::integer as runs,
           pg_catalog.avg((m.value #>> '{}')::numeric) as mean,
           pg_catalog.stddev_samp((m.value #>> '{}')::numeric) as stddev,
           pg_catalog.min((m.value #>> '{}')::numeric) as min,
           pg_catalog.max((m.value #>> '{}')::numeric) as max
    from runs r
    cross join lateral pg_catalog.jsonb_each(r.metrics) as m(key, value)
    where pg_catalog.jsonb_typeof(m.value) = 'number'
    group by r.environment, r.model_version, r.model_provider, r.dataset_version, r.prompt_version, m.key
  ),
  per_metric as (
    select p.environment, p.metric, pg_catalog.sum(p.runs)::integer as runs,
           pg_catalog.sum(p.mean * p.runs) / pg_catalog.sum(p.runs) as mean,
           pg_catalog.avg(p.stddev) as stddev,
           pg_catalog.avg(case when p.mean <> 0 then p.stddev / abs(p.mean) end) as cv,
           pg_catalog.max(case when p.mean <> 0 then p.stddev / abs(p.mean) end) as cv_max,
           pg_catalog.min(p.min) as min,
           pg_catalog.max(p.max) as max
    from per_series_metric p
    group by p.environment, p.metric
  ),
  alerts as (
    select a.environment, pg_catalog.count(*)::integer as opened
    from public.regression_alerts a
    where a.opened_at >= v_since
      and (v_filters ->> 'model_version' is null or a.model_version = v_filters ->> 'model_version')
      and (v_filters ->> 'model_provider' is null or a.model_provider = v_filters ->> 'model_provider')
      and (v_filters ->> 'dataset_version' is null or a.dataset_version = v_filters ->> 'dataset_version')
      and (v_filters ->> 'prompt_version' is null or a.prompt_version = v_filters ->> 'prompt_version')
      and (v_filters ->> 'environment' is null or a.environment = v_filters ->> 'environment')
    group by a.environment
  ),
  regressed_runs as (
    select a.environment, pg_catalog.count(distinct a.opened_transaction_id)::integer as runs
    from public.regression_alerts a
    where a.opened_at >= v_since
      and (v_filters ->> 'model_version' is null or a.model_version = v_filters ->> 'model_version')
      and (v_filters ->> 'model_provider' is null or a.model_provider = v_filters ->> 'model_provider')
      and (v_filters ->> 'dataset_version' is null or a.dataset_version = v_filters ->> 'dataset_version')
      and (v_filters ->> 'prompt_version' is null or a.prompt_version = v_filters ->> 'prompt_version')
      and (v_filters ->> 'environment' is null or a.environment = v_filters ->> 'environment')
    group by a.environment
  )
  select pg_catalog.jsonb_build_object(
    'window_days', p_window_days,
    'since', v_since,
    'environments', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
      'environment', e.environment,
      'runs', e.runs,
      'series', e.series,
      'alerts_opened', coalesce(al.opened, 0),
      'regressed_runs', coalesce(rr.runs, 0),
      'regression_rate', pg_catalog.round(coalesce(rr.runs, 0)::numeric / e.runs, 6),
      'metrics', (
        select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
          'metric', pm.metric,
          'runs', pm.runs,
          'mean', pg_catalog.round(pm.mean, 6),
          'stddev', pg_catalog.round(pm.stddev, 6),
          'cv', pg_catalog.round(pm.cv, 6),
          'cv_max', pg_catalog.round(pm.cv_max, 6),
          'min', pm.min,
          'max', pm.max) order by pm.metric), '[]'::jsonb)
        from per_metric pm
        where pm.environment = e.environment)
    ) order by e.environment), '[]'::jsonb))
  into v_result
  from per_env e
  left join alerts al on al.environment = e.environment
  left join regressed_runs rr on rr.environment = e.environment;

  return v_result;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."stability"(jsonb, integer) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."stability"(jsonb, integer) IS 'Per environment over the last p_window_days: runs, series, alerts opened, share of runs that regressed, and per metric the run-weighted mean, the within-series standard deviation and coefficient of variation (averaged over series; cv_max the worst series), min and max. Filters: the five series keys. BW020 on bad input.';

REVOKE ALL ON FUNCTION "benchwatch_private"."stability"(jsonb, integer) FROM PUBLIC;
