-- Read API: what the regressions, benchmarks and stability endpoints, the dashboard and
-- `benchwatch check` read, each one SQL call.
--
-- * The current snapshot with deltas against each series' baseline (`current_snapshot`,
--   paged, and `current_snapshot_json`), the filters' values, the series list and a metric's
--   trend over time.
-- * Open and resolved alerts (`list_alerts`) and stability per environment (`stability`).

-- Functions -----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benchwatch_private.with_snapshot_ids (
  p_answers jsonb[]
)
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SET search_path TO ''
  AS $function$
  select coalesce(pg_catalog.jsonb_agg(
           case when a.answer ? 'snapshot_id' then a.answer
                else a.answer || pg_catalog.jsonb_build_object('snapshot_id', s.id) end
           order by a.i), '[]'::jsonb)
  from pg_catalog.unnest(p_answers) with ordinality as a(answer, i)
  left join public.benchmark_snapshots s
    on s.pinned_at is null
   and s.model_version = a.answer -> 'series' ->> 'model_version'
   and s.model_provider = a.answer -> 'series' ->> 'model_provider'
   and s.dataset_version = a.answer -> 'series' ->> 'dataset_version'
   and s.prompt_version = a.answer -> 'series' ->> 'prompt_version'
   and s.environment = a.answer -> 'series' ->> 'environment'
$function$;

COMMENT ON FUNCTION "benchwatch_private"."with_snapshot_ids"(jsonb[]) IS 'Adds snapshot_id (the id of the series'' latest snapshot row) to each record_run answer; a JSON array in the same order.';

REVOKE ALL ON FUNCTION "benchwatch_private"."with_snapshot_ids"(jsonb[]) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."with_snapshot_ids"(jsonb[]) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.current_snapshot_json (
  p_filters jsonb
)
  RETURNS json
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  SET plan_cache_mode TO 'force_custom_plan'
  AS $function$
declare
  v_filters jsonb := coalesce(p_filters, '{}'::jsonb);
  v_tags text[];
  v_limit integer;
  v_offset integer := 0;
  v_offset_raw jsonb;
  v_result json;
begin
  -- offset is validated here; every other filter (limit included) by assert_valid_filters.
  if pg_catalog.jsonb_typeof(v_filters) = 'object' then
    v_offset_raw := v_filters -> 'offset';
    if coalesce(pg_catalog.jsonb_typeof(v_offset_raw), 'null') <> 'null' then
      if not ((pg_catalog.jsonb_typeof(v_offset_raw) = 'number'
               and (v_offset_raw #>> '{}') ~ '^\d{1,8}$')
              or (pg_catalog.jsonb_typeof(v_offset_raw) = 'string'
                  and (v_offset_raw #>> '{}') ~ '^\s*\d{1,8}\s*$')) then
        raise exception using
          errcode = 'BW020',
          message = 'Cannot read the snapshot: offset must be a whole number from 0 to 99999999',
          detail = pg_catalog.format('got %s', v_offset_raw);
      end if;
      v_offset := pg_catalog.btrim(v_offset_raw #>> '{}')::integer;
    end if;
    v_filters := v_filters - 'offset';
  end if;
  perform benchwatch_private.assert_valid_filters(v_filters,
    array['model_version', 'model_provider', 'dataset_version', 'prompt_version', 'environment',
          'tags', 'since', 'until', 'limit'],
    'read the snapshot');
  if pg_catalog.jsonb_typeof(v_filters) = 'null' then
    v_filters := '{}'::jsonb;
  end if;
  v_limit := coalesce(pg_catalog.btrim(v_filters ->> 'limit')::integer, 100);
  if pg_catalog.jsonb_typeof(v_filters -> 'tags') = 'array' then
    v_tags := array(select t.value from pg_catalog.jsonb_array_elements_text(v_filters -> 'tags') as t(value));
  end if;

  -- The filters are written once and inlined into each use: the count reads the matching
  -- series; the page takes the ids of its slice from benchmark_snapshots_page_order_idx
  -- (in order, no sort of every series), then reads those rows.
  with filtered as not materialized (
    select s.*
    from public.benchmark_snapshots s
    where s.pinned_at is null
      and s.is_active
      and (v_filters ->> 'model_version' is null or s.model_version = v_filters ->> 'model_version')
      and (v_filters ->> 'model_provider' is null or s.model_provider = v_filters ->> 'model_provider')
      and (v_filters ->> 'dataset_version' is null or s.dataset_version = v_filters ->> 'dataset_version')
      and (v_filters ->> 'prompt_version' is null or s.prompt_version = v_filters ->> 'prompt_version')
      and (v_filters ->> 'environment' is null or s.environment = v_filters ->> 'environment')
      and (v_tags is null or s.tags operator(pg_catalog.&&) v_tags)
      and (v_filters ->> 'since' is null or s.created_at >= (v_filters ->> 'since')::timestamptz)
      and (v_filters ->> 'until' is null or s.created_at <= (v_filters ->> 'until')::timestamptz)
  ),
  total as (
    select pg_catalog.count(*)::integer as n from filtered
  ),
  page as materialized (
    select k.ord, s.*
    from (select f.id,
                 (pg_catalog.row_number() over (order by f.model_version, f.dataset_version, f.environment,
                                                         f.model_provider, f.prompt_version))::integer as ord
          from (select f.id, f.model_version, f.dataset_version, f.environment, f.model_provider, f.prompt_version
                from filtered f
                order by f.model_version, f.dataset_version, f.environment, f.model_provider, f.prompt_version
                limit v_limit offset v_offset) as f) as k
    join public.benchmark_snapshots s on s.id = k.id
  ),
  cmp as (
    select c.*
    from (select pg_catalog.array_agg(p.model_version order by p.ord) as mv,
                 pg_catalog.array_agg(p.model_provider order by p.ord) as mp,
                 pg_catalog.array_agg(p.dataset_version order by p.ord) as dv,
                 pg_catalog.array_agg(p.prompt_version order by p.ord) as pv,
                 pg_catalog.array_agg(p.environment order by p.ord) as env,
                 pg_catalog.array_agg(p.metrics order by p.ord) as m
          from page p) as a
    cross join lateral benchwatch_private.compare_runs(a.mv, a.mp, a.dv, a.pv, a.env, a.m, 0.05) as c
  ),
  verdict as (
    select r.ord,
           coalesce(pg_catalog.bool_or(r.is_regression), false) as regressed,
           pg_catalog.bool_or(r.prompt_mismatch) as prompt_mismatch,
           (pg_catalog.array_agg(pg_catalog.json_build_object(
              'model_version', r.baseline_model_version,
              'transaction_id', r.baseline_transaction_id,
              'pinned_at', r.baseline_pinned_at,
              'prompt_version', r.baseline_prompt_version))
            filter (where r.baseline_snapshot_id is not null))[1] as baseline,
           pg_catalog.json_agg(pg_catalog.json_build_object(
             'metric', r.metric_name,
             'current', r.current_value,
             'baseline', r.baseline_value,
             'relative_change', r.relative_change,
             'absolute_change', r.absolute_change,
             -- direction_unknown: null when the metric has no direction.
             'direction', case r.direction when 'higher' then 'higher_is_better'
                                           when 'lower' then 'lower_is_better' end,
             'is_regression', r.is_regression,
             'status', r.status)
             order by r.metric_name) as metrics
    from cmp r
    group by r.ord
  )
  select pg_catalog.json_build_object(
           'series', coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
             'snapshot_id', s.id,
             'transaction_id', s.transaction_id,
             'series', pg_catalog.json_build_object(
               'model_version', s.model_version,
               'model_provider', s.model_provider,
               'dataset_version', s.dataset_version,
               'prompt_version', s.prompt_version,
               'environment', s.environment),
             'commit_sha', s.commit_sha,
             'branch_name', s.branch_name,
             'run_id', s.run_id,
             'triggered_by', s.triggered_by,
             'tags', pg_catalog.to_json(s.tags),
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
               when coalesce(c.regressed, false) then 'regressed'
               when c.baseline is null then 'no_baseline'
               else 'ok'
             end,
             'metrics', coalesce(c.metrics, '[]'::json))
             order by s.ord), '[]'::json),
           'total', (select t.n from total t),
           'limit', v_limit,
           'offset', v_offset,
           'next_offset', case when v_offset + v_limit < (select t.n from total t) then v_offset + v_limit end)
  into v_result
  from page s
  left join verdict c on c.ord = s.ord;

  return v_result;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."current_snapshot_json"(jsonb) IS 'One page of the latest run of every active series matching the filters (series fields, tags overlap, since/until on the run time; limit 1-1000, default 100; offset, default 0), each with its baseline, prompt mismatch, open alert count, status and per-metric deltas (compare_runs at 5%); plus total, limit, offset and next_offset (null on the last page).';

REVOKE ALL ON FUNCTION "benchwatch_private"."current_snapshot_json"(jsonb) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."current_snapshot_json"(jsonb) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.current_snapshot (
  p_filters jsonb
)
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  select benchwatch_private.current_snapshot_json(p_filters)::jsonb
$function$;

COMMENT ON FUNCTION "benchwatch_private"."current_snapshot"(jsonb) IS 'current_snapshot_json as jsonb, for SQL callers.';

REVOKE ALL ON FUNCTION "benchwatch_private"."current_snapshot"(jsonb) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."current_snapshot"(jsonb) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.filter_values()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."filter_values"() IS 'Distinct sorted model_version, model_provider, dataset_version, prompt_version, environment and tags values over the active latest snapshots, for the dashboard''s filters.';

REVOKE ALL ON FUNCTION "benchwatch_private"."filter_values"() FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."filter_values"() TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.assert_valid_filters (
  p_filters jsonb,
  p_allowed text[],
  p_action  text
)
  RETURNS void
  LANGUAGE plpgsql
  STABLE
  SET search_path TO ''
  AS $function$
declare
  v_key text;
  v_value jsonb;
  v_limit numeric;
begin
  if p_filters is null or pg_catalog.jsonb_typeof(p_filters) = 'null' then
    return;
  end if;
  if pg_catalog.jsonb_typeof(p_filters) <> 'object' then
    raise exception using
      errcode = 'BW020',
      message = pg_catalog.format('Cannot %s: filters must be a JSON object', p_action),
      detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(p_filters));
  end if;

  for v_key, v_value in
    select f.key, f.value from pg_catalog.jsonb_each(p_filters) as f(key, value) order by f.key
  loop
    if v_key <> all (p_allowed) then
      raise exception using
        errcode = 'BW020',
        message = pg_catalog.format('Cannot %s: unknown filter %s', p_action, v_key),
        hint = 'Known filters: ' || pg_catalog.array_to_string(p_allowed, ', ');
    end if;
    continue when pg_catalog.jsonb_typeof(v_value) = 'null';

    if v_key = 'tags' then
      if pg_catalog.jsonb_typeof(v_value) <> 'array'
         or exists (select 1 from pg_catalog.jsonb_array_elements(v_value) as t(value)
                    where pg_catalog.jsonb_typeof(t.value) <> 'string') then
        raise exception using
          errcode = 'BW020',
          message = pg_catalog.format('Cannot %s: tags must be an array of strings', p_action);
      end if;
    elsif v_key = 'limit' then
      if pg_catalog.jsonb_typeof(v_value) = 'number' then
        v_limit := (v_value #>> '{}')::numeric;
      elsif pg_catalog.jsonb_typeof(v_value) = 'string' and (v_value #>> '{}') ~ '^\s*\d{1,7}\s*$' then
        v_limit := (v_value #>> '{}')::numeric;
      end if;
      if v_limit is null or v_limit <> pg_catalog.trunc(v_limit) or v_limit < 1 or v_limit > 1000 then
        raise exception using
          errcode = 'BW020',
          message = pg_catalog.format('Cannot %s: limit must be a whole number from 1 to 1000', p_action),
          detail = pg_catalog.format('got %s', v_value);
      end if;
    elsif pg_catalog.jsonb_typeof(v_value) <> 'string' then
      raise exception using
        errcode = 'BW020',
        message = pg_catalog.format('Cannot %s: %s must be a string', p_action, v_key),
        detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(v_value));
    elsif v_key = 'state' and (v_value #>> '{}') not in ('open', 'resolved', 'all') then
      raise exception using
        errcode = 'BW020',
        message = pg_catalog.format('Cannot %s: state must be open, resolved or all', p_action),
        detail = pg_catalog.format('got %s', v_value);
    elsif v_key in ('since', 'until') then
      begin
        perform (v_value #>> '{}')::timestamptz;
      exception
        when datetime_field_overflow or invalid_datetime_format or invalid_text_representation then
          raise exception using
            errcode = 'BW020',
            message = pg_catalog.format('Cannot %s: %s must be an ISO 8601 timestamp', p_action, v_key),
            detail = pg_catalog.format('got %s', v_value);
      end;
    end if;
  end loop;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."assert_valid_filters"(jsonb, text[], text) IS 'Raises BW020 unless p_filters is a JSON object of known filters with valid values (strings; tags an array of strings; since/until timestamps; state open/resolved/all; limit 1-1000).';

REVOKE ALL ON FUNCTION "benchwatch_private"."assert_valid_filters"(jsonb, text[], text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."assert_valid_filters"(jsonb, text[], text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.series_list()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."series_list"() IS 'Every active series (model_version, model_provider, dataset_version, prompt_version, environment) with its last run time and metric names.';

REVOKE ALL ON FUNCTION "benchwatch_private"."series_list"() FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."series_list"() TO "service_role";

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

COMMENT ON FUNCTION "benchwatch_private"."metric_trend"(jsonb, text, timestamp with time zone, timestamp with time zone, integer) IS 'One metric of one series between p_from and p_to (default: the last 90 days): raw runs when there are at most p_max_points, else daily (UTC) avg/min/max/runs; plus the applicable baseline, the series'' alerts on that metric, and the metric''s direction (null when it has none).';

REVOKE ALL ON FUNCTION "benchwatch_private"."metric_trend"(jsonb, text, timestamp with time zone, timestamp with time zone, integer) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metric_trend"(jsonb, text, timestamp WITH time zone, timestamp WITH time zone, integer) TO "service_role";

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

COMMENT ON FUNCTION "benchwatch_private"."stability"(jsonb, integer) IS 'Per environment over the last p_window_days: runs, series, alerts opened, share of runs that regressed, and per metric the run-weighted mean, the within-series standard deviation and coefficient of variation (averaged over series; cv_max the worst series), min and max. Filters: the five series keys. BW020 on bad input.';

REVOKE ALL ON FUNCTION "benchwatch_private"."stability"(jsonb, integer) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."stability"(jsonb, integer) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.list_alerts (
  p_filters jsonb
)
  RETURNS jsonb
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_filters jsonb := coalesce(p_filters, '{}'::jsonb);
  v_state text;
  v_limit integer;
  v_result jsonb;
begin
  perform benchwatch_private.assert_valid_filters(p_filters,
    array['model_version', 'model_provider', 'dataset_version', 'prompt_version', 'environment',
          'state', 'since', 'until', 'limit'],
    'list alerts');
  if pg_catalog.jsonb_typeof(v_filters) = 'null' then
    v_filters := '{}'::jsonb;
  end if;
  v_state := coalesce(v_filters ->> 'state', 'all');
  v_limit := coalesce((v_filters ->> 'limit')::integer, 100);

  select pg_catalog.jsonb_build_object(
           'alerts', coalesce(pg_catalog.jsonb_agg(
              pg_catalog.to_jsonb(a) || pg_catalog.jsonb_build_object(
                'severity', benchwatch_private.alert_severity(a.opened_relative_change, a.relative_threshold),
                'age_seconds', pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.now() - a.opened_at))::bigint)
              order by a.opened_at desc, a.id), '[]'::jsonb),
           'count', pg_catalog.count(*))
  into v_result
  from (
    select r.*
    from public.regression_alerts r
    where (v_filters ->> 'model_version' is null or r.model_version = v_filters ->> 'model_version')
      and (v_filters ->> 'model_provider' is null or r.model_provider = v_filters ->> 'model_provider')
      and (v_filters ->> 'dataset_version' is null or r.dataset_version = v_filters ->> 'dataset_version')
      and (v_filters ->> 'prompt_version' is null or r.prompt_version = v_filters ->> 'prompt_version')
      and (v_filters ->> 'environment' is null or r.environment = v_filters ->> 'environment')
      and (v_state = 'all' or r.status = v_state)
      and (v_filters ->> 'since' is null or r.opened_at >= (v_filters ->> 'since')::timestamptz)
      and (v_filters ->> 'until' is null or r.opened_at <= (v_filters ->> 'until')::timestamptz)
    order by r.opened_at desc, r.id
    limit v_limit
  ) as a;

  return v_result;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."list_alerts"(jsonb) IS 'Regression alerts, newest first, filtered by series fields, state (open, resolved, all), since/until on opened_at and limit (default 100, at most 1000): {"alerts": [row + severity + age_seconds], "count": n}.';

REVOKE ALL ON FUNCTION "benchwatch_private"."list_alerts"(jsonb) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."list_alerts"(jsonb) TO "service_role";
