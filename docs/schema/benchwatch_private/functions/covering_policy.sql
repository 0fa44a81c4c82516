CREATE OR REPLACE FUNCTION benchwatch_private.covering_policy (
  p_metric text
)
  RETURNS TABLE (
    metric    text,
    direction text
  )
  LANGUAGE sql
  STABLE
  ROWS 1
  SET search_path TO ''
  AS $function$
  -- The same choice as metric_policy: the exact name wins, then the longest pattern.
  select mp.metric, mp.direction
  from public.metric_policies mp
  where mp.metric = p_metric
     or (pg_catalog.strpos(mp.metric, '*') > 0
         and p_metric like pg_catalog.replace(
               pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(mp.metric, '\', '\\'), '%', '\%'), '_', '\_'),
               '*', '%'))
  order by (mp.metric = p_metric) desc, pg_catalog.length(mp.metric) desc, mp.metric
  limit 1
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."covering_policy"(text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."covering_policy"(text) IS 'The metric_policies row (exact name, else the longest matching * pattern) that decides a metric''s direction, or no row when only the name rule does.';

REVOKE ALL ON FUNCTION "benchwatch_private"."covering_policy"(text) FROM PUBLIC;
