CREATE OR REPLACE FUNCTION benchwatch_private.alert_severity (
  p_relative_change    numeric,
  p_relative_threshold numeric
)
  RETURNS text
  LANGUAGE sql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
  select case
    -- A change from a zero baseline is unbounded.
    when p_relative_change is null then 'critical'
    when abs(p_relative_change) >= 4 * p_relative_threshold then 'critical'
    when abs(p_relative_change) >= 2 * p_relative_threshold then 'major'
    else 'minor'
  end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."alert_severity"(numeric, numeric) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."alert_severity"(numeric, numeric) IS 'critical if |relative change| >= 4x the relative threshold (or the baseline was 0), major if >= 2x, else minor.';

REVOKE ALL ON FUNCTION "benchwatch_private"."alert_severity"(numeric, numeric) FROM PUBLIC;
