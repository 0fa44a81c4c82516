CREATE OR REPLACE FUNCTION public.unpin_baseline (
  p_model_version   text,
  p_environment     text,
  p_dataset_version text DEFAULT NULL::text,
  p_model_provider  text DEFAULT NULL::text,
  p_prompt_version  text DEFAULT NULL::text
)
  RETURNS integer
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_count integer;
begin
  delete from public.benchmark_snapshots s
  where s.pinned_at is not null
    and s.model_version = p_model_version
    and s.environment = p_environment
    and (p_dataset_version is null or s.dataset_version = p_dataset_version)
    and (p_model_provider is null or s.model_provider = p_model_provider)
    and (p_prompt_version is null or s.prompt_version = p_prompt_version);
  get diagnostics v_count = row_count;
  return v_count;
end
$function$;

GRANT EXECUTE ON FUNCTION "public"."unpin_baseline"(text, text, text, text, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "public"."unpin_baseline"(text, text, text, text, text) IS 'Unpins the baselines of a model_version in an environment (optionally narrowed by dataset, provider and prompt); returns how many were unpinned. The series keep their latest rows.';

REVOKE ALL ON FUNCTION "public"."unpin_baseline"(text, text, text, text, text) FROM PUBLIC;
