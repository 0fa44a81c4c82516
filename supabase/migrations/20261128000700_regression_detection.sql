-- Why: the regression rules, written once. `benchwatch_private.compare_run`
-- compares a set of metrics with the baseline that applies to a series and is
-- used both by ingest (to open and resolve alerts in the run's own transaction)
-- and by the setup guide's `detect_regression`.
--
-- Which baseline: the pinned baseline with the same dataset_version and
-- environment; the model_version's own if it has one (the exact series first),
-- else the most recently pinned one in that scope, so a candidate model is
-- judged against production's baseline. Never across dataset_version. A
-- prompt_version difference is allowed and reported (prompt_mismatch).
-- A metric is a regression when it moved in its bad direction by more than the
-- relative threshold (strictly) AND by more than the absolute floor. Metrics
-- missing from the run or the baseline are reported with their own status.

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
language sql
stable
-- A run has a handful of metrics; the default estimate of 1000 rows would make
-- the planner JIT-compile every call.
rows 20
set search_path = ''
as $$
  with baseline as (
    select b.id, b.transaction_id, b.model_version, b.prompt_version, b.pinned_at, b.metrics
    from public.benchmark_snapshots b
    where b.pinned_at is not null
      and b.is_baseline
      and b.dataset_version = p_dataset_version
      and b.environment = p_environment
    order by (b.model_version = p_model_version) desc,
             (b.model_provider = p_model_provider and b.prompt_version = p_prompt_version) desc,
             b.pinned_at desc,
             b.id
    limit 1
  ),
  names as (
    select k.key from pg_catalog.jsonb_object_keys(coalesce(p_metrics, '{}'::jsonb)) as k(key)
    union
    select k.key from baseline b cross join lateral pg_catalog.jsonb_object_keys(b.metrics) as k(key)
  ),
  vals as (
    select n.key as metric_name,
           (b.metrics ->> n.key)::numeric as base,
           (p_metrics ->> n.key)::numeric as cur,
           b.id as b_id, b.transaction_id as b_tx, b.model_version as b_model,
           b.prompt_version as b_prompt, b.pinned_at as b_pinned
    from names n
    left join baseline b on true
  )
  select v.metric_name,
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
         case when v.b_id is not null then v.b_prompt is distinct from p_prompt_version end
  from vals v
  cross join lateral benchwatch_private.metric_policy(v.metric_name, p_threshold) as p
  cross join lateral (
    select case when p.direction = 'higher' then v.base - v.cur else v.cur - v.base end as bad
  ) as d
  cross join lateral (
    select d.bad > 0
       and d.bad > p.absolute_floor
       and case when v.base = 0 then true else d.bad / abs(v.base) > p.relative_threshold end as regressed
  ) as r
  order by v.metric_name
$$;

comment on function benchwatch_private.compare_run(text, text, text, text, text, jsonb, numeric) is
  'Compares metrics of a series with the baseline that applies to it; one row per metric of the run or the baseline, with status regression, ok, missing_in_run, missing_in_baseline or no_baseline.';

revoke execute on function benchwatch_private.compare_run(text, text, text, text, text, jsonb, numeric) from public, anon, authenticated;
grant execute on function benchwatch_private.compare_run(text, text, text, text, text, jsonb, numeric) to service_role;

create or replace function public.detect_regression(p_model_version text, p_threshold numeric default 0.05)
returns table (
  model_version text,
  model_provider text,
  dataset_version text,
  prompt_version text,
  environment text,
  metric_name text,
  baseline_value numeric,
  current_value numeric,
  relative_change numeric,
  is_regression boolean,
  status text,
  absolute_change numeric,
  direction text,
  threshold numeric,
  absolute_floor numeric,
  policy_source text,
  baseline_model_version text,
  baseline_prompt_version text,
  prompt_mismatch boolean,
  baseline_snapshot_id uuid,
  baseline_transaction_id uuid,
  baseline_pinned_at timestamptz,
  current_transaction_id uuid,
  current_created_at timestamptz
)
language plpgsql
stable
rows 50
security invoker
set search_path = ''
as $$
begin
  if p_threshold is null or p_threshold < 0 then
    raise exception using
      errcode = '22023',
      message = 'Cannot detect regressions: p_threshold must be a non-negative fraction such as 0.05',
      detail = pg_catalog.format('p_threshold = %s', coalesce(p_threshold::text, 'null'));
  end if;

  return query
  select s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
         c.metric_name, c.baseline_value, c.current_value, c.relative_change, c.is_regression,
         c.status, c.absolute_change, c.direction, c.relative_threshold, c.absolute_floor,
         c.policy_source, c.baseline_model_version, c.baseline_prompt_version, c.prompt_mismatch,
         c.baseline_snapshot_id, c.baseline_transaction_id, c.baseline_pinned_at,
         s.transaction_id, s.created_at
  from public.benchmark_snapshots s
  cross join lateral benchwatch_private.compare_run(
    s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
    s.metrics, p_threshold) as c
  where s.model_version = p_model_version
    and s.pinned_at is null
    and s.is_active
  order by s.model_provider, s.dataset_version, s.prompt_version, s.environment, c.metric_name;
end
$$;

comment on function public.detect_regression(text, numeric) is
  'For each active series of a model_version, compares its latest run with the applicable pinned baseline: one row per metric with baseline value, current value, relative change and is_regression.';

revoke execute on function public.detect_regression(text, numeric) from public, anon, authenticated;
grant execute on function public.detect_regression(text, numeric) to service_role;
