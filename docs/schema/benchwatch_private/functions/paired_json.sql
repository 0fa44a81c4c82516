CREATE OR REPLACE FUNCTION benchwatch_private.paired_json (
  p_tx_id uuid
)
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SET search_path TO ''
  AS $function$
  select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'metric_name', pr.metric_name, 'slice', pr.slice, 'kind', pr.kind,
           'direction', pr.direction, 'n_both', pr.n_both, 'worse', pr.worse, 'better', pr.better,
           'mean_diff', pr.mean_diff, 'ci_low', pr.ci_low, 'ci_high', pr.ci_high,
           'p_value', pr.p_value, 'q_value', pr.q_value,
           'examples_mean', case when pr.slice is null then re.mean end,
           'examples_n', case when pr.slice is null then re.n end,
           'aggregate_agrees', case when pr.slice is null then
             pg_catalog.abs(re.mean - (t.metrics ->> pr.metric_name)::numeric) <= 0.0005 end)
           order by pr.metric_name, pr.slice nulls first)
  from benchwatch_private.paired_results pr
  left join benchwatch_private.run_examples re
    on re.transaction_id = pr.transaction_id and re.metric_name = pr.metric_name
  left join public.benchmark_transactions t on t.id = pr.transaction_id
  where pr.transaction_id = p_tx_id
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."paired_json"(uuid) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."paired_json"(uuid) IS 'A run''s paired_results as a JSON array (null when it has none), each overall row with the mean of the run''s example scores and whether it agrees (within 0.0005) with the aggregate the run sent.';

REVOKE ALL ON FUNCTION "benchwatch_private"."paired_json"(uuid) FROM PUBLIC;
