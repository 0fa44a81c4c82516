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
  select pol.sensitivity, pol.confirmation_runs, pol.min_history, pol.history_window, pol.proportion,
         pol.resolve_fraction, pol.reference_runs
  from benchwatch_private.metric_detection_policies(array[p_metric]) as pol;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metric_detection_policy"(text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."metric_detection_policy"(text) IS 'Effective alerting knobs for a metric: its metric_policies row, else benchwatch_private.detection_defaults (sensitivity 2, confirmation_runs 2, min_history 5, history_window 30, resolve_fraction 0.5, reference_runs 30); proportion false. evidence_runs, evidence_z and clip_z are read from detection_defaults by assess_runs. metric_detection_policies for one metric.';

REVOKE ALL ON FUNCTION "benchwatch_private"."metric_detection_policy"(text) FROM PUBLIC;
