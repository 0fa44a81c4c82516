CREATE OR REPLACE FUNCTION benchwatch_private.filter_values()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  with active as (
    select s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment, s.tags
    from public.benchmark_snapshots s
    where s.pinned_at is null
      and s.is_active
  )
  select pg_catalog.jsonb_build_object(
    'model_version', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
                      from (select distinct a.model_version as value from active a) as v),
    'model_provider', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
                       from (select distinct a.model_provider as value from active a) as v),
    'dataset_version', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
                        from (select distinct a.dataset_version as value from active a) as v),
    'prompt_version', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
                       from (select distinct a.prompt_version as value from active a) as v),
    'environment', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
                    from (select distinct a.environment as value from active a) as v),
    'tags', (select coalesce(pg_catalog.jsonb_agg(v.value order by v.value), '[]'::jsonb)
             from (select distinct t.value from active a cross join lateral pg_catalog.unnest(a.tags) as t(value)) as v))
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."filter_values"() TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."filter_values"() IS 'Distinct sorted model_version, model_provider, dataset_version, prompt_version, environment and tags values over the active latest snapshots, for the dashboard''s filters.';

REVOKE ALL ON FUNCTION "benchwatch_private"."filter_values"() FROM PUBLIC;
