CREATE OR REPLACE FUNCTION public.upsert_benchmark_result (
  p_commit_sha       text,
  p_branch_name      text,
  p_model_version    text,
  p_model_provider   text,
  p_dataset_version  text,
  p_dataset_size     integer,
  p_prompt_version   text,
  p_environment      text,
  p_run_id           text,
  p_triggered_by     text,
  p_metrics          jsonb,
  p_duration_seconds numeric,
  p_tags             text[],
  p_notes            text
)
  RETURNS uuid
  LANGUAGE sql
  SET search_path TO ''
  AS $function$
  select (benchwatch_private.record_run(pg_catalog.jsonb_build_object(
    'commit_sha', p_commit_sha,
    'branch_name', p_branch_name,
    'model_version', p_model_version,
    'model_provider', p_model_provider,
    'dataset_version', p_dataset_version,
    'dataset_size', p_dataset_size,
    'prompt_version', p_prompt_version,
    'environment', p_environment,
    'run_id', p_run_id,
    'triggered_by', p_triggered_by,
    'metrics', p_metrics,
    'duration_seconds', p_duration_seconds,
    'tags', p_tags,
    'notes', p_notes)) ->> 'transaction_id')::uuid
$function$;

GRANT EXECUTE
  ON FUNCTION "public"."upsert_benchmark_result"(text, text, text, text, text, integer, text, text, text, text, jsonb, numeric, text[], text)
  TO "postgres", "service_role";

COMMENT ON FUNCTION "public"."upsert_benchmark_result"(text, text, text, text, text, integer, text, text, text, text, jsonb, numeric, text[], text) IS 'Records one benchmark run (the setup guide''s API): appends it to benchmark_transactions, updates the series snapshot and regression alerts, and returns the run''s uuid. Repeating the same run returns the same uuid.';

REVOKE ALL ON FUNCTION "public"."upsert_benchmark_result"(text, text, text, text, text, integer, text, text, text, text, jsonb, numeric, text[], text) FROM PUBLIC;
