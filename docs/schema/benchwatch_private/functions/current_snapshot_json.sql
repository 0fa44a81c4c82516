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

GRANT EXECUTE ON FUNCTION "benchwatch_private"."current_snapshot_json"(jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."current_snapshot_json"(jsonb) IS 'One page of the latest run of every active series matching the filters (series fields, tags overlap, since/until on the run time; limit 1-1000, default 100; offset, default 0), each with its baseline, prompt mismatch, open alert count, status and per-metric deltas (compare_runs at 5%); plus total, limit, offset and next_offset (null on the last page).';

REVOKE ALL ON FUNCTION "benchwatch_private"."current_snapshot_json"(jsonb) FROM PUBLIC;
