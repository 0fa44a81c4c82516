-- Batch ingest: ingest_runs records 1 to 1000 runs all or
-- nothing, answers per run in input order, derives a per-run Idempotency-Key
-- for batches, and re-raises a run's error with its SQLSTATE and its index.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(25);

select has_function('benchwatch_private', 'ingest_runs', array['jsonb', 'text'],
  'benchwatch_private.ingest_runs(p_runs jsonb, p_idempotency_key text) exists');
select function_returns('benchwatch_private', 'ingest_runs', array['jsonb', 'text'], 'jsonb',
  'ingest_runs returns jsonb');

create temp table batch_answers (name text primary key, answer jsonb) on commit drop;

create function pg_temp.batch_run(p_model text, p_f1 numeric, p_commit text default 'batch-c1')
returns jsonb
language sql
immutable
as $$
  select jsonb_build_object(
    'commit_sha', p_commit, 'model_version', p_model, 'model_provider', 'openai',
    'dataset_version', 'ds-batch', 'prompt_version', 'p1', 'environment', 'ci',
    'metrics', jsonb_build_object('f1', p_f1))
$$;

-- A batch of three, in order.
insert into batch_answers values ('three', benchwatch_private.ingest_runs(jsonb_build_array(
  pg_temp.batch_run('batch-a', 0.91), pg_temp.batch_run('batch-b', 0.92), pg_temp.batch_run('batch-c', 0.93))));
select is((select jsonb_array_length(answer -> 'runs') from batch_answers where name = 'three'), 3,
  'a batch of three runs answers three verdicts');
select results_eq(
  $$select r.value -> 'series' ->> 'model_version'
    from batch_answers b, jsonb_array_elements(b.answer -> 'runs') with ordinality as r(value, n)
    where b.name = 'three' order by r.n$$,
  $$values ('batch-a'::text), ('batch-b'), ('batch-c')$$,
  'the verdicts come in input order');
select is((select count(*)::int from benchmark_transactions where model_version like 'batch-_'), 3,
  'every run of the batch is recorded');
select ok((select bool_and(r.value ? 'transaction_id' and r.value ? 'metrics' and r.value ? 'baseline')
           from batch_answers b, jsonb_array_elements(b.answer -> 'runs') as r(value) where b.name = 'three'),
  'each verdict is record_run''s full answer');

select is(
  (select array_agg((r.value ->> 'snapshot_id')::uuid order by r.n)
   from batch_answers b, jsonb_array_elements(b.answer -> 'runs') with ordinality as r(value, n) where b.name = 'three'),
  (select array_agg(s.id order by s.model_version) from benchmark_snapshots s
   where s.model_version like 'batch-_' and s.pinned_at is null),
  'each answer also names the series'' snapshot (snapshot_id)');

-- All or nothing: a bad run at index 2 of 3 stores nothing.
create temp table batch_counts on commit drop as
select (select count(*) from benchmark_transactions) as runs,
       (select count(*) from benchmark_snapshots) as snapshots,
       (select count(*) from regression_alerts) as alerts,
       (select count(*) from benchwatch_private.run_identities) as identities;
select throws_ok(
  $$select benchwatch_private.ingest_runs(jsonb_build_array(
      pg_temp.batch_run('batch-d', 0.9), pg_temp.batch_run('batch-e', 0.9),
      jsonb_set(pg_temp.batch_run('batch-f', 0.9), '{metrics}', '{"f1": "high"}')))$$,
  'BW003', 'runs[2]: Cannot record run: metric "f1" is not a number',
  'a bad run at index 2 fails the batch with its own SQLSTATE and a runs[2]: prefix');
select results_eq(
  $$select (select count(*) from benchmark_transactions), (select count(*) from benchmark_snapshots),
           (select count(*) from regression_alerts), (select count(*) from benchwatch_private.run_identities)$$,
  $$select runs, snapshots, alerts, identities from batch_counts$$,
  'a failed batch stores nothing, not even the runs before the bad one');
select throws_ok(
  $$select benchwatch_private.ingest_runs(jsonb_build_array(
      pg_temp.batch_run('batch-d', 0.9), pg_temp.batch_run('batch-e', 0.9) || '{"temperature": 1}'))$$,
  'BW008', 'runs[1]: Cannot record run: unknown field temperature',
  'a batch error keeps the SQLSTATE of record_run (BW008) and names the index');
select throws_ok(
  $$select benchwatch_private.ingest_runs(jsonb_build_array(pg_temp.batch_run('batch-d', 0.9) - 'environment'))$$,
  'BW005', 'Cannot record run: environment is required',
  'a single run''s error is record_run''s own, without an index prefix');

-- The detail and hint survive the re-raise.
create function pg_temp.batch_error_fields(p_runs jsonb)
returns text[]
language plpgsql
as $$
declare
  v_state text;
  v_message text;
  v_detail text;
  v_hint text;
begin
  perform benchwatch_private.ingest_runs(p_runs);
  return null;
exception when others then
  get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
    v_detail = pg_exception_detail, v_hint = pg_exception_hint;
  return array[v_state, v_message, v_detail, v_hint];
end
$$;
select is(
  pg_temp.batch_error_fields(jsonb_build_array(pg_temp.batch_run('batch-d', 0.9), pg_temp.batch_run('batch-e', 0.9) || '{"temperature": 1}')),
  array['BW008', 'runs[1]: Cannot record run: unknown field temperature', '',
        'Known fields: commit_sha, branch_name, model_version, model_provider, dataset_version, dataset_size, prompt_version, environment, run_id, triggered_by, metrics, duration_seconds, tags, notes, created_at, metric_stderr, metric_trials'],
  'the hint of the original error is kept');
select is(
  (pg_temp.batch_error_fields(jsonb_build_array(pg_temp.batch_run('batch-d', 0.9), jsonb_set(pg_temp.batch_run('batch-e', 0.9), '{metrics}', '{"f1": "x"}'))))[3],
  'value: "x" (JSON string)',
  'the detail of the original error is kept');

-- Bad batches.
select throws_ok($$select benchwatch_private.ingest_runs('{"commit_sha": "x"}')$$,
  'BW013', 'Cannot record runs: the body must be a JSON array of runs', 'BW013: a batch that is not an array is rejected');
select throws_ok($$select benchwatch_private.ingest_runs(null)$$,
  'BW013', 'Cannot record runs: the body must be a JSON array of runs', 'BW013: a null batch is rejected');
select throws_ok($$select benchwatch_private.ingest_runs('[]')$$,
  'BW013', 'Cannot record runs: the batch is empty', 'BW013: an empty batch is rejected');
select throws_ok(
  $$select benchwatch_private.ingest_runs((select jsonb_agg(pg_temp.batch_run('batch-big-' || i, 0.5)) from generate_series(1, 1001) i))$$,
  'BW013', 'Cannot record runs: a batch holds at most 1000 runs', 'BW013: a batch of 1001 runs is rejected');
select lives_ok(
  $$select benchwatch_private.ingest_runs((select jsonb_agg(pg_temp.batch_run('batch-max-' || i, 0.5)) from generate_series(1, 1000) i))$$,
  'a batch of exactly 1000 runs is accepted');

-- Idempotency keys: one run uses the key as is; a batch uses <key>#<index>.
insert into batch_answers values ('single-key', benchwatch_private.ingest_runs(
  jsonb_build_array(pg_temp.batch_run('batch-key-1', 0.5)), 'ik-single'));
select is((select answer -> 'runs' -> 0 ->> 'transaction_id' from batch_answers where name = 'single-key'),
  benchwatch_private.record_run(pg_temp.batch_run('batch-key-1', 0.5), 'ik-single') ->> 'transaction_id',
  'a batch of one passes the Idempotency-Key unchanged to record_run');

insert into batch_answers values ('batch-key', benchwatch_private.ingest_runs(jsonb_build_array(
  pg_temp.batch_run('batch-key-2', 0.5), pg_temp.batch_run('batch-key-3', 0.5)), 'ik-batch'));
select results_eq(
  $$select benchwatch_private.record_run(pg_temp.batch_run('batch-key-2', 0.5), 'ik-batch#0') ->> 'transaction_id',
           benchwatch_private.record_run(pg_temp.batch_run('batch-key-3', 0.5), 'ik-batch#1') ->> 'transaction_id'$$,
  $$select answer -> 'runs' -> 0 ->> 'transaction_id', answer -> 'runs' -> 1 ->> 'transaction_id'
    from batch_answers where name = 'batch-key'$$,
  'a batch gives run i the key <key>#i');

insert into batch_answers values ('batch-replay', benchwatch_private.ingest_runs(jsonb_build_array(
  pg_temp.batch_run('batch-key-2', 0.5), pg_temp.batch_run('batch-key-3', 0.5)), 'ik-batch'));
select results_eq(
  $$select (r.value ->> 'replayed')::boolean, r.value - 'replayed'
    from batch_answers b, jsonb_array_elements(b.answer -> 'runs') with ordinality as r(value, n)
    where b.name = 'batch-replay' order by r.n$$,
  $$select true, r.value - 'replayed'
    from batch_answers b, jsonb_array_elements(b.answer -> 'runs') with ordinality as r(value, n)
    where b.name = 'batch-key' order by r.n$$,
  'a replayed batch returns every run''s first answer, marked replayed');
select is((select count(*)::int from benchmark_transactions where model_version in ('batch-key-2', 'batch-key-3')), 2,
  'a replayed batch writes nothing new');
select throws_ok(
  $$select benchwatch_private.ingest_runs(jsonb_build_array(
      pg_temp.batch_run('batch-key-2', 0.5), pg_temp.batch_run('batch-key-3', 0.4)), 'ik-batch')$$,
  'BW009', 'runs[1]: Cannot record run: this Idempotency-Key was already used with a different run',
  'a batch key reused with a different run at index 1 is refused (BW009)');

-- Without a key, the run identity still de-duplicates.
insert into batch_answers values ('nokey', benchwatch_private.ingest_runs(jsonb_build_array(
  pg_temp.batch_run('batch-nokey', 0.5, 'nk'), pg_temp.batch_run('batch-nokey', 0.5, 'nk'))));
select is((select answer -> 'runs' -> 1 ->> 'transaction_id' from batch_answers where name = 'nokey'),
          (select answer -> 'runs' -> 0 ->> 'transaction_id' from batch_answers where name = 'nokey'),
  'without a key, the same run twice in a batch is recorded once');
select is((select answer -> 'runs' -> 1 ->> 'replayed' from batch_answers where name = 'nokey'), 'true',
  'and the second copy is answered as a replay');

select * from finish();
rollback;
