CREATE OR REPLACE FUNCTION benchwatch_private.metric_direction_by_name (
  p_metric text
)
  RETURNS text
  LANGUAGE plpgsql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
begin
  return case
    when pg_catalog.lower(p_metric) ~ '(_ms|_cost|_usd|_seconds|_secs|_sec|loss|error|errors|error_rate|latency|perplexity|duration)$'
      or pg_catalog.lower(p_metric) ~ '^(latency|cost|loss|error|perplexity|duration)'
    then 'lower'
    -- direction_unknown: no guess for any other name.
    else null
  end;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metric_direction_by_name"(text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."metric_direction_by_name"(text) IS 'Name rule for metrics without a policy: names ending _ms, _cost, _seconds, loss, error, latency, perplexity, ... are lower-is-better; any other name has no direction (null: its verdict is direction_unknown).';

REVOKE ALL ON FUNCTION "benchwatch_private"."metric_direction_by_name"(text) FROM PUBLIC;
