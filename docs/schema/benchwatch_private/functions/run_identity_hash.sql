CREATE OR REPLACE FUNCTION benchwatch_private.run_identity_hash (
  p_run benchwatch_private.run_input
)
  RETURNS bytea
  LANGUAGE plpgsql
  IMMUTABLE
  SET search_path TO ''
  AS $function$
begin
  -- Without created_at this is the identity runs without a key always had, so their
  -- retries keep replaying.
  return pg_catalog.sha256(pg_catalog.convert_to(
    case when p_run.created_at is null then
      pg_catalog.jsonb_build_array(
        'run-identity', p_run.run_id, p_run.commit_sha, p_run.model_version, p_run.model_provider,
        p_run.dataset_version, p_run.prompt_version, p_run.environment, p_run.metrics)
    else
      pg_catalog.jsonb_build_array(
        'run-identity', p_run.run_id, p_run.commit_sha, p_run.model_version, p_run.model_provider,
        p_run.dataset_version, p_run.prompt_version, p_run.environment, p_run.metrics,
        pg_catalog.to_char(pg_catalog.timezone('UTC', p_run.created_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
    end::text, 'UTF8'));
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."run_identity_hash"(benchwatch_private.run_input) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."run_identity_hash"(benchwatch_private.run_input) IS 'What makes two runs the same run: SHA-256 of series, run_id, commit_sha and metrics, plus created_at (as a UTC instant) when the run gives one.';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_identity_hash"(benchwatch_private.run_input) FROM PUBLIC;
