-- Idempotency at the SQL level (Done-when 6): the same run identity (run_id,
-- commit_sha, series, metrics), or the same Idempotency-Key, returns the same
-- transaction uuid and writes nothing new.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(12);

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

-- With a key, the key alone is the identity: the same run under a new key is a new run.
insert into ids (name, verdict) values ('key-3', benchwatch_private.record_run(
  '{"commit_sha": "k1", "model_version": "idem-v2", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.5}}',
  'key-def'));
select isnt((select verdict ->> 'transaction_id' from ids where name = 'key-3'),
            (select verdict ->> 'transaction_id' from ids where name = 'key-1'),
  'a new Idempotency-Key records a new run');

select is((select count(*)::int from benchwatch_private.run_identities r
           join benchmark_transactions t on t.id = r.transaction_id where t.model_version in ('idem-v1', 'idem-v2')), 6,
  'every recorded run has exactly one identity record');

select * from finish();
rollback;
