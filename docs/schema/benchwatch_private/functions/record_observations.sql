CREATE OR REPLACE FUNCTION benchwatch_private.record_observations (
  p_items benchwatch_private.run_metric[]
)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path TO ''
  SET plan_cache_mode TO 'force_generic_plan'
  AS $function$
declare
  v_st_mv text[];
  v_st_mp text[];
  v_st_dv text[];
  v_st_pv text[];
  v_st_env text[];
  v_st_metric text[];
begin
  -- The observations, and the detector_state rows that stand for them: each (series, metric)
  -- row takes its new observation in place when that observation is the newest (by
  -- created_at, seq) and the row was kept with the policy's current window and reference sizes
  -- (one UPDATE, HOT: no indexed column changes). Any other row (a backfilled run, a changed
  -- policy, no row yet) is rebuilt from metric_observations, which now holds the new
  -- observation.
  with ins as (
    insert into benchwatch_private.metric_observations (
      transaction_id, metric_name, model_version, model_provider, dataset_version, prompt_version,
      environment, created_at, value, dataset_size, reported_stderr, trials, own_stderr,
      reference_value, noise, z, out_of_control, back_in_control)
    select a.tx_id, a.metric_name, a.model_version, a.model_provider, a.dataset_version, a.prompt_version,
           a.environment, a.created_at, a.current_value, a.dataset_size, a.reported, a.trials, a.own,
           a.reference_value, a.noise, a.z, coalesce(a.out_of_control, false), coalesce(a.back_in_control, true)
    from pg_catalog.unnest(p_items) as a
    where a.current_value is not null
    returning transaction_id, metric_name, seq, model_version, model_provider, dataset_version,
              prompt_version, environment, created_at, value, out_of_control, back_in_control
  ),
  kn as materialized (
    select d.metric_name, pol.window_size, pol.reference_runs
    from (select distinct i.metric_name from ins as i) as d
    -- The metric's resolved policy of the current version, else metric_detection_policy.
    cross join lateral (
      (select c.window_size, c.reference_runs
       from benchwatch_private.resolved_policies c
       join benchwatch_private.policy_version pv on pv.version = c.policy_version
       where c.metric = d.metric_name)
      union all
      (select greatest(p.history_window, greatest(dd.evidence_runs, p.confirmation_runs) - 1), p.reference_runs
       from benchwatch_private.metric_detection_policy(d.metric_name) as p
       cross join benchwatch_private.detection_defaults as dd)
      limit 1
    ) as pol
  ),
  up as (
    update benchwatch_private.detector_state as s
    set window_values = (pg_catalog.array_prepend(i.value, s.window_values))[1:s.window_size],
        window_back_in_control = (pg_catalog.array_prepend(i.back_in_control, s.window_back_in_control))[1:s.window_size],
        last_transaction_ids = case when i.created_at = s.last_created_at
                                    then pg_catalog.array_append(s.last_transaction_ids, i.transaction_id)
                                    else array[i.transaction_id] end,
        last_created_at = i.created_at,
        last_seq = i.seq,
        -- A reference run while the reference is filling: in control, at or after the
        -- baseline, not the baseline itself.
        reference_values = case
          when s.baseline_transaction_id is not null and not i.out_of_control
               and i.created_at >= s.baseline_created_at and i.transaction_id <> s.baseline_transaction_id
               and pg_catalog.cardinality(s.reference_values) < s.reference_runs - 1
            then pg_catalog.array_append(s.reference_values, i.value)
          else s.reference_values
        end
    from ins as i
    join kn on kn.metric_name = i.metric_name
    where s.model_version = i.model_version and s.model_provider = i.model_provider
      and s.dataset_version = i.dataset_version and s.prompt_version = i.prompt_version
      and s.environment = i.environment and s.metric_name = i.metric_name
      and (s.last_created_at, s.last_seq) < (i.created_at, i.seq)
      and s.window_size = kn.window_size and s.reference_runs = kn.reference_runs
    returning s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
              s.metric_name
  )
  select pg_catalog.array_agg(i.model_version), pg_catalog.array_agg(i.model_provider),
         pg_catalog.array_agg(i.dataset_version), pg_catalog.array_agg(i.prompt_version),
         pg_catalog.array_agg(i.environment), pg_catalog.array_agg(i.metric_name)
  into v_st_mv, v_st_mp, v_st_dv, v_st_pv, v_st_env, v_st_metric
  from ins as i
  left join up as u
    on u.model_version = i.model_version and u.model_provider = i.model_provider
   and u.dataset_version = i.dataset_version and u.prompt_version = i.prompt_version
   and u.environment = i.environment and u.metric_name = i.metric_name
  where u.metric_name is null;
  if v_st_mv is not null then
    perform benchwatch_private.load_detector_state(v_st_mv, v_st_mp, v_st_dv, v_st_pv, v_st_env, v_st_metric);
  end if;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."record_observations"(benchwatch_private.run_metric[]) TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."record_observations"(benchwatch_private.run_metric[]) IS 'record_runs'' step 7 for one round: inserts a metric_observations row per run and metric with a value (its verdict from p_items), and keeps each one''s detector_state row: updated in place (one HOT UPDATE) when the observation is the newest of its series and metric and the row has the policy''s current window and reference sizes, rebuilt from metric_observations (load_detector_state) otherwise.';

REVOKE ALL ON FUNCTION "benchwatch_private"."record_observations"(benchwatch_private.run_metric[]) FROM PUBLIC;
