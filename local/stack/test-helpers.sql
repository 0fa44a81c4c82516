-- Shared pgTAP helpers for the benchwatch suite, in a `tests` schema. The stack applies this
-- file to the `test` profile only, after the migrations (local/stack/stack.ts), so every
-- pgTAP file can use them whichever files run and in whatever order. It is idempotent and
-- touches no benchwatch data; hosted projects never get it.
begin;
set local client_min_messages = warning;

create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- TAP: every ordinary and partitioned table in p_schema has row level security on.
create or replace function tests.rls_enabled(p_schema text)
returns text
language plpgsql
stable
-- pgTAP's own functions call each other unqualified, so they need its schema.
set search_path = extensions, pg_catalog
as $$
declare
  v_missing text;
begin
  select pg_catalog.string_agg(c.relname, ', ' order by c.relname) into v_missing
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname = p_schema
    and c.relkind in ('r', 'p')
    and not c.relrowsecurity;

  return ok(
    v_missing is null,
    pg_catalog.format('every table in schema %s has row level security enabled', p_schema))
    || case when v_missing is null then ''
            else e'\n' || diag('tables without RLS: ' || v_missing) end;
end
$$;

comment on function tests.rls_enabled(text) is 'pgTAP assertion: every table in the schema has RLS enabled.';

-- Act as a Data API role for the rest of the transaction, as PostgREST would.
create or replace function tests.authenticate_as(p_role text)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform pg_catalog.set_config('request.jwt.claims',
    pg_catalog.jsonb_build_object('role', p_role, 'sub', '00000000-0000-4000-8000-000000000001')::text, true);
  perform pg_catalog.set_config('role', p_role, true);
end
$$;

comment on function tests.authenticate_as(text) is 'Switches the transaction to anon, authenticated or service_role with matching JWT claims.';

-- Record a run through the ingest entrypoint with sensible defaults; p_overrides
-- replaces any field (series fields, created_at, run_id, ...).
create or replace function tests.run(p_model_version text, p_metrics jsonb, p_overrides jsonb default '{}')
returns jsonb
language sql
volatile
set search_path = ''
as $$
  select benchwatch_private.record_run(
    pg_catalog.jsonb_build_object(
      'commit_sha', 'c0ffee',
      'model_version', p_model_version,
      'model_provider', 'openai',
      'dataset_version', 'ds-v1',
      'prompt_version', 'prompt-v1',
      'environment', 'ci',
      'metrics', p_metrics)
    || coalesce(p_overrides, '{}'::jsonb))
$$;

comment on function tests.run(text, jsonb, jsonb) is 'Records a test run via benchwatch_private.record_run and returns its verdict.';

-- The same, returning only the run's uuid.
create or replace function tests.run_id(p_model_version text, p_metrics jsonb, p_overrides jsonb default '{}')
returns uuid
language sql
volatile
set search_path = ''
as $$
  select (tests.run(p_model_version, p_metrics, p_overrides) ->> 'transaction_id')::uuid
$$;

comment on function tests.run_id(text, jsonb, jsonb) is 'Records a test run and returns its transaction uuid.';

-- The immediate alert policy: every run beyond tolerance is out of control, one run
-- confirms an opening (no noise or evidence test), one run back within tolerance
-- resolves. For files that pin down the alert LIFECYCLE or its delivery, not the
-- detection policy (20-noise-aware-detection does that). Run it inside the file's
-- transaction: the rollback restores the defaults.
create or replace function tests.use_immediate_alert_policy()
returns void
language sql
volatile
set search_path = ''
as $$
  update benchwatch_private.detection_defaults
  set sensitivity = 0, confirmation_runs = 1, min_history = 1, resolve_fraction = 1, evidence_z = 0,
      alarm_z = 0, resolve_runs = 1;
  update public.metric_policies set sensitivity = null, confirmation_runs = null, min_history = null;
$$;

comment on function tests.use_immediate_alert_policy() is
  'Switches the detection defaults to the immediate alert policy (and clears per-metric knobs) for the rest of the calling transaction.';

revoke execute on all functions in schema tests from public, anon, authenticated, service_role;
grant execute on function tests.rls_enabled(text), tests.authenticate_as(text) to anon, authenticated, service_role;

commit;
