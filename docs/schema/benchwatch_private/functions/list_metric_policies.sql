CREATE OR REPLACE FUNCTION benchwatch_private.list_metric_policies()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
    'metric', mp.metric, 'direction', mp.direction,
    'relative_threshold', mp.relative_threshold, 'absolute_floor', mp.absolute_floor,
    'description', mp.description, 'updated_at', mp.updated_at) order by mp.metric), '[]'::jsonb)
  from public.metric_policies mp
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."list_metric_policies"() TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."list_metric_policies"() IS 'Every metric policy (exact names and * patterns), by metric.';

REVOKE ALL ON FUNCTION "benchwatch_private"."list_metric_policies"() FROM PUBLIC;
