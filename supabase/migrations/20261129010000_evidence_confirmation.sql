-- Why: issue 9 (precision of alerts). An alert used to open on confirmation_runs
-- consecutive runs that were each beyond tolerance and beyond noise (z > sensitivity).
-- On the noisiest series (one run's noise near one tolerance) that rule both opened on
-- sub-tolerance steps (two lucky runs in a row) and confirmed real steps late, and the
-- reference level (the median of 10 runs) carried enough error of its own to bias a whole
-- series. Measured on the labelled corpus (npm run eval:detection), precision 0.906.
--
-- The opening is now a test that the change *itself* is beyond tolerance, on the evidence
-- of the last few runs:
--   1. the last confirmation_runs runs (this one included) are each beyond tolerance
--      against the reference level, as before (a single spike still never alerts);
--   2. for some j from confirmation_runs to evidence_runs (10), the mean change over the
--      last j runs lies beyond tolerance by more than evidence_z (1.5) standard errors
--      of that mean (sqrt(run noise^2 / j + reference noise^2)) and beyond noise by more
--      than sensitivity standard errors. Each
--      run's change counts at most clip_z (2) noise beyond tolerance, so one spike cannot
--      carry the mean on its own.
-- A clear step is still confirmed on its 2nd run; a change near tolerance on a noisy
-- series needs more runs; a sub-tolerance change rarely passes. The run that confirms an
-- opening is flagged out of control (kept out of the noise and reference estimates).
-- reference_runs goes from 10 to 30: the reference level is the median of the baseline
-- and the first 29 in-control runs after it.
--
-- Everything else is unchanged: the per-run verdict (beyond tolerance and z > sensitivity)
-- still flags out-of-control runs, hysteresis resolves alerts, and every read is a bounded
-- window of the series' metric_observations through the same indexes (evidence_runs - 1
-- previous runs instead of confirmation_runs - 1).

alter table benchwatch_private.detection_defaults
  add column evidence_runs integer not null default 10,
  add column evidence_z numeric not null default 1.5,
  add column clip_z numeric not null default 2,
  add constraint detection_defaults_evidence_runs_valid check (evidence_runs between 1 and 20),
  add constraint detection_defaults_evidence_z_nonnegative check (evidence_z >= 0),
  add constraint detection_defaults_clip_z_positive check (clip_z > 0);

alter table benchwatch_private.detection_defaults alter column reference_runs set default 30;
update benchwatch_private.detection_defaults set reference_runs = 30 where reference_runs = 10;

comment on table benchwatch_private.detection_defaults is
  'Alerting defaults for knobs a metric policy leaves null: sensitivity 2, confirmation_runs 2, min_history 5, history_window 30; resolve_fraction 0.5 (an alert resolves once runs are back within half the tolerance); reference_runs 30 (the reference level is the median of the baseline and the first 29 in-control runs after it); evidence_runs 10, evidence_z 1.5, clip_z 2 (an alert opens when the mean change of the last j runs, confirmation_runs <= j <= evidence_runs, each run clipped at tolerance + clip_z noise, is beyond tolerance by evidence_z standard errors).';

comment on function benchwatch_private.metric_detection_policy(text) is
  'Effective alerting knobs for a metric: its metric_policies row, else benchwatch_private.detection_defaults (sensitivity 2, confirmation_runs 2, min_history 5, history_window 30, resolve_fraction 0.5, reference_runs 30); proportion false. evidence_runs, evidence_z and clip_z are read from detection_defaults by assess_runs.';

-- assess_runs: same inputs and columns; confirmed_out is the evidence test above, and
-- out_of_control includes the run that confirms an opening.

-- evidence: the opening test on one metric of one run. p_values are the run's value and
-- then its series' previous values, newest first. each_beyond: the first
-- p_confirmation_runs of them are each beyond tolerance. evident: for some j >=
-- p_confirmation_runs, the mean change of the first j (each clipped at tolerance +
-- p_clip_z noise) clears tolerance by p_evidence_z standard errors and noise by
-- p_sensitivity, the standard error of a mean of j runs being sqrt(run noise^2 / j +
-- reference noise^2); with no noise estimate, tolerance alone decides. A loop over at most
-- evidence_runs values in float8: cheaper per call than the same test as a lateral query.
create function benchwatch_private.evidence(
  p_values numeric[], p_higher boolean, p_reference numeric, p_tolerance numeric, p_noise numeric,
  p_run_noise numeric, p_reference_noise numeric, p_confirmation_runs integer, p_clip_z numeric,
  p_evidence_z numeric, p_sensitivity numeric,
  out each_beyond boolean, out evident boolean)
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  v_tol float8 := p_tolerance;
  v_nz float8 := p_noise;
  v_run2 float8 := coalesce(p_run_noise, 0)::float8 ^ 2;
  v_ref2 float8 := coalesce(p_reference_noise, 0)::float8 ^ 2;
  v_cap float8 := p_tolerance + p_clip_z * coalesce(p_noise, 0);
  v_b float8;
  v_sum float8 := 0;
  v_mean float8;
  v_se float8;
begin
  each_beyond := pg_catalog.cardinality(p_values) >= p_confirmation_runs;
  evident := false;
  for i in 1 .. pg_catalog.cardinality(p_values) loop
    v_b := case when p_higher then p_reference - p_values[i] else p_values[i] - p_reference end;
    if i <= p_confirmation_runs and not (v_b > 0 and v_b > v_tol) then
      each_beyond := false;
      return;
    end if;
    v_sum := v_sum + case when v_nz > 0 then least(v_b, v_cap) else v_b end;
    if i >= p_confirmation_runs then
      if v_nz is null then
        evident := true;
        return;
      end if;
      v_mean := v_sum / i;
      v_se := pg_catalog.sqrt(v_run2 / i + v_ref2);
      if v_mean - v_tol > p_evidence_z * v_se and v_mean > p_sensitivity * v_se then
        evident := true;
        return;
      end if;
    end if;
  end loop;
end
$$;

comment on function benchwatch_private.evidence(numeric[], boolean, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric) is
  'The opening test of assess_runs for one metric of one run: whether the last confirmation_runs values are each beyond tolerance, and whether the clipped mean change of the last j values clears tolerance by evidence_z standard errors and noise by sensitivity.';
revoke execute on function benchwatch_private.evidence(numeric[], boolean, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric) from public, anon, authenticated;
grant execute on function benchwatch_private.evidence(numeric[], boolean, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric) to service_role;

create or replace function benchwatch_private.assess_runs(p_items benchwatch_private.assess_input[])
returns table (
  ord integer,
  metric_name text,
  reference_value numeric,
  reference_runs integer,
  change numeric,
  series_noise numeric,
  noise numeric,
  z numeric,
  beyond_tolerance boolean,
  beyond_noise boolean,
  out_of_control boolean,
  back_in_control boolean,
  confirmed_out boolean,
  confirmed_back boolean,
  baseline_noise numeric,
  baseline_z numeric,
  baseline_beyond_noise boolean
)
language plpgsql
stable
rows 100
set search_path = ''
-- Its plan is costly to make and the same for every batch: make it once per session.
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
begin
  return query
  with items as (
    select i.*, b.created_at as base_created,
           coalesce(b.model_version = i.model_version and b.model_provider = i.model_provider
                    and b.prompt_version = i.prompt_version and b.environment = i.environment
                    and b.dataset_version = i.dataset_version, false) as same_series
    from pg_catalog.unnest(p_items) as i
    left join public.benchmark_snapshots b on b.id = i.baseline_snapshot_id
  ),
  pols as materialized (
    select d.metric, pol.*, greatest(dd.evidence_runs, pol.confirmation_runs) as evidence_runs,
           dd.evidence_z, dd.clip_z
    from (select distinct it.metric from items it) as d
    cross join lateral benchwatch_private.metric_detection_policy(d.metric) as pol
    cross join benchwatch_private.detection_defaults dd
  ),
  m as (
    select it.ord, it.model_version, it.model_provider, it.dataset_version, it.prompt_version,
           it.environment, it.transaction_id, it.as_of, it.baseline_transaction_id,
           it.base_created, it.same_series,
           it.metric, it.value as val, it.own_stderr as own, it.direction, it.relative_threshold as rel,
           it.absolute_floor as floor, it.baseline_value as base_val,
           pol.sensitivity, pol.confirmation_runs, pol.min_history, pol.history_window,
           pol.resolve_fraction, pol.reference_runs, pol.evidence_runs, pol.evidence_z, pol.clip_z,
           case when it.base_created is not null then bo.own_stderr end as base_se
    from items it
    join pols pol on pol.metric = it.metric
    left join benchwatch_private.metric_observations bo
      on bo.transaction_id = it.baseline_transaction_id and bo.metric_name = it.metric
  ),
  calc as materialized (
    select m.*, hs.sigma, hs.hist_n, rf.r, rf.m as ref_n, pv.n as prev_n, pv.all_back, pv.prev_vals,
           case when m.direction = 'higher' then rf.r - m.val else m.val - rf.r end as bad,
           case when m.direction = 'higher' then m.base_val - m.val else m.val - m.base_val end as bad_b
    from m
    -- The series' own noise: robust spread of successive differences over its last
    -- history_window in-control runs, once there are min_history of them.
    cross join lateral (
      select case when pg_catalog.count(*) >= m.min_history
                  then (1.4826 * (pg_catalog.percentile_cont(0.5) within group (order by d.d::float8))
                        / pg_catalog.sqrt(2::float8))::numeric end as sigma,
             pg_catalog.count(*)::integer as hist_n
      from (
        select pg_catalog.abs(h.value - pg_catalog.lag(h.value) over (order by h.created_at, h.seq)) as d
        from (
          select o.value, o.created_at, o.seq
          from benchwatch_private.metric_observations o
          where o.model_version = m.model_version and o.model_provider = m.model_provider
            and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
            and o.environment = m.environment and o.metric_name = m.metric
            and o.created_at <= m.as_of and o.transaction_id <> m.transaction_id and not o.out_of_control
          order by o.created_at desc, o.seq desc
          limit m.history_window
        ) as h
      ) as d
    ) as hs
    -- The reference level: median of the baseline and the first reference_runs - 1
    -- in-control runs of the same series after it.
    cross join lateral (
      select (pg_catalog.percentile_cont(0.5) within group (order by r.v::float8))::numeric as r,
             pg_catalog.count(*)::integer as m
      from (
        select m.base_val as v
        union all
        (select o.value
         from benchwatch_private.metric_observations o
         where m.same_series
           and o.model_version = m.model_version and o.model_provider = m.model_provider
           and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
           and o.environment = m.environment and o.metric_name = m.metric
           and o.created_at >= m.base_created and o.created_at <= m.as_of and not o.out_of_control
           and o.transaction_id <> m.baseline_transaction_id and o.transaction_id <> m.transaction_id
         order by o.created_at asc, o.seq asc
         limit m.reference_runs - 1)
      ) as r
      where r.v is not null
    ) as rf
    -- The previous evidence_runs - 1 runs, newest first: their values (the evidence for an
    -- opening) and, for the last confirmation_runs - 1 of them, whether they were back in
    -- control (a resolution).
    cross join lateral (
      select least(pg_catalog.count(*), m.confirmation_runs - 1)::integer as n,
             not coalesce(false = any ((pg_catalog.array_agg(p.back_in_control order by p.created_at desc, p.seq desc))
                                       [1:m.confirmation_runs - 1]), false) as all_back,
             pg_catalog.array_agg(p.value order by p.created_at desc, p.seq desc) as prev_vals
      from (
        select o.value, o.back_in_control, o.created_at, o.seq
        from benchwatch_private.metric_observations o
        where o.model_version = m.model_version and o.model_provider = m.model_provider
          and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
          and o.environment = m.environment and o.metric_name = m.metric
          and o.created_at <= m.as_of and o.transaction_id <> m.transaction_id
        order by o.created_at desc, o.seq desc
        limit m.evidence_runs - 1
      ) as p
    ) as pv
    where rf.m > 0
  ),
  noise as (
    select c.*, s.sigma_run, s.sigma_base,
           -- The reference level's own standard error (x1.25 for a median): common to every
           -- run of the evidence.
           coalesce(s.sigma_base, 0) * case when c.ref_n >= 3 then 1.2533 else 1 end
             / pg_catalog.sqrt(c.ref_n::numeric) as nz_ref
    from calc c
    cross join lateral (
      select greatest(c.sigma, c.own) as sigma_run, greatest(c.sigma, c.base_se) as sigma_base
    ) as s
  ),
  nz as (
    select n.*,
           case when n.sigma_run is null and n.sigma_base is null then null
                else pg_catalog.sqrt(coalesce(n.sigma_run, 0) ^ 2 + n.nz_ref ^ 2)
           end as nz,
           case when n.sigma_run is null and n.sigma_base is null then null
                else pg_catalog.sqrt(coalesce(n.sigma_run, 0) ^ 2 + coalesce(n.sigma_base, 0) ^ 2)
           end as nz_b,
           (n.hist_n >= n.min_history - 1 or not n.same_series) as has_history
    from noise n
  ),
  verdict as (
    select n.*,
           (n.bad > 0 and n.bad > n.floor
            and case when n.r = 0 then true else n.bad / pg_catalog.abs(n.r) > n.rel end) as beyond_tol,
           case when n.nz is null then null else n.bad > n.sensitivity * n.nz end as beyond_nz,
           (n.bad <= greatest(n.rel * pg_catalog.abs(n.r) * n.resolve_fraction, n.floor)) as back,
           n.has_history and ev.each_beyond and ev.evident as confirmed
    from nz n
    cross join lateral benchwatch_private.evidence(
      array[n.val] || coalesce(n.prev_vals, '{}'), n.direction = 'higher', n.r,
      greatest(n.rel * pg_catalog.abs(n.r), n.floor), n.nz, n.sigma_run, n.nz_ref,
      n.confirmation_runs, n.clip_z, n.evidence_z, n.sensitivity) as ev
  )
  select v.ord, v.metric, v.r, v.ref_n, v.bad, v.sigma, pg_catalog.round(v.nz, 10),
         case when v.nz > 0 then pg_catalog.round(v.bad / v.nz, 4) end,
         v.beyond_tol, v.beyond_nz,
         (v.beyond_tol and coalesce(v.beyond_nz, true) and v.has_history) or v.confirmed,
         v.back,
         v.confirmed,
         v.back and v.prev_n = v.confirmation_runs - 1 and v.all_back,
         pg_catalog.round(v.nz_b, 10),
         case when v.nz_b > 0 then pg_catalog.round(v.bad_b / v.nz_b, 4) end,
         case when v.nz_b is null then null else v.bad_b > v.sensitivity * v.nz_b end
  from verdict v;
end
$$;

comment on function benchwatch_private.assess_runs(benchwatch_private.assess_input[]) is
  'The noise-aware alerting verdict for many metrics of many runs at once, one row per item that has a reference level (its ord and metric): reference level, noise, z, beyond tolerance / noise, out of control, back in control, whether the evidence of the last runs confirms an opening (each of the last confirmation_runs runs beyond tolerance, and the clipped mean change of the last j <= evidence_runs runs beyond tolerance by evidence_z standard errors and beyond noise by sensitivity) and whether the last confirmation_runs runs confirm a resolution. Reads a bounded window of each series'' metric_observations. Runs of one call must not depend on each other''s observations (record_runs passes one run per series).';
revoke execute on function benchwatch_private.assess_runs(benchwatch_private.assess_input[]) from public, anon, authenticated;
grant execute on function benchwatch_private.assess_runs(benchwatch_private.assess_input[]) to service_role;
