CREATE OR REPLACE FUNCTION benchwatch_private.paired_alert_evidence (
  p_tx_id  uuid,
  p_metric text
)
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SET search_path TO ''
  AS $function$
  select pg_catalog.jsonb_build_object(
           'n_both', o.n_both, 'worse', o.worse, 'better', o.better,
           'p_value', o.p_value, 'q_value', o.q_value,
           'worst_slice', (
             select pg_catalog.jsonb_build_object(
                      'slice', s.slice, 'n_both', s.n_both, 'worse', s.worse, 'better', s.better,
                      'p_value', s.p_value, 'q_value', s.q_value)
             from benchwatch_private.paired_results s
             where s.transaction_id = p_tx_id and s.metric_name = p_metric
               and s.slice is not null and s.worse > s.better
             order by s.q_value, s.worse - s.better desc, s.slice
             limit 1))
  from benchwatch_private.paired_results o
  where o.transaction_id = p_tx_id and o.metric_name = p_metric and o.slice is null
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."paired_alert_evidence"(uuid, text) TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."paired_alert_evidence"(uuid, text) IS 'The paired evidence an alert event names for one metric of a run (claim_alert_events, the Slack message): the run''s overall paired comparison with its baseline run (n_both, worse, better, p_value, q_value) and worst_slice, the slice with the smallest q among those with more examples worse than better (ties: the larger worse - better, then the slice; '''' is unlabelled examples), or null when none is. Null when the run has no paired row for the metric.';

REVOKE ALL ON FUNCTION "benchwatch_private"."paired_alert_evidence"(uuid, text) FROM PUBLIC;
