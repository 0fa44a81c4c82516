CREATE OR REPLACE FUNCTION benchwatch_private.parse_run_fields (
  p_run             jsonb,
  p_idempotency_key text
)
  RETURNS benchwatch_private.run_input
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_fields constant text[] := array[
    'commit_sha', 'branch_name', 'model_version', 'model_provider', 'dataset_version',
    'dataset_size', 'prompt_version', 'environment', 'run_id', 'triggered_by', 'metrics',
    'duration_seconds', 'tags', 'notes', 'created_at', 'metric_stderr', 'metric_trials'];
  v_key text := nullif(pg_catalog.btrim(p_idempotency_key), '');
  v_unknown text;
  r benchwatch_private.run_input;
begin
  if p_run is null or pg_catalog.jsonb_typeof(p_run) <> 'object' then
    raise exception using
      errcode = 'BW007',
      message = 'Cannot record run: the run must be a JSON object',
      detail = pg_catalog.format('got %s', coalesce(pg_catalog.jsonb_typeof(p_run), 'null'));
  end if;

  select pg_catalog.string_agg(k.key, ', ' order by k.key) into v_unknown
  from pg_catalog.jsonb_object_keys(p_run) as k(key)
  where k.key <> all (v_fields);
  if v_unknown is not null then
    raise exception using
      errcode = 'BW008',
      message = pg_catalog.format('Cannot record run: unknown field %s', v_unknown),
      hint = 'Known fields: ' || pg_catalog.array_to_string(v_fields, ', ');
  end if;

  r.commit_sha := benchwatch_private.run_text(p_run, 'commit_sha', true);
  r.model_version := benchwatch_private.run_text(p_run, 'model_version', true);
  r.model_provider := benchwatch_private.run_text(p_run, 'model_provider', true);
  r.dataset_version := benchwatch_private.run_text(p_run, 'dataset_version', true);
  r.prompt_version := benchwatch_private.run_text(p_run, 'prompt_version', true);
  r.environment := benchwatch_private.run_text(p_run, 'environment', true);
  r.branch_name := benchwatch_private.run_text(p_run, 'branch_name', false);
  r.run_id := benchwatch_private.run_text(p_run, 'run_id', false);
  r.triggered_by := benchwatch_private.run_text(p_run, 'triggered_by', false);
  r.notes := benchwatch_private.run_text(p_run, 'notes', false);
  r.dataset_size := benchwatch_private.run_number(p_run, 'dataset_size', true)::integer;
  r.duration_seconds := benchwatch_private.run_number(p_run, 'duration_seconds', false);

  if pg_catalog.jsonb_typeof(p_run -> 'tags') = 'array' then
    if exists (select 1 from pg_catalog.jsonb_array_elements(p_run -> 'tags') as t(value)
               where pg_catalog.jsonb_typeof(t.value) <> 'string') then
      raise exception using
        errcode = 'BW007',
        message = 'Cannot record run: tags must be an array of strings';
    end if;
    r.tags := array(select t.value from pg_catalog.jsonb_array_elements_text(p_run -> 'tags') as t(value));
  elsif coalesce(pg_catalog.jsonb_typeof(p_run -> 'tags'), 'null') <> 'null' then
    raise exception using
      errcode = 'BW007',
      message = 'Cannot record run: tags must be an array of strings';
  end if;

  if coalesce(pg_catalog.jsonb_typeof(p_run -> 'created_at'), 'null') <> 'null' then
    begin
      r.created_at := (benchwatch_private.run_text(p_run, 'created_at', false))::timestamptz;
    exception
      when datetime_field_overflow or invalid_datetime_format or invalid_text_representation then
        raise exception using
          errcode = 'BW007',
          message = 'Cannot record run: created_at must be an ISO 8601 timestamp',
          detail = pg_catalog.format('got %s', p_run -> 'created_at');
    end;
  end if;

  r.metrics := p_run -> 'metrics';
  perform benchwatch_private.assert_valid_metrics(r.metrics);
  perform benchwatch_private.assert_valid_metric_noise(p_run);
  r.metric_stderr := p_run -> 'metric_stderr';
  r.metric_trials := p_run -> 'metric_trials';

  -- The run's identity: its Idempotency-Key, else what makes it the same run.
  r.request_hash := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_strip_nulls(p_run)::text, 'UTF8'));
  if v_key is not null then
    r.identity_kind := 'idempotency_key';
    r.identity_hash := pg_catalog.sha256(pg_catalog.convert_to('idempotency-key:' || v_key, 'UTF8'));
  else
    r.identity_kind := 'run_identity';
    r.identity_hash := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_array(
      'run-identity', r.run_id, r.commit_sha, r.model_version, r.model_provider, r.dataset_version,
      r.prompt_version, r.environment, r.metrics)::text, 'UTF8'));
  end if;
  r.tx_id := gen_random_uuid();
  return r;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."parse_run_fields"(jsonb, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."parse_run_fields"(jsonb, text) IS 'Validates one run (BW001-BW008 errors) and returns its fields, its request hash and a new transaction id. parse_run adds the run''s identity.';

REVOKE ALL ON FUNCTION "benchwatch_private"."parse_run_fields"(jsonb, text) FROM PUBLIC;
