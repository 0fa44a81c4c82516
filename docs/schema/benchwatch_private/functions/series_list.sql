CREATE OR REPLACE FUNCTION benchwatch_private.series_list()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'model_version', s.model_version,
           'model_provider', s.model_provider,
           'dataset_version', s.dataset_version,
           'prompt_version', s.prompt_version,
           'environment', s.environment,
           'last_run_at', s.created_at,
           'metrics', (select coalesce(pg_catalog.jsonb_agg(k.key order by k.key), '[]'::jsonb)
                       from pg_catalog.jsonb_object_keys(s.metrics) as k(key)))
         order by s.model_version, s.dataset_version, s.environment, s.model_provider, s.prompt_version),
         '[]'::jsonb)
  from public.benchmark_snapshots s
  where s.pinned_at is null
    and s.is_active
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."series_list"() TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."series_list"() IS 'Every active series (model_version, model_provider, dataset_version, prompt_version, environment) with its last run time and metric names.';

REVOKE ALL ON FUNCTION "benchwatch_private"."series_list"() FROM PUBLIC;
