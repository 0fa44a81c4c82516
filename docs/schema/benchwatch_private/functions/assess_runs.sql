CREATE OR REPLACE FUNCTION benchwatch_private.assess_runs (
  p_items benchwatch_private.assess_input[]
)
  RETURNS TABLE (
    ord                   integer,
    metric_name           text,
    reference_value       numeric,
    reference_runs        integer,
    change                numeric,
    series_noise          numeric,
    noise                 numeric,
    z                     numeric,
    beyond_tolerance      boolean,
    beyond_noise          boolean,
    out_of_control        boolean,
    back_in_control       boolean,
    confirmed_out         boolean,
    confirmed_back        boolean,
    baseline_noise        numeric,
    baseline_z            numeric,
    baseline_beyond_noise boolean
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
  with items as (
    select i.*, b.created_at as base_created,
           coalesce(b.model_version = i.model_version and b.model_provider = i.model_provider
                    and b.prompt_version = i.prompt_version and b.environment = i.environment
                    and b.dataset_version = i.dataset_version, false) as same_series
    from pg_catalog.unnest(p_items) as i
    left join public.benchmark_snapshots b on b.id = i.baseline_snapshot_id
  ),
  pols as materialized (
    select d.metric, pol.*
    from (select distinct it.metric from items it) as d
    -- The metric's resolved policy of the current version (resolved_policies), else the same
    -- from metric_detection_policy and detection_defaults (the LIMIT stops before the call
    -- when the row is there).
    cross join lateral (
      (select c.sensitivity, c.confirmation_runs, c.min_history, c.history_window, c.proportion,
              c.resolve_fraction, c.reference_runs, c.evidence_runs, c.evidence_z, c.clip_z, c.alarm_z,
              c.resolve_runs
       from benchwatch_private.resolved_policies c
       join benchwatch_private.policy_version pv on pv.version = c.policy_version
       where c.metric = d.metric)
      union all
      (select p.sensitivity, p.confirmation_runs, p.min_history, p.history_window, p.proportion,
              p.resolve_fraction, p.reference_runs, greatest(dd.evidence_runs, p.confirmation_runs),
              dd.evidence_z, dd.clip_z, greatest(dd.alarm_z, p.sensitivity),
              -- Runs back within resolve_fraction that resolve an alert: resolve_runs, and at
              -- least confirmation_runs; within the previous runs already read for the evidence.
              least(greatest(dd.resolve_runs, p.confirmation_runs),
                    greatest(dd.evidence_runs, p.confirmation_runs))
       from benchwatch_private.metric_detection_policy(d.metric) as p
       cross join benchwatch_private.detection_defaults dd)
      limit 1
    ) as pol
  ),
  m as (
    select it.ord, it.model_version, it.model_provider, it.dataset_version, it.prompt_version,
           it.environment, it.transaction_id, it.as_of, it.baseline_transaction_id,
           it.base_created, it.same_series,
           it.metric, it.value as val, it.own_stderr as own, it.direction, it.relative_threshold as rel,
           it.absolute_floor as floor, it.baseline_value as base_val,
           pol.sensitivity, pol.confirmation_runs, pol.min_history, pol.history_window,
           pol.resolve_fraction, pol.reference_runs, pol.evidence_runs, pol.evidence_z, pol.clip_z,
           pol.alarm_z, pol.resolve_runs,
           coalesce(st.from_state, false) as from_state, st.vals as st_vals, st.backs as st_backs, st.ref_vals as st_ref_vals,
           case when it.base_created is null then null
                when st.from_state and it.same_series then st.base_se
                else (select bo.own_stderr from benchwatch_private.metric_observations bo
                      where bo.transaction_id = it.baseline_transaction_id and bo.metric_name = it.metric)
           end as base_se
    from items it
    join pols pol on pol.metric = it.metric
    -- The series' detector_state row stands for the log when it holds exactly what the log
    -- reads below for this run: every observation precedes the run (none later, none of the
    -- run's own), it was kept with this policy's window and reference sizes, and (when the
    -- reference runs are the series' own) for this baseline.
    left join lateral (
      select coalesce(
               s.window_size = greatest(pol.history_window, pol.evidence_runs - 1)
               and s.last_created_at <= it.as_of
               and not (s.last_created_at = it.as_of and it.transaction_id = any (s.last_transaction_ids))
               and (not it.same_series
                    or (s.reference_runs = pol.reference_runs
                        and s.baseline_transaction_id = it.baseline_transaction_id
                        and s.baseline_created_at = it.base_created)),
               false) as from_state,
             s.window_values as vals, s.window_back_in_control as backs, s.reference_values as ref_vals,
             s.baseline_stderr as base_se
      from benchwatch_private.detector_state s
      where s.model_version = it.model_version and s.model_provider = it.model_provider
        and s.dataset_version = it.dataset_version and s.prompt_version = it.prompt_version
        and s.environment = it.environment and s.metric_name = it.metric
    ) as st on true
  ),
  calc as materialized (
    select m.*, hs.sigma, hs.hist_n, rf.r, rf.m as ref_n, rf.spread, pv.n as prev_n, pv.all_back,
           pv.prev_vals,
           case when m.direction = 'higher' then rf.r - m.val else m.val - rf.r end as bad,
           case when m.direction = 'higher' then m.base_val - m.val else m.val - m.base_val end as bad_b
    from m
    -- The last runs before this one, newest first, read once: the last history_window of
    -- them give the series' own noise, the last evidence_runs - 1 the evidence and the
    -- resolution (the same index range, so one scan of the longer of the two).
    -- From the state row when it stands for the log (its window is exactly these runs).
    cross join lateral (
      select m.st_vals as vals, m.st_backs as backs, pg_catalog.cardinality(m.st_vals) as n
      where m.from_state
      union all
      select pg_catalog.array_agg(h.value order by h.created_at desc, h.seq desc) as vals,
             pg_catalog.array_agg(h.back_in_control order by h.created_at desc, h.seq desc) as backs,
             pg_catalog.count(*)::integer as n
      from (
        select o.value, o.back_in_control, o.created_at, o.seq
        from benchwatch_private.metric_observations o
        where not m.from_state
          and o.model_version = m.model_version and o.model_provider = m.model_provider
          and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
          and o.environment = m.environment and o.metric_name = m.metric
          and o.created_at <= m.as_of and o.transaction_id <> m.transaction_id
        order by o.created_at desc, o.seq desc
        limit greatest(m.history_window, m.evidence_runs - 1)
      ) as h
      having not m.from_state
    ) as w
    -- The series' own noise: robust spread of successive differences over its last
    -- history_window runs, once there are min_history of them. Every run counts: leaving
    -- out the flagged ones biased the estimate down on noisy series, and the bias fed
    -- itself (a step adds one large difference, which the median ignores).
    cross join lateral (
      select case when hn.n >= m.min_history
                  then (1.4826 * (select pg_catalog.percentile_cont(0.5) within group (
                                           order by pg_catalog.abs(w.vals[i] - w.vals[i + 1])::float8)
                                  from pg_catalog.generate_series(1, hn.n - 1) as i)
                        / pg_catalog.sqrt(2::float8))::numeric end as sigma,
             hn.n as hist_n
      from (select least(w.n, m.history_window)::integer as n) as hn
    ) as hs
    -- The reference level: median of the baseline and the first reference_runs - 1
    -- in-control runs of the same series after it.
    cross join lateral (
      select (q.q[2])::numeric as r, q.m,
             -- The level's own spread: the interquartile range of those runs / 1.349, once
             -- there are min_history of them. It sees what successive differences cannot:
             -- a slow periodic wander, two infrastructure pools. Same sort as the median.
             case when q.m >= m.min_history then ((q.q[3] - q.q[1]) / 1.349)::numeric end as spread
      from (
      select pg_catalog.percentile_cont(array[0.25, 0.5, 0.75]::float8[]) within group (order by r.v::float8) as q,
             pg_catalog.count(*)::integer as m
      from (
        select m.base_val as v
        union all
        -- From the state row when it stands for the log: the same runs' values.
        select x.v from pg_catalog.unnest(m.st_ref_vals) as x(v) where m.from_state and m.same_series
        union all
        (select o.value
         from benchwatch_private.metric_observations o
         where m.same_series and not m.from_state
           and o.model_version = m.model_version and o.model_provider = m.model_provider
           and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
           and o.environment = m.environment and o.metric_name = m.metric
           and o.created_at >= m.base_created and o.created_at <= m.as_of and not o.out_of_control
           and o.transaction_id <> m.baseline_transaction_id and o.transaction_id <> m.transaction_id
         order by o.created_at asc, o.seq asc
         limit m.reference_runs - 1)
      ) as r
      where r.v is not null
      ) as q
    ) as rf
    -- The previous evidence_runs - 1 runs, newest first: their values (the evidence for an
    -- opening) and, for the last resolve_runs - 1 of them, whether they were back in
    -- control (a resolution).
    cross join lateral (
      select least(w.n, m.evidence_runs - 1, m.resolve_runs - 1)::integer as n,
             not coalesce(false = any (w.backs[1:least(m.evidence_runs, m.resolve_runs) - 1]), false) as all_back,
             w.vals[1:m.evidence_runs - 1] as prev_vals
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
      select greatest(c.sigma, c.spread, c.own) as sigma_run,
             greatest(c.sigma, c.spread, c.base_se) as sigma_base
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
      n.confirmation_runs, n.clip_z, n.evidence_z, n.alarm_z) as ev
  )
  select v.ord, v.metric, v.r, v.ref_n, v.bad, greatest(v.sigma, v.spread), pg_catalog.round(v.nz, 10),
         case when v.nz > 0 then pg_catalog.round(v.bad / v.nz, 4) end,
         v.beyond_tol, v.beyond_nz,
         (v.beyond_tol and coalesce(v.beyond_nz, true) and v.has_history) or v.confirmed,
         v.back,
         v.confirmed,
         v.back and v.prev_n = v.resolve_runs - 1 and v.all_back,
         pg_catalog.round(v.nz_b, 10),
         case when v.nz_b > 0 then pg_catalog.round(v.bad_b / v.nz_b, 4) end,
         case when v.nz_b is null then null else v.bad_b > v.sensitivity * v.nz_b end
  from verdict v;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."assess_runs"(benchwatch_private.assess_input[]) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."assess_runs"(benchwatch_private.assess_input[]) IS 'The noise-aware alerting verdict for many metrics of many runs at once, one row per item that has a reference level (its ord and metric): reference level, noise (the largest of the run''s own standard error, the median successive difference of the series'' last history_window runs, and the reference runs'' interquartile range / 1.349), z, beyond tolerance / noise, out of control (beyond tolerance and noise, or confirming an opening), back in control, whether the evidence of the last runs confirms an opening (the run beyond tolerance and each of the other last confirmation_runs runs beyond tolerance less one noise unit, and the clipped mean change of the last j <= evidence_runs runs beyond tolerance by evidence_z standard errors and beyond zero by alarm_z) and whether the last resolve_runs runs (at least confirmation_runs) confirm a resolution. The history it reads (the last max(history_window, evidence_runs - 1) runs before the run, the first reference_runs - 1 in-control runs after the baseline, the baseline''s own standard error) comes from the series'' detector_state row when that row stands for it: every observation of the series and metric precedes the run and none is the run''s own, the row was kept with the policy''s current window and reference sizes, and, when the baseline is the series'' own, for this baseline. Otherwise (a run older than the newest observation, e.g. a backfill or detect_regression''s latest run; a changed policy; a re-pinned baseline not yet rebuilt; no row) it reads the same from metric_observations, which defines the answers: both give identical rows. Runs of one call must not depend on each other''s observations (record_runs passes one run per series).';

REVOKE ALL ON FUNCTION "benchwatch_private"."assess_runs"(benchwatch_private.assess_input[]) FROM PUBLIC;
