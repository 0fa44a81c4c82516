CREATE OR REPLACE FUNCTION benchwatch_private.rebuild_detector_state (
  p_model_version   text DEFAULT NULL::text,
  p_model_provider  text DEFAULT NULL::text,
  p_dataset_version text DEFAULT NULL::text,
  p_prompt_version  text DEFAULT NULL::text,
  p_environment     text DEFAULT NULL::text,
  p_metric_name     text DEFAULT NULL::text
)
  RETURNS integer
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  SET plan_cache_mode TO 'force_custom_plan'
  AS $function$
declare
  v_mv text[];
  v_mp text[];
  v_dv text[];
  v_pv text[];
  v_env text[];
  v_metric text[];
begin
  select pg_catalog.array_agg(k.model_version), pg_catalog.array_agg(k.model_provider),
         pg_catalog.array_agg(k.dataset_version), pg_catalog.array_agg(k.prompt_version),
         pg_catalog.array_agg(k.environment), pg_catalog.array_agg(k.metric_name)
  into v_mv, v_mp, v_dv, v_pv, v_env, v_metric
  from (
    select o.model_version, o.model_provider, o.dataset_version, o.prompt_version, o.environment,
           o.metric_name
    from benchwatch_private.metric_observations o
    where (p_model_version is null or o.model_version = p_model_version)
      and (p_model_provider is null or o.model_provider = p_model_provider)
      and (p_dataset_version is null or o.dataset_version = p_dataset_version)
      and (p_prompt_version is null or o.prompt_version = p_prompt_version)
      and (p_environment is null or o.environment = p_environment)
      and (p_metric_name is null or o.metric_name = p_metric_name)
    union
    select s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
           s.metric_name
    from benchwatch_private.detector_state s
    where (p_model_version is null or s.model_version = p_model_version)
      and (p_model_provider is null or s.model_provider = p_model_provider)
      and (p_dataset_version is null or s.dataset_version = p_dataset_version)
      and (p_prompt_version is null or s.prompt_version = p_prompt_version)
      and (p_environment is null or s.environment = p_environment)
      and (p_metric_name is null or s.metric_name = p_metric_name)
  ) as k;
  if v_mv is null then
    return 0;
  end if;
  return benchwatch_private.load_detector_state(v_mv, v_mp, v_dv, v_pv, v_env, v_metric);
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."rebuild_detector_state"(text, text, text, text, text, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."rebuild_detector_state"(text, text, text, text, text, text) IS 'Recomputes detector_state from metric_observations: every row, or those matching the non-null arguments (a series'' identity columns, a metric); removes rows left without observations. Returns how many rows it wrote. The state it writes is the one record_runs keeps run by run (pgTAP 28 checks they are equal); use it after editing metric_observations or the state by hand.';

REVOKE ALL ON FUNCTION "benchwatch_private"."rebuild_detector_state"(text, text, text, text, text, text) FROM PUBLIC;
