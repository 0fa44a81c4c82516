CREATE OR REPLACE FUNCTION benchwatch_private.current_snapshot (
  p_filters jsonb
)
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  select benchwatch_private.current_snapshot_json(p_filters)::jsonb
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."current_snapshot"(jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."current_snapshot"(jsonb) IS 'current_snapshot_json as jsonb, for SQL callers.';

REVOKE ALL ON FUNCTION "benchwatch_private"."current_snapshot"(jsonb) FROM PUBLIC;
