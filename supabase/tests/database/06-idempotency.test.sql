-- Idempotency at the SQL level: the same run identity (run_id,
-- commit_sha, series, metrics, and created_at when given) returns the same transaction
-- uuid and writes nothing new, whatever Idempotency-Key it comes with; the same key with
-- another run is refused; re-measurements are new runs.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(23);

create temp table ids (name text primary key, id uuid, verdict jsonb) on commit drop;

insert into ids (name, id) values ('first', upsert_benchmark_result('abc200', 'main', 'idem-v1', 'openai', 'set-1', 10,
  'p1', 'ci', 'run-1', 'ci-bot', '{"f1": 0.9, "latency_ms": 100}'::jsonb, 12.5, array['a'], 'first try'));
insert into ids (name, id) values ('retry', upsert_benchmark_result('abc200', 'main', 'idem-v1', 'openai', 'set-1', 10,
  'p1', 'ci', 'run-1', 'ci-bot', '{"latency_ms": 100, "f1": 0.9}'::jsonb, 12.5, array['a'], 'first try'));

select is((select id from ids where name = 'retry'), (select id from ids where name = 'first'),
  'a repeated run identity returns the same uuid');
select is((select count(*)::int from benchmark_transactions where model_version = 'idem-v1'), 1,
  'a repeated run identity adds no row to benchmark_transactions');
select is((select count(*)::int from benchmark_snapshots where model_version = 'idem-v1'), 1,
  'a repeated run identity adds no snapshot');

insert into ids (name, id) values ('other-notes', upsert_benchmark_result('abc200', 'main', 'idem-v1', 'openai', 'set-1', 10,
  'p1', 'ci', 'run-1', 'ci-bot', '{"f1": 0.9, "latency_ms": 100}'::jsonb, 99, array['b'], 'retried with other notes'));
select is((select id from ids where name = 'other-notes'), (select id from ids where name = 'first'),
  'the identity is run_id, commit, series and metrics: other notes, tags or duration are the same run');

insert into ids (name, id) values ('other-metrics', upsert_benchmark_result('abc200', 'main', 'idem-v1', 'openai', 'set-1', 10,
  'p1', 'ci', 'run-1', 'ci-bot', '{"f1": 0.91, "latency_ms": 100}'::jsonb, 12.5, array['a'], 'first try'));
insert into ids (name, id) values ('other-run', upsert_benchmark_result('abc200', 'main', 'idem-v1', 'openai', 'set-1', 10,
  'p1', 'ci', 'run-2', 'ci-bot', '{"f1": 0.9, "latency_ms": 100}'::jsonb, 12.5, array['a'], 'first try'));
insert into ids (name, id) values ('other-env', upsert_benchmark_result('abc200', 'main', 'idem-v1', 'openai', 'set-1', 10,
  'p1', 'staging', 'run-1', 'ci-bot', '{"f1": 0.9, "latency_ms": 100}'::jsonb, 12.5, array['a'], 'first try'));
select is((select count(distinct id)::int from ids), 4,
  'different metrics, run_id or series are different runs');
select is((select count(*)::int from benchmark_transactions where model_version = 'idem-v1'), 4,
  'and each of them is recorded once');

-- The ingest entrypoint with an Idempotency-Key returns the first answer.
insert into ids (name, verdict) values ('key-1', benchwatch_private.record_run(
  '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.5}}',
  'key-abc'));
insert into ids (name, verdict) values ('key-2', benchwatch_private.record_run(
  '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.5}}',
  'key-abc'));
select is((select verdict ->> 'transaction_id' from ids where name = 'key-2'),
          (select verdict ->> 'transaction_id' from ids where name = 'key-1'),
  'the same Idempotency-Key returns the same uuid');
select results_eq(
  $$select (verdict ->> 'replayed')::boolean from ids where name in ('key-1', 'key-2') order by name$$,
  $$values (false), (true)$$,
  'the retry is marked replayed, the first answer is not');
select is((select verdict - 'replayed' from ids where name = 'key-2'), (select verdict - 'replayed' from ids where name = 'key-1'),
  'the retry returns the first answer');
select is((select count(*)::int from benchmark_transactions where model_version = 'idem-v2'), 1,
  'the retry writes nothing');

-- The key is not the identity: the same run under a new key replays the first answer
-- (a re-run job or a new invocation makes a new key).
insert into ids (name, verdict) values ('key-3', benchwatch_private.record_run(
  '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.5}}',
  'key-def'));
select is((select verdict ->> 'transaction_id' from ids where name = 'key-3'),
          (select verdict ->> 'transaction_id' from ids where name = 'key-1'),
  'the same run under a new Idempotency-Key returns the first uuid');
select is((select (verdict ->> 'replayed')::boolean from ids where name = 'key-3'), true,
  'and is marked replayed');
select is((select count(*)::int from benchmark_transactions where model_version = 'idem-v2'), 1,
  'the same run under a new Idempotency-Key writes nothing');

-- Descriptive fields are not part of the identity; a new key with them changed still replays.
insert into ids (name, verdict) values ('key-notes', benchwatch_private.record_run(
  '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.5}, "notes": "re-run", "triggered_by": "someone", "tags": ["x"]}',
  'key-ghi'));
select is((select verdict ->> 'transaction_id' from ids where name = 'key-notes'),
          (select verdict ->> 'transaction_id' from ids where name = 'key-1'),
  'other notes, tags or triggered_by under a new key are the same run');

-- A key still stands for one body: the same key with another run is refused.
select throws_ok(
  $$select benchwatch_private.record_run(
    '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.6}}',
    'key-def')$$,
  'BW009', 'Cannot record run: this Idempotency-Key was already used with a different run',
  'a key that replayed a run is still refused for a different run (BW009)');

-- Re-measurements are new runs: other metric values, or another created_at.
insert into ids (name, verdict) values ('remeasured', benchwatch_private.record_run(
  '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.51}}',
  'key-jkl'));
insert into ids (name, verdict) values ('at-noon', benchwatch_private.record_run(
  '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.5}, "created_at": "2026-11-30T12:00:00Z"}'));
insert into ids (name, verdict) values ('at-one', benchwatch_private.record_run(
  '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.5}, "created_at": "2026-11-30T13:00:00Z"}',
  'key-mno'));
insert into ids (name, verdict) values ('at-noon-again', benchwatch_private.record_run(
  '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.5}, "created_at": "2026-11-30T14:00:00+02:00"}',
  'key-pqr'));
select is((select count(distinct verdict ->> 'transaction_id')::int from ids
           where name in ('key-1', 'remeasured', 'at-noon', 'at-one')), 4,
  'other metric values, or another created_at for the same commit and run_id, are new runs');
select is((select verdict ->> 'transaction_id' from ids where name = 'at-noon-again'),
          (select verdict ->> 'transaction_id' from ids where name = 'at-noon'),
  'created_at is compared as an instant: 14:00+02:00 is the run of 12:00Z');
select is((select count(*)::int from benchmark_transactions where model_version = 'idem-v2'), 4,
  'each re-measurement is recorded once');

-- A batch under a new key holding a run already recorded, a new run, and two copies of
-- another new run: the old run replays, each new run is recorded once.
insert into ids (name, verdict) values ('batch', benchwatch_private.ingest_runs(
  '[{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.5}},
    {"commit_sha": "k2", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.7}},
    {"commit_sha": "k3", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.8}},
    {"commit_sha": "k3", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.8}, "notes": "copy"}]',
  'batch-key'));
select results_eq(
  $$select (r ->> 'replayed')::boolean from ids, jsonb_array_elements(verdict -> 'runs') with ordinality as x(r, i)
    where name = 'batch' order by i$$,
  $$values (true), (false), (false), (true)$$,
  'in a batch, a recorded run and a second copy replay; the new runs do not');
select is((select verdict -> 'runs' -> 3 ->> 'transaction_id' from ids where name = 'batch'),
          (select verdict -> 'runs' -> 2 ->> 'transaction_id' from ids where name = 'batch'),
  'the second copy in a batch gets the first copy''s uuid');
select is((select count(*)::int from benchmark_transactions where model_version = 'idem-v2'), 6,
  'the batch records its two new runs once each');

-- A key that identified a run under the old key-only identity (kind idempotency_key) still replays it.
insert into benchwatch_private.run_identities (identity_hash, kind, request_hash, transaction_id, response)
select sha256(convert_to('idempotency-key:legacy-key', 'UTF8')), 'idempotency_key', r.request_hash, r.transaction_id, r.response
from benchwatch_private.run_identities r
where r.transaction_id = (select (verdict ->> 'transaction_id')::uuid from ids where name = 'remeasured');
insert into ids (name, verdict) values ('legacy', benchwatch_private.record_run(
  '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.51}}',
  'legacy-key'));
select is((select verdict ->> 'transaction_id' from ids where name = 'legacy'),
          (select verdict ->> 'transaction_id' from ids where name = 'remeasured'),
  'a key recorded before the content identity still replays its run');
delete from benchwatch_private.run_identities where identity_hash = sha256(convert_to('idempotency-key:legacy-key', 'UTF8'));

select is((select count(*)::int from benchwatch_private.run_identities r
           join benchmark_transactions t on t.id = r.transaction_id where t.model_version in ('idem-v1', 'idem-v2')), 10,
  'every recorded run has exactly one identity record');

select * from finish();
rollback;
