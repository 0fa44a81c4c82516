-- Why: issue 16. A run sent with an Idempotency-Key was identified by that key alone, so the
-- same run sent again under another key was recorded again. The CLI used a random key per
-- invocation (a GitHub Actions key per attempt), so pushing the same results a second time
-- (a re-run job, a resumed partial push, a curl or Python client that makes a new key per
-- request) doubled every run it had already recorded, with no error.
--
-- From here on the identity of a run is always what it says, whatever key it comes with:
--   series (model_version, model_provider, dataset_version, prompt_version, environment),
--   run_id, commit_sha and metrics (as jsonb: key order does not matter), plus created_at
--   when the run gives one (compared as an instant: '...T12:00:00Z' and '...T14:00:00+02:00'
--   are the same).
-- A second copy of a run is replayed: it gets the first copy's answer ("replayed": true)
-- and writes nothing, under any Idempotency-Key or none, in another request, concurrently
-- (the claim is INSERT ... ON CONFLICT on the identity, which waits for the first
-- transaction), or twice in one batch. A re-measurement, i.e. other metric values, another
-- run_id or another created_at for the same commit, is a new run. Descriptive fields
-- (branch_name, triggered_by, tags, notes, duration_seconds, dataset_size, metric_stderr,
-- metric_trials) are not part of the identity: a copy that differs only there is the same
-- run and replays the first answer.
--
-- The Idempotency-Key keeps its own promise on top: it stands for one body, so the same key
-- with a different body is still BW009 (422). Keys are now kept in their own table
-- (idempotency_keys: the key's hash and the body's hash), claimed with INSERT ... ON
-- CONFLICT as identities are. Runs recorded before this migration with a key kept that key
-- as their identity (run_identities.kind = 'idempotency_key'); a retry with such a key still
-- replays through it. A run recorded before this migration without a key and with a
-- created_at had an identity without created_at, so a copy sent again now is recorded once
-- more.
--
-- Only the identity changes: parse_run's validation moves, unchanged, to parse_run_fields,
-- and parse_run wraps it. record_runs (the claim and replay machinery), assess_runs and
-- ingest_runs are not redefined.

create table benchwatch_private.idempotency_keys (
  key_hash bytea not null,
  request_hash bytea not null,
  created_at timestamptz not null default now(),
  constraint idempotency_keys_pkey primary key (key_hash)
);

comment on table benchwatch_private.idempotency_keys is
  'Every Idempotency-Key used to record a run (the SHA-256 of ''idempotency-key:'' || key; in a batch the key is <key>#<index>) and the SHA-256 of the run it was used with, so the same key with a different run is refused (BW009).';

alter table benchwatch_private.idempotency_keys enable row level security;
revoke all on table benchwatch_private.idempotency_keys from public, anon, authenticated, service_role;
-- No policies, as run_identities: only the security definer functions that record runs
-- touch it.

alter function benchwatch_private.parse_run(jsonb, text) rename to parse_run_fields;

comment on function benchwatch_private.parse_run_fields(jsonb, text) is
  'Validates one run (BW001-BW008 errors) and returns its fields, its request hash and a new transaction id. parse_run adds the run''s identity.';

create function benchwatch_private.run_identity_hash(p_run benchwatch_private.run_input)
returns bytea
language sql
immutable
set search_path = ''
as $$
  -- Without created_at this is the identity runs without a key always had, so their
  -- retries keep replaying across this migration.
  select pg_catalog.sha256(pg_catalog.convert_to(
    case when p_run.created_at is null then
      pg_catalog.jsonb_build_array(
        'run-identity', p_run.run_id, p_run.commit_sha, p_run.model_version, p_run.model_provider,
        p_run.dataset_version, p_run.prompt_version, p_run.environment, p_run.metrics)
    else
      pg_catalog.jsonb_build_array(
        'run-identity', p_run.run_id, p_run.commit_sha, p_run.model_version, p_run.model_provider,
        p_run.dataset_version, p_run.prompt_version, p_run.environment, p_run.metrics,
        pg_catalog.to_char(pg_catalog.timezone('UTC', p_run.created_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
    end::text, 'UTF8'))
$$;

comment on function benchwatch_private.run_identity_hash(benchwatch_private.run_input) is
  'What makes two runs the same run: SHA-256 of series, run_id, commit_sha and metrics, plus created_at (as a UTC instant) when the run gives one.';
revoke execute on function benchwatch_private.run_identity_hash(benchwatch_private.run_input) from public, anon, authenticated;
grant execute on function benchwatch_private.run_identity_hash(benchwatch_private.run_input) to service_role;

create function benchwatch_private.parse_run(p_run jsonb, p_idempotency_key text)
returns benchwatch_private.run_input
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_key text := nullif(pg_catalog.btrim(p_idempotency_key), '');
  v_key_hash bytea;
  v_first_request bytea;
  r benchwatch_private.run_input;
begin
  r := benchwatch_private.parse_run_fields(p_run, null);
  r.identity_kind := 'run_identity';
  r.identity_hash := benchwatch_private.run_identity_hash(r);
  if v_key is null then
    return r;
  end if;

  v_key_hash := pg_catalog.sha256(pg_catalog.convert_to('idempotency-key:' || v_key, 'UTF8'));
  -- A key that identified a run before this migration still does (record_runs replays it,
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
$$;

comment on function benchwatch_private.parse_run(jsonb, text) is
  'Validates one run (parse_run_fields) and returns it with its identity: series, run_id, commit_sha, metrics and created_at if given (run_identity_hash), whatever the Idempotency-Key. A key is claimed in idempotency_keys; the same key with a different run is BW009.';
revoke execute on function benchwatch_private.parse_run(jsonb, text) from public, anon, authenticated;
grant execute on function benchwatch_private.parse_run(jsonb, text) to service_role;
