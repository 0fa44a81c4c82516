-- Why: one function records a run, in one transaction, the same way for every
-- caller: the setup guide's `upsert_benchmark_result` (14 arguments, returns the
-- run's uuid) and the ingest Edge Function (`benchwatch_private.record_run`,
-- a jsonb payload, returns the full verdict as jsonb). It
--   1. validates the run (bad metrics are rejected with stable SQLSTATEs and
--      nothing is written);
--   2. claims the run's identity, so a retry returns the first answer and writes
--      nothing new: the Idempotency-Key if one is given, else (run_id, commit_sha,
--      series, metrics). A unique key on the identity hash with INSERT ... ON
--      CONFLICT makes this race-safe;
--   3. appends the run to benchmark_transactions;
--   4. moves the series' latest snapshot to this run unless a newer run (by
--      created_at) is already there - ON CONFLICT ... WHERE on the row lock keeps
--      this right under concurrent writers and backfills;
--   5. compares the run with its baseline and, if the run is now the series'
--      latest, opens, continues or resolves regression alerts.

create table benchwatch_private.run_identities (
  identity_hash bytea not null,
  kind text not null,
  request_hash bytea not null,
  transaction_id uuid not null,
  response jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint run_identities_pkey primary key (identity_hash),
  constraint run_identities_kind_valid check (kind in ('idempotency_key', 'run_identity'))
);

comment on table benchwatch_private.run_identities is
  'Idempotency records: the identity of every recorded run (Idempotency-Key, or run_id + commit + series + metrics) and the answer it got.';

create index run_identities_transaction_id_idx on benchwatch_private.run_identities (transaction_id);

alter table benchwatch_private.run_identities enable row level security;
revoke all on table benchwatch_private.run_identities from public, anon, authenticated, service_role;

-- Bad metrics: not an object, empty, a non-number, or a non-finite number.
create or replace function benchwatch_private.assert_valid_metrics(p_metrics jsonb)
returns void
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_key text;
  v_value jsonb;
begin
  if p_metrics is null or pg_catalog.jsonb_typeof(p_metrics) <> 'object' then
    raise exception using
      errcode = 'BW001',
      message = 'Cannot record run: metrics must be a JSON object of metric name to number',
      detail = pg_catalog.format('metrics is %s', coalesce(pg_catalog.jsonb_typeof(p_metrics), 'missing'));
  end if;

  if p_metrics = '{}'::jsonb then
    raise exception using
      errcode = 'BW002',
      message = 'Cannot record run: metrics must not be empty';
  end if;

  for v_key, v_value in
    select m.key, m.value from pg_catalog.jsonb_each(p_metrics) as m(key, value) order by m.key
  loop
    continue when pg_catalog.jsonb_typeof(v_value) = 'number';
    if pg_catalog.jsonb_typeof(v_value) = 'string'
       and (v_value #>> '{}') ~* '^\s*[+-]?(nan|inf|infinity)\s*$' then
      raise exception using
        errcode = 'BW004',
        message = pg_catalog.format('Cannot record run: metric "%s" is not a finite number', v_key),
        detail = pg_catalog.format('value: %s', v_value);
    end if;
    raise exception using
      errcode = 'BW003',
      message = pg_catalog.format('Cannot record run: metric "%s" is not a number', v_key),
      detail = pg_catalog.format('value: %s (JSON %s)', v_value, pg_catalog.jsonb_typeof(v_value));
  end loop;
end
$$;

comment on function benchwatch_private.assert_valid_metrics(jsonb) is
  'Raises BW001-BW004 unless metrics is a non-empty JSON object of finite numbers.';

revoke execute on function benchwatch_private.assert_valid_metrics(jsonb) from public, anon, authenticated;
grant execute on function benchwatch_private.assert_valid_metrics(jsonb) to service_role;

-- A text field of the run payload: absent or JSON null is null; anything but a
-- string is BW007; a required field that is missing or blank is BW005.
create or replace function benchwatch_private.run_text(p_run jsonb, p_field text, p_required boolean)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_value jsonb := p_run -> p_field;
begin
  if v_value is null or pg_catalog.jsonb_typeof(v_value) = 'null' then
    if p_required then
      raise exception using
        errcode = 'BW005',
        message = pg_catalog.format('Cannot record run: %s is required', p_field);
    end if;
    return null;
  end if;

  if pg_catalog.jsonb_typeof(v_value) <> 'string' then
    raise exception using
      errcode = 'BW007',
      message = pg_catalog.format('Cannot record run: %s must be a string', p_field),
      detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(v_value));
  end if;

  if p_required and pg_catalog.btrim(v_value #>> '{}') = '' then
    raise exception using
      errcode = 'BW005',
      message = pg_catalog.format('Cannot record run: %s is required', p_field);
  end if;
  return v_value #>> '{}';
end
$$;

comment on function benchwatch_private.run_text(jsonb, text, boolean) is
  'Reads a text field of a run payload, raising BW005 (required, missing) or BW007 (not a string).';

revoke execute on function benchwatch_private.run_text(jsonb, text, boolean) from public, anon, authenticated, service_role;

-- A non-negative number field of the run payload (BW007 wrong type, BW006 negative).
create or replace function benchwatch_private.run_number(p_run jsonb, p_field text, p_integer boolean)
returns numeric
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_value jsonb := p_run -> p_field;
  v_number numeric;
begin
  if v_value is null or pg_catalog.jsonb_typeof(v_value) = 'null' then
    return null;
  end if;

  if pg_catalog.jsonb_typeof(v_value) <> 'number' then
    raise exception using
      errcode = 'BW007',
      message = pg_catalog.format('Cannot record run: %s must be a number', p_field),
      detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(v_value));
  end if;

  v_number := (v_value #>> '{}')::numeric;
  if p_integer and (v_number <> pg_catalog.trunc(v_number) or v_number > 2147483647) then
    raise exception using
      errcode = 'BW007',
      message = pg_catalog.format('Cannot record run: %s must be a whole number', p_field),
      detail = pg_catalog.format('got %s', v_number);
  end if;

  if v_number < 0 then
    raise exception using
      errcode = 'BW006',
      message = pg_catalog.format('Cannot record run: %s must not be negative', p_field),
      detail = pg_catalog.format('got %s', v_number);
  end if;
  return v_number;
end
$$;

comment on function benchwatch_private.run_number(jsonb, text, boolean) is
  'Reads a non-negative number field of a run payload, raising BW007 (not a number / not whole) or BW006 (negative).';

revoke execute on function benchwatch_private.run_number(jsonb, text, boolean) from public, anon, authenticated, service_role;

create or replace function benchwatch_private.record_run(p_run jsonb, p_idempotency_key text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_fields constant text[] := array[
    'commit_sha', 'branch_name', 'model_version', 'model_provider', 'dataset_version',
    'dataset_size', 'prompt_version', 'environment', 'run_id', 'triggered_by', 'metrics',
    'duration_seconds', 'tags', 'notes', 'created_at'];
  v_unknown text;
  v_commit_sha text;
  v_branch_name text;
  v_model_version text;
  v_model_provider text;
  v_dataset_version text;
  v_dataset_size integer;
  v_prompt_version text;
  v_environment text;
  v_run_id text;
  v_triggered_by text;
  v_metrics jsonb;
  v_duration_seconds numeric;
  v_tags text[];
  v_notes text;
  v_created_at timestamptz;
  v_key text := nullif(pg_catalog.btrim(p_idempotency_key), '');
  v_identity bytea;
  v_request bytea;
  v_claimed uuid;
  v_existing_request bytea;
  v_existing_response jsonb;
  v_tx_id uuid := gen_random_uuid();
  v_snapshot_id uuid;
  v_rows jsonb;
  v_opened jsonb;
  v_continued jsonb;
  v_resolved jsonb;
  v_response jsonb;
begin
  -- 1. Validate.
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

  v_commit_sha := benchwatch_private.run_text(p_run, 'commit_sha', true);
  v_model_version := benchwatch_private.run_text(p_run, 'model_version', true);
  v_model_provider := benchwatch_private.run_text(p_run, 'model_provider', true);
  v_dataset_version := benchwatch_private.run_text(p_run, 'dataset_version', true);
  v_prompt_version := benchwatch_private.run_text(p_run, 'prompt_version', true);
  v_environment := benchwatch_private.run_text(p_run, 'environment', true);
  v_branch_name := benchwatch_private.run_text(p_run, 'branch_name', false);
  v_run_id := benchwatch_private.run_text(p_run, 'run_id', false);
  v_triggered_by := benchwatch_private.run_text(p_run, 'triggered_by', false);
  v_notes := benchwatch_private.run_text(p_run, 'notes', false);
  v_dataset_size := benchwatch_private.run_number(p_run, 'dataset_size', true)::integer;
  v_duration_seconds := benchwatch_private.run_number(p_run, 'duration_seconds', false);

  if pg_catalog.jsonb_typeof(p_run -> 'tags') = 'array' then
    if exists (select 1 from pg_catalog.jsonb_array_elements(p_run -> 'tags') as t(value)
               where pg_catalog.jsonb_typeof(t.value) <> 'string') then
      raise exception using
        errcode = 'BW007',
        message = 'Cannot record run: tags must be an array of strings';
    end if;
    v_tags := array(select t.value from pg_catalog.jsonb_array_elements_text(p_run -> 'tags') as t(value));
  elsif coalesce(pg_catalog.jsonb_typeof(p_run -> 'tags'), 'null') <> 'null' then
    raise exception using
      errcode = 'BW007',
      message = 'Cannot record run: tags must be an array of strings';
  end if;

  if coalesce(pg_catalog.jsonb_typeof(p_run -> 'created_at'), 'null') <> 'null' then
    begin
      v_created_at := (benchwatch_private.run_text(p_run, 'created_at', false))::timestamptz;
    exception
      when datetime_field_overflow or invalid_datetime_format or invalid_text_representation then
        raise exception using
          errcode = 'BW007',
          message = 'Cannot record run: created_at must be an ISO 8601 timestamp',
          detail = pg_catalog.format('got %s', p_run -> 'created_at');
    end;
  end if;

  v_metrics := p_run -> 'metrics';
  perform benchwatch_private.assert_valid_metrics(v_metrics);

  -- 2. Claim the run's identity.
  v_request := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_strip_nulls(p_run)::text, 'UTF8'));
  if v_key is not null then
    v_identity := pg_catalog.sha256(pg_catalog.convert_to('idempotency-key:' || v_key, 'UTF8'));
  else
    v_identity := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_array(
      'run-identity', v_run_id, v_commit_sha, v_model_version, v_model_provider, v_dataset_version,
      v_prompt_version, v_environment, v_metrics)::text, 'UTF8'));
  end if;

  insert into benchwatch_private.run_identities (identity_hash, kind, request_hash, transaction_id)
  values (v_identity, case when v_key is null then 'run_identity' else 'idempotency_key' end, v_request, v_tx_id)
  on conflict (identity_hash) do nothing
  returning transaction_id into v_claimed;

  if v_claimed is null then
    select r.request_hash, r.response into v_existing_request, v_existing_response
    from benchwatch_private.run_identities r
    where r.identity_hash = v_identity;

    if v_key is not null and v_existing_request <> v_request then
      raise exception using
        errcode = 'BW009',
        message = 'Cannot record run: this Idempotency-Key was already used with a different run',
        hint = 'Use a new Idempotency-Key for a different run.';
    end if;
    return v_existing_response || pg_catalog.jsonb_build_object('replayed', true);
  end if;

  v_created_at := coalesce(v_created_at, pg_catalog.now());

  -- 3. Append to the log.
  insert into public.benchmark_transactions (
    id, commit_sha, branch_name, model_version, model_provider, dataset_version, dataset_size,
    prompt_version, environment, run_id, triggered_by, metrics, duration_seconds, tags, notes, created_at)
  values (
    v_tx_id, v_commit_sha, v_branch_name, v_model_version, v_model_provider, v_dataset_version,
    v_dataset_size, v_prompt_version, v_environment, v_run_id, v_triggered_by, v_metrics,
    v_duration_seconds, coalesce(v_tags, '{}'), v_notes, v_created_at);

  -- 4. Move the series' latest snapshot here, unless a newer run is already there.
  insert into public.benchmark_snapshots as s (
    transaction_id, commit_sha, branch_name, model_version, model_provider, dataset_version,
    dataset_size, prompt_version, environment, run_id, triggered_by, metrics, duration_seconds,
    tags, notes, created_at, is_active, is_baseline, updated_at)
  values (
    v_tx_id, v_commit_sha, v_branch_name, v_model_version, v_model_provider, v_dataset_version,
    v_dataset_size, v_prompt_version, v_environment, v_run_id, v_triggered_by, v_metrics,
    v_duration_seconds, coalesce(v_tags, '{}'), v_notes, v_created_at, true, false, pg_catalog.now())
  on conflict (model_version, model_provider, dataset_version, prompt_version, environment)
    where (pinned_at is null)
  do update set
    transaction_id = excluded.transaction_id,
    commit_sha = excluded.commit_sha,
    branch_name = excluded.branch_name,
    dataset_size = excluded.dataset_size,
    run_id = excluded.run_id,
    triggered_by = excluded.triggered_by,
    metrics = excluded.metrics,
    duration_seconds = excluded.duration_seconds,
    tags = excluded.tags,
    notes = excluded.notes,
    created_at = excluded.created_at,
    is_active = true,
    updated_at = pg_catalog.now()
  where excluded.created_at >= s.created_at
  returning s.id into v_snapshot_id;

  -- 5. Compare with the baseline; alerts follow the series' latest run only.
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c) order by c.metric_name), '[]'::jsonb)
  into v_rows
  from benchwatch_private.compare_run(
    v_model_version, v_model_provider, v_dataset_version, v_prompt_version, v_environment,
    v_metrics, 0.05) as c;

  if v_snapshot_id is not null then
    with continued as (
      update public.regression_alerts a
      set last_transaction_id = v_tx_id,
          last_value = c.current_value,
          last_relative_change = c.relative_change,
          last_seen_at = pg_catalog.now(),
          regressing_run_count = a.regressing_run_count + 1
      from pg_catalog.jsonb_to_recordset(v_rows) as c(metric_name text, is_regression boolean,
                                                      current_value numeric, relative_change numeric)
      where c.is_regression
        and a.status = 'open'
        and a.model_version = v_model_version
        and a.model_provider = v_model_provider
        and a.dataset_version = v_dataset_version
        and a.prompt_version = v_prompt_version
        and a.environment = v_environment
        and a.metric_name = c.metric_name
      returning a.id
    )
    select coalesce(pg_catalog.jsonb_agg(continued.id), '[]'::jsonb) into v_continued from continued;

    with opened as (
      insert into public.regression_alerts (
        model_version, model_provider, dataset_version, prompt_version, environment, metric_name,
        direction, relative_threshold, absolute_floor, baseline_snapshot_id, baseline_transaction_id,
        baseline_model_version, baseline_prompt_version, baseline_value, opened_transaction_id,
        opened_value, opened_relative_change, last_transaction_id, last_value, last_relative_change)
      select v_model_version, v_model_provider, v_dataset_version, v_prompt_version, v_environment,
             c.metric_name, c.direction, c.relative_threshold, c.absolute_floor, c.baseline_snapshot_id,
             c.baseline_transaction_id, c.baseline_model_version, c.baseline_prompt_version,
             c.baseline_value, v_tx_id, c.current_value, c.relative_change, v_tx_id, c.current_value,
             c.relative_change
      from pg_catalog.jsonb_to_recordset(v_rows) as c(
        metric_name text, is_regression boolean, direction text, relative_threshold numeric,
        absolute_floor numeric, baseline_snapshot_id uuid, baseline_transaction_id uuid,
        baseline_model_version text, baseline_prompt_version text, baseline_value numeric,
        current_value numeric, relative_change numeric)
      where c.is_regression
      on conflict (model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
        where (status = 'open')
      do nothing
      returning id
    )
    select coalesce(pg_catalog.jsonb_agg(opened.id), '[]'::jsonb) into v_opened from opened;

    with resolved as (
      update public.regression_alerts a
      set status = 'resolved',
          resolved_transaction_id = v_tx_id,
          resolved_value = c.current_value,
          resolved_at = pg_catalog.now(),
          resolved_delivery_status = 'pending'
      from pg_catalog.jsonb_to_recordset(v_rows) as c(metric_name text, status text, current_value numeric)
      where c.status = 'ok'
        and a.status = 'open'
        and a.model_version = v_model_version
        and a.model_provider = v_model_provider
        and a.dataset_version = v_dataset_version
        and a.prompt_version = v_prompt_version
        and a.environment = v_environment
        and a.metric_name = c.metric_name
      returning a.id
    )
    select coalesce(pg_catalog.jsonb_agg(resolved.id), '[]'::jsonb) into v_resolved from resolved;
  end if;

  v_response := pg_catalog.jsonb_build_object(
    'transaction_id', v_tx_id,
    'replayed', false,
    'created_at', v_created_at,
    'series', pg_catalog.jsonb_build_object(
      'model_version', v_model_version, 'model_provider', v_model_provider,
      'dataset_version', v_dataset_version, 'prompt_version', v_prompt_version,
      'environment', v_environment),
    'is_latest', v_snapshot_id is not null,
    'regression', coalesce((select pg_catalog.bool_or((r.value ->> 'is_regression')::boolean)
                            from pg_catalog.jsonb_array_elements(v_rows) as r(value)), false),
    'baseline', (select pg_catalog.jsonb_build_object(
                   'snapshot_id', r.value -> 'baseline_snapshot_id',
                   'transaction_id', r.value -> 'baseline_transaction_id',
                   'model_version', r.value -> 'baseline_model_version',
                   'prompt_version', r.value -> 'baseline_prompt_version',
                   'pinned_at', r.value -> 'baseline_pinned_at',
                   'prompt_mismatch', r.value -> 'prompt_mismatch')
                 from pg_catalog.jsonb_array_elements(v_rows) as r(value)
                 where r.value ->> 'baseline_snapshot_id' is not null
                 limit 1),
    'metrics', (select coalesce(pg_catalog.jsonb_agg(
                  r.value - array['baseline_snapshot_id', 'baseline_transaction_id', 'baseline_model_version',
                                  'baseline_prompt_version', 'baseline_pinned_at', 'prompt_mismatch']
                  order by r.value ->> 'metric_name'), '[]'::jsonb)
                from pg_catalog.jsonb_array_elements(v_rows) as r(value)),
    'alerts_opened', coalesce(v_opened, '[]'::jsonb),
    'alerts_continued', coalesce(v_continued, '[]'::jsonb),
    'alerts_resolved', coalesce(v_resolved, '[]'::jsonb));

  update benchwatch_private.run_identities
  set response = v_response
  where identity_hash = v_identity;

  return v_response;
end
$$;

comment on function benchwatch_private.record_run(jsonb, text) is
  'Ingest entrypoint: validates and records one run (jsonb with the benchmark_transactions fields; created_at optional for backfills), idempotently, updating the snapshot and alerts in the same transaction. Returns the verdict as jsonb.';

revoke execute on function benchwatch_private.record_run(jsonb, text) from public, anon, authenticated;
grant execute on function benchwatch_private.record_run(jsonb, text) to service_role;

create or replace function public.upsert_benchmark_result(
  p_commit_sha text,
  p_branch_name text,
  p_model_version text,
  p_model_provider text,
  p_dataset_version text,
  p_dataset_size integer,
  p_prompt_version text,
  p_environment text,
  p_run_id text,
  p_triggered_by text,
  p_metrics jsonb,
  p_duration_seconds numeric,
  p_tags text[],
  p_notes text
)
returns uuid
language sql
volatile
security invoker
set search_path = ''
as $$
  select (benchwatch_private.record_run(pg_catalog.jsonb_build_object(
    'commit_sha', p_commit_sha,
    'branch_name', p_branch_name,
    'model_version', p_model_version,
    'model_provider', p_model_provider,
    'dataset_version', p_dataset_version,
    'dataset_size', p_dataset_size,
    'prompt_version', p_prompt_version,
    'environment', p_environment,
    'run_id', p_run_id,
    'triggered_by', p_triggered_by,
    'metrics', p_metrics,
    'duration_seconds', p_duration_seconds,
    'tags', p_tags,
    'notes', p_notes)) ->> 'transaction_id')::uuid
$$;

comment on function public.upsert_benchmark_result(text, text, text, text, text, integer, text, text, text, text, jsonb, numeric, text[], text) is
  'Records one benchmark run (the setup guide''s API): appends it to benchmark_transactions, updates the series snapshot and regression alerts, and returns the run''s uuid. Repeating the same run returns the same uuid.';

revoke execute on function public.upsert_benchmark_result(text, text, text, text, text, integer, text, text, text, text, jsonb, numeric, text[], text) from public, anon, authenticated;
grant execute on function public.upsert_benchmark_result(text, text, text, text, text, integer, text, text, text, text, jsonb, numeric, text[], text) to service_role;
