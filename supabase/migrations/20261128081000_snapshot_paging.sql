-- Why: issue 7, target 5 (read API p95 <= 50 ms at 10 million rows). The current
-- snapshot called compare_run once per active series and answered every series in one
-- document: ~3,500 compare_run calls and several megabytes per request in the bench
-- database, seconds per read. Two changes:
--
-- 1. compare_runs is compare_run for many runs at once: one baseline probe per run
--    (the same resolution rule and order), the metric policies resolved once per
--    distinct metric name instead of once per run and metric. compare_run is now
--    compare_runs with one run, so the rule is still written once.
-- 2. current_snapshot answers a page: `limit` (1-1000, default 100) series from
--    `offset` (default 0) in the same order as before, with `total` (series matching
--    the filters) and `next_offset` (null on the last page). Only the page's series
--    are compared with their baselines.

create or replace function benchwatch_private.compare_runs(
  p_model_versions text[],
  p_model_providers text[],
  p_dataset_versions text[],
  p_prompt_versions text[],
  p_environments text[],
  p_metrics jsonb[],
  p_threshold numeric
)
returns table (
  ord integer,

  metric_name text,
  status text,
  is_regression boolean,
  baseline_value numeric,
  current_value numeric,
  absolute_change numeric,
  relative_change numeric,
  direction text,
  relative_threshold numeric,
  absolute_floor numeric,
  policy_source text,
  baseline_snapshot_id uuid,
  baseline_transaction_id uuid,
  baseline_model_version text,
  baseline_prompt_version text,
  baseline_pinned_at timestamptz,
  prompt_mismatch boolean
)
language plpgsql
stable
rows 100
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  with runs as (
    select u.ord::integer as ord, u.mv, u.mp, u.dv, u.pv, u.env, coalesce(u.metrics, '{}'::jsonb) as metrics
    from rows from (pg_catalog.unnest(p_model_versions), pg_catalog.unnest(p_model_providers),
                    pg_catalog.unnest(p_dataset_versions), pg_catalog.unnest(p_prompt_versions),
                    pg_catalog.unnest(p_environments), pg_catalog.unnest(p_metrics))
           with ordinality as u(mv, mp, dv, pv, env, metrics, ord)
  ),
  based as (
    select r.*, b.id as b_id, b.transaction_id as b_tx, b.model_version as b_model,
           b.prompt_version as b_prompt, b.pinned_at as b_pinned, b.metrics as b_metrics
    from runs r
    -- compare_run's rule, "order by (same model) desc, (same provider and prompt) desc,
    -- pinned_at desc, id", taken in its four cases, each one index probe: the series' own
    -- baseline (at most one); else the newest of its model's in the scope (none of them
    -- can share provider and prompt, or it would be the series' own); else the newest in
    -- the scope with the same provider and prompt; else the newest in the scope.
    left join lateral (
      select coalesce(
        (select b.id from public.benchmark_snapshots b
         where b.pinned_at is not null and b.is_baseline
           and b.model_version = r.mv and b.model_provider = r.mp and b.dataset_version = r.dv
           and b.prompt_version = r.pv and b.environment = r.env
         order by b.pinned_at desc, b.id
         limit 1),
        (select b.id from public.benchmark_snapshots b
         where b.pinned_at is not null and b.is_baseline
           and b.model_version = r.mv and b.dataset_version = r.dv and b.environment = r.env
         order by b.pinned_at desc, b.id
         limit 1),
        (select b.id from public.benchmark_snapshots b
         where b.pinned_at is not null and b.is_baseline
           and b.dataset_version = r.dv and b.environment = r.env
           and b.model_provider = r.mp and b.prompt_version = r.pv
         order by b.pinned_at desc, b.id
         limit 1),
        (select b.id from public.benchmark_snapshots b
         where b.pinned_at is not null and b.is_baseline
           and b.dataset_version = r.dv and b.environment = r.env
         order by b.pinned_at desc, b.id
         limit 1)) as id
    ) as pick on true
    left join public.benchmark_snapshots b on b.id = pick.id
  ),
  vals as (
    select x.ord, x.pv, n.key as metric_name,
           (x.b_metrics ->> n.key)::numeric as base,
           (x.metrics ->> n.key)::numeric as cur,
           x.b_id, x.b_tx, x.b_model, x.b_prompt, x.b_pinned
    from based x
    cross join lateral (
      select k.key from pg_catalog.jsonb_object_keys(x.metrics) as k(key)
      union
      select k.key from pg_catalog.jsonb_object_keys(coalesce(x.b_metrics, '{}'::jsonb)) as k(key)
    ) as n
  ),
  pols as (
    select d.metric_name, p.direction, p.relative_threshold, p.absolute_floor, p.source
    from (select distinct v.metric_name from vals v) as d
    cross join lateral benchwatch_private.metric_policy(d.metric_name, p_threshold) as p
  )
  select v.ord,
         v.metric_name,
         case
           when v.b_id is null then 'no_baseline'
           when v.cur is null then 'missing_in_run'
           when v.base is null then 'missing_in_baseline'
           when r.regressed then 'regression'
           else 'ok'
         end,
         coalesce(r.regressed, false),
         v.base,
         v.cur,
         v.cur - v.base,
         case when v.base <> 0 then pg_catalog.round((v.cur - v.base) / abs(v.base), 6) end,
         p.direction,
         p.relative_threshold,
         p.absolute_floor,
         p.source,
         v.b_id,
         v.b_tx,
         v.b_model,
         v.b_prompt,
         v.b_pinned,
         case when v.b_id is not null then v.b_prompt is distinct from v.pv end
  from vals v
  join pols p on p.metric_name = v.metric_name
  cross join lateral (
    select case when p.direction = 'higher' then v.base - v.cur else v.cur - v.base end as bad
  ) as d
  cross join lateral (
    select d.bad > 0
       and d.bad > p.absolute_floor
       and case when v.base = 0 then true else d.bad / abs(v.base) > p.relative_threshold end as regressed
  ) as r
  order by v.ord, v.metric_name;
end
$$;

comment on function benchwatch_private.compare_runs(text[], text[], text[], text[], text[], jsonb[], numeric) is
  'compare_run for many runs at once (arrays aligned by position; ord is the 1-based position): one row per metric of each run or its baseline, in ord then metric order.';
revoke execute on function benchwatch_private.compare_runs(text[], text[], text[], text[], text[], jsonb[], numeric) from public, anon, authenticated;
grant execute on function benchwatch_private.compare_runs(text[], text[], text[], text[], text[], jsonb[], numeric) to service_role;

create or replace function benchwatch_private.compare_run(
  p_model_version text,
  p_model_provider text,
  p_dataset_version text,
  p_prompt_version text,
  p_environment text,
  p_metrics jsonb,
  p_threshold numeric
)
returns table (
  metric_name text,
  status text,
  is_regression boolean,
  baseline_value numeric,
  current_value numeric,
  absolute_change numeric,
  relative_change numeric,
  direction text,
  relative_threshold numeric,
  absolute_floor numeric,
  policy_source text,
  baseline_snapshot_id uuid,
  baseline_transaction_id uuid,
  baseline_model_version text,
  baseline_prompt_version text,
  baseline_pinned_at timestamptz,
  prompt_mismatch boolean
)
language plpgsql
stable
-- A run has a handful of metrics; the default estimate of 1000 rows would make
-- the planner JIT-compile every call.
rows 20
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  select c.metric_name, c.status, c.is_regression, c.baseline_value, c.current_value, c.absolute_change, c.relative_change, c.direction, c.relative_threshold, c.absolute_floor, c.policy_source, c.baseline_snapshot_id, c.baseline_transaction_id, c.baseline_model_version, c.baseline_prompt_version, c.baseline_pinned_at, c.prompt_mismatch
  from benchwatch_private.compare_runs(
    array[p_model_version], array[p_model_provider], array[p_dataset_version],
    array[p_prompt_version], array[p_environment], array[p_metrics], p_threshold) as c
  order by c.metric_name;
end
$$;

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
  v_limit integer;
  v_offset integer := 0;
  v_offset_raw jsonb;
  v_result jsonb;
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

  -- The filtered series once; their count is the total, their ordered slice the page.
  with filtered as materialized (
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
    select (pg_catalog.row_number() over (order by f.model_version, f.dataset_version, f.environment,
                                                   f.model_provider, f.prompt_version))::integer as ord,
           f.*
    from (select f.* from filtered f
          order by f.model_version, f.dataset_version, f.environment, f.model_provider, f.prompt_version
          limit v_limit offset v_offset) as f
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
    from cmp r
    group by r.ord
  )
  select pg_catalog.jsonb_build_object(
           'series', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
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
               when coalesce(c.regressed, false) then 'regressed'
               when c.baseline is null then 'no_baseline'
               else 'ok'
             end,
             'metrics', coalesce(c.metrics, '[]'::jsonb))
             order by s.ord), '[]'::jsonb),
           'total', (select t.n from total t),
           'limit', v_limit,
           'offset', v_offset,
           'next_offset', case when v_offset + v_limit < (select t.n from total t) then v_offset + v_limit end)
  into v_result
  from page s
  left join verdict c on c.ord = s.ord;

  return v_result;
end
$$;

comment on function benchwatch_private.current_snapshot(jsonb) is
  'One page of the latest run of every active series matching the filters (series fields, tags overlap, since/until on the run time; limit 1-1000, default 100; offset, default 0), each with its baseline, prompt mismatch, open alert count, status and per-metric deltas (compare_runs at 5%); plus total, limit, offset and next_offset (null on the last page).';
