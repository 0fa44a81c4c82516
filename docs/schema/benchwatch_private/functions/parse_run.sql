CREATE OR REPLACE FUNCTION benchwatch_private.parse_run (
  p_run             jsonb,
  p_idempotency_key text
)
  RETURNS benchwatch_private.run_input
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_key text := nullif(pg_catalog.btrim(p_idempotency_key), '');
  v_key_hash bytea;
  v_first_request bytea;
  v_directions jsonb;
  v_examples jsonb;
  r benchwatch_private.run_input;
begin
  -- metric_directions is applied here and is no field of the run itself (nor of its hashes).
  if pg_catalog.jsonb_typeof(p_run) = 'object' and p_run ? 'metric_directions' then
    v_directions := p_run -> 'metric_directions';
    p_run := p_run - 'metric_directions';
  end if;
  -- examples are validated and stored apart (paired_gate); they are no field of the run's
  -- identity, but a different list is a different request.
  if pg_catalog.jsonb_typeof(p_run) = 'object' and p_run ? 'examples' then
    v_examples := p_run -> 'examples';
    p_run := p_run - 'examples';
  end if;
  r := benchwatch_private.parse_run_fields(p_run, null);
  perform benchwatch_private.apply_metric_directions(v_directions, r.metrics);
  if v_examples is not null then
    perform benchwatch_private.assert_valid_examples(v_examples, r.metrics);
    r.request_hash := pg_catalog.sha256(r.request_hash || pg_catalog.sha256(pg_catalog.convert_to(v_examples::text, 'UTF8')));
  end if;

  r.identity_kind := 'run_identity';
  r.identity_hash := benchwatch_private.run_identity_hash(r);
  if v_key is null then
    return r;
  end if;

  v_key_hash := pg_catalog.sha256(pg_catalog.convert_to('idempotency-key:' || v_key, 'UTF8'));
  -- A key stored as a run's identity (kind idempotency_key) still names it (record_runs replays it,
  -- or refuses it with BW009 for a different run).
  if exists (select 1 from benchwatch_private.run_identities i
             where i.identity_hash = v_key_hash and i.kind = 'idempotency_key') then
    r.identity_kind := 'idempotency_key';
    r.identity_hash := v_key_hash;
    return r;
  end if;

  -- Waits for a concurrent transaction that claimed the same key, then compares with it.
  insert into benchwatch_private.idempotency_keys (key_hash, request_hash)
  values (v_key_hash, r.request_hash)
  on conflict (key_hash) do nothing;
  if not found then
    select k.request_hash into v_first_request
    from benchwatch_private.idempotency_keys k
    where k.key_hash = v_key_hash;
    if v_first_request <> r.request_hash then
      raise exception using
        errcode = 'BW009',
        message = 'Cannot record run: this Idempotency-Key was already used with a different run',
        hint = 'Use a new Idempotency-Key for a different run.';
    end if;
  end if;
  return r;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."parse_run"(jsonb, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."parse_run"(jsonb, text) IS 'Validates one run (parse_run_fields), applies its metric_directions (apply_metric_directions: BW022 on a conflict), validates its examples (assert_valid_examples: BW030-BW032, folded into the request hash, not the identity) and returns it with its identity: series, run_id, commit_sha, metrics and created_at if given (run_identity_hash), whatever the Idempotency-Key. A key is claimed in idempotency_keys; the same key with a different run is BW009.';

REVOKE ALL ON FUNCTION "benchwatch_private"."parse_run"(jsonb, text) FROM PUBLIC;
