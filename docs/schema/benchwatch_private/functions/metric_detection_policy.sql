CREATE OR REPLACE FUNCTION benchwatch_private.metric_detection_policy (
  p_metric text
)
  RETURNS TABLE (
    sensitivity       numeric,
    confirmation_runs integer,
    min_history       integer,
    history_window    integer,
    proportion        boolean,
    resolve_fraction  numeric,
    reference_runs    integer
  )
  LANGUAGE plpgsql
  STABLE
  ROWS 1
  SET search_path TO ''
  AS $function$
#variable_conflict use_column
begin
  return query
select coalesce(p.sensitivity, d.sensitivity),
         coalesce(p.confirmation_runs, d.confirmation_runs),
         coalesce(p.min_history, d.min_history),
         coalesce(p.history_window, d.history_window),
         coalesce(p.proportion, false),
         d.resolve_fraction,
         d.reference_runs
  from benchwatch_private.detection_defaults d
  left join lateral (
    select mp.sensitivity, mp.confirmation_runs, mp.min_history, mp.history_window, mp.proportion
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

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metric_detection_policy"(text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."metric_detection_policy"(text) IS 'Effective alerting knobs for a metric: its metric_policies row, else benchwatch_private.detection_defaults (sensitivity 2, confirmation_runs 2, min_history 5, history_window 30, resolve_fraction 0.5, reference_runs 30); proportion false. evidence_runs, evidence_z and clip_z are read from detection_defaults by assess_runs.';

REVOKE ALL ON FUNCTION "benchwatch_private"."metric_detection_policy"(text) FROM PUBLIC;
