CREATE OR REPLACE FUNCTION benchwatch_private.metrics_are_valid (
  p_metrics jsonb
)
  RETURNS boolean
  LANGUAGE plpgsql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
begin
  if p_metrics is null or pg_catalog.jsonb_typeof(p_metrics) <> 'object' or p_metrics = '{}'::jsonb then
    return false;
  end if;
  return not exists (
    select 1
    from pg_catalog.jsonb_each(p_metrics) as m(key, value)
    where pg_catalog.jsonb_typeof(m.value) <> 'number');
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metrics_are_valid"(jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."metrics_are_valid"(jsonb) IS 'True when metrics is a non-empty JSON object whose every value is a JSON number; used by a CHECK constraint.';

REVOKE ALL ON FUNCTION "benchwatch_private"."metrics_are_valid"(jsonb) FROM PUBLIC;
