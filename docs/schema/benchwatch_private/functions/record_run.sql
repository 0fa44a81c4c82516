CREATE OR REPLACE FUNCTION benchwatch_private.record_run (
  p_run             jsonb,
  p_idempotency_key text  DEFAULT NULL::text
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
begin
  return (benchwatch_private.record_runs(pg_catalog.jsonb_build_array(p_run), array[p_idempotency_key], false))[1];
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."record_run"(jsonb, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."record_run"(jsonb, text) IS 'Ingest entrypoint: validates and records one run (jsonb with the benchmark_transactions fields, optional metric_stderr / metric_trials; created_at optional for backfills), idempotently, updating the snapshot, the per-metric detection state and the noise-aware alerts in the same transaction. Returns the verdict as jsonb.';

REVOKE ALL ON FUNCTION "benchwatch_private"."record_run"(jsonb, text) FROM PUBLIC;
