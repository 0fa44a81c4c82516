CREATE OR REPLACE FUNCTION benchwatch_private.compare_runs (
  p_model_versions   text[],
  p_model_providers  text[],
  p_dataset_versions text[],
  p_prompt_versions  text[],
  p_environments     text[],
  p_metrics          jsonb[],
  p_threshold        numeric
)
  RETURNS TABLE (
    ord                     integer,
    metric_name             text,
    status                  text,
    is_regression           boolean,
    baseline_value          numeric,
    current_value           numeric,
    absolute_change         numeric,
    relative_change         numeric,
    direction               text,
    relative_threshold      numeric,
    absolute_floor          numeric,
    policy_source           text,
    baseline_snapshot_id    uuid,
    baseline_transaction_id uuid,
    baseline_model_version  text,
    baseline_prompt_version text,
    baseline_pinned_at      timestamp with time zone,
    prompt_mismatch         boolean
  )
  LANGUAGE plpgsql
  STABLE
  ROWS 100
  SET search_path TO ''
  SET plan_cache_mode TO 'force_generic_plan'
  AS $function$
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
    -- The metric's resolved policy of the current version, else metric_policy (the LIMIT stops
    -- before the call when the row is there).
    cross join lateral (
      (select c.direction, coalesce(c.relative_threshold, p_threshold), c.absolute_floor, c.source
       from benchwatch_private.resolved_policies c
       join benchwatch_private.policy_version pv on pv.version = c.policy_version
       where c.metric = d.metric_name)
      union all
      (select mp.direction, mp.relative_threshold, mp.absolute_floor, mp.source
       from benchwatch_private.metric_policy(d.metric_name, p_threshold) as mp)
      limit 1
    ) as p(direction, relative_threshold, absolute_floor, source)
  )
  select v.ord,
         v.metric_name,
         case
           when v.b_id is null then 'no_baseline'
           when v.cur is null then 'missing_in_run'
           when v.base is null then 'missing_in_baseline'
           -- direction_unknown: without a direction a change is neither better nor worse.
           when p.direction is null then 'direction_unknown'
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
    select case p.direction when 'higher' then v.base - v.cur when 'lower' then v.cur - v.base end as bad
  ) as d
  cross join lateral (
    select d.bad > 0
       and d.bad > p.absolute_floor
       and case when v.base = 0 then true else d.bad / abs(v.base) > p.relative_threshold end as regressed
  ) as r
  order by v.ord, v.metric_name;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."compare_runs"(text[], text[], text[], text[], text[], jsonb[], numeric) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."compare_runs"(text[], text[], text[], text[], text[], jsonb[], numeric) IS 'compare_run for many runs at once (arrays aligned by position; ord is the 1-based position): one row per metric of each run or its baseline, in ord then metric order. A metric with no direction (metric_policy''s source none) has status direction_unknown and is never a regression.';

REVOKE ALL ON FUNCTION "benchwatch_private"."compare_runs"(text[], text[], text[], text[], text[], jsonb[], numeric) FROM PUBLIC;
