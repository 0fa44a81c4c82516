CREATE OR REPLACE FUNCTION benchwatch_private.ingest_runs (
  p_runs            jsonb,
  p_idempotency_key text  DEFAULT NULL::text
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_count integer;
  v_key text := nullif(pg_catalog.btrim(p_idempotency_key), '');
  v_answers jsonb[];
begin
  if p_runs is null or pg_catalog.jsonb_typeof(p_runs) <> 'array' then
    raise exception using
      errcode = 'BW013',
      message = 'Cannot record runs: the body must be a JSON array of runs',
      detail = pg_catalog.format('got %s', coalesce(pg_catalog.jsonb_typeof(p_runs), 'null'));
  end if;

  v_count := pg_catalog.jsonb_array_length(p_runs);
  if v_count = 0 then
    raise exception using
      errcode = 'BW013',
      message = 'Cannot record runs: the batch is empty',
      hint = 'Send between 1 and 1000 runs.';
  end if;
  if v_count > 1000 then
    raise exception using
      errcode = 'BW013',
      message = 'Cannot record runs: a batch holds at most 1000 runs',
      detail = pg_catalog.format('got %s runs', v_count),
      hint = 'Split the batch into several requests.';
  end if;

  -- One run keeps its key and its errors as they are; in a batch, run i's key is
  -- <key>#<i> and its errors say runs[i].
  if v_count = 1 then
    v_answers := benchwatch_private.record_runs(p_runs, array[p_idempotency_key], false);
  else
    v_answers := benchwatch_private.record_runs(
      p_runs, array(select v_key || '#' || i::text from pg_catalog.generate_series(0, v_count - 1) as i), true);
  end if;

  return pg_catalog.jsonb_build_object('runs', benchwatch_private.with_snapshot_ids(v_answers));
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."ingest_runs"(jsonb, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."ingest_runs"(jsonb, text) IS 'Batch ingest: records a JSON array of 1 to 1000 runs with record_run, all or nothing, and returns {"runs": [verdict + snapshot_id, ...]} in input order. A batch''s Idempotency-Key becomes <key>#<index> per run; errors keep their SQLSTATE and, in a batch, name the run as runs[<index>].';

REVOKE ALL ON FUNCTION "benchwatch_private"."ingest_runs"(jsonb, text) FROM PUBLIC;
