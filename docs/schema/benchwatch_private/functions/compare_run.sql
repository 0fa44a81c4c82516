CREATE OR REPLACE FUNCTION benchwatch_private.compare_run (
  p_model_version   text,
  p_model_provider  text,
  p_dataset_version text,
  p_prompt_version  text,
  p_environment     text,
  p_metrics         jsonb,
  p_threshold       numeric
)
  RETURNS TABLE (
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
  ROWS 20
  SET search_path TO ''
  AS $function$
#variable_conflict use_column
begin
  return query
  select c.metric_name, c.status, c.is_regression, c.baseline_value, c.current_value, c.absolute_change, c.relative_change, c.direction, c.relative_threshold, c.absolute_floor, c.policy_source, c.baseline_snapshot_id, c.baseline_transaction_id, c.baseline_model_version, c.baseline_prompt_version, c.baseline_pinned_at, c.prompt_mismatch
  from benchwatch_private.compare_runs(
    array[p_model_version], array[p_model_provider], array[p_dataset_version],
    array[p_prompt_version], array[p_environment], array[p_metrics], p_threshold) as c
  order by c.metric_name;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."compare_run"(text, text, text, text, text, jsonb, numeric) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."compare_run"(text, text, text, text, text, jsonb, numeric) IS 'Compares metrics of a series with the baseline that applies to it; one row per metric of the run or the baseline, with status regression, ok, missing_in_run, missing_in_baseline or no_baseline.';

REVOKE ALL ON FUNCTION "benchwatch_private"."compare_run"(text, text, text, text, text, jsonb, numeric) FROM PUBLIC;
