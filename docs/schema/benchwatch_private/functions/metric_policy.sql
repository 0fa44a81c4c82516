CREATE OR REPLACE FUNCTION benchwatch_private.metric_policy (
  p_metric            text,
  p_default_threshold numeric
)
  RETURNS TABLE (
    direction          text,
    relative_threshold numeric,
    absolute_floor     numeric,
    source             text
  )
  LANGUAGE plpgsql
  STABLE
  ROWS 1
  SET search_path TO ''
  AS $function$
#variable_conflict use_column
begin
  return query
select coalesce(p.direction, benchwatch_private.metric_direction_by_name(p_metric)),
         coalesce(p.relative_threshold, p_default_threshold),
         coalesce(p.absolute_floor, 0),
         -- direction_unknown: 'none' when neither a policy nor the name rule gives a direction.
         coalesce(p.source,
                  case when benchwatch_private.metric_direction_by_name(p_metric) is null
                       then 'none' else 'name_rule' end)
  from (select 1) as one
  left join lateral (
    select mp.direction,
           mp.relative_threshold,
           mp.absolute_floor,
           case when mp.metric = p_metric then 'policy' else 'policy_pattern' end as source
    from public.metric_policies mp
    where mp.metric = p_metric
       or (pg_catalog.strpos(mp.metric, '*') > 0
           and p_metric like pg_catalog.replace(
                 pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(mp.metric, '\', '\\'), '%', '\%'), '_', '\_'),
                 '*', '%'))
    order by (mp.metric = p_metric) desc, pg_catalog.length(mp.metric) desc, mp.metric
    limit 1
  ) as p on true;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metric_policy"(text, numeric) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."metric_policy"(text, numeric) IS 'Effective direction, relative threshold, absolute floor and source (policy, policy_pattern, name_rule, or none with a null direction when nothing gives one) for a metric.';

REVOKE ALL ON FUNCTION "benchwatch_private"."metric_policy"(text, numeric) FROM PUBLIC;
