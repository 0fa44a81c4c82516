-- Errors: every SQLSTATE the API raises, with its message, as
-- listed in docs/error-codes.md. Bad runs write nothing.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(27);

create temp table counts as
select (select count(*) from benchmark_transactions) as runs,
       (select count(*) from benchmark_snapshots) as snapshots,
       (select count(*) from benchwatch_private.run_identities) as identities;

-- Bad metrics.
select throws_ok(
  $$select upsert_benchmark_result('e1', null, 'err-v1', 'openai', 'd', null, 'p', 'ci', null, null, null, null, null, null)$$,
  'BW001', 'Cannot record run: metrics must be a JSON object of metric name to number',
  'BW001: missing metrics are rejected');
select throws_ok(
  $$select upsert_benchmark_result('e1', null, 'err-v1', 'openai', 'd', null, 'p', 'ci', null, null, '[0.9]', null, null, null)$$,
  'BW001', 'Cannot record run: metrics must be a JSON object of metric name to number',
  'BW001: metrics that are not an object are rejected');
select throws_ok(
  $$select upsert_benchmark_result('e1', null, 'err-v1', 'openai', 'd', null, 'p', 'ci', null, null, '{}', null, null, null)$$,
  'BW002', 'Cannot record run: metrics must not be empty',
  'BW002: an empty metrics object is rejected');
select throws_ok(
  $$select upsert_benchmark_result('e1', null, 'err-v1', 'openai', 'd', null, 'p', 'ci', null, null, '{"f1": 0.9, "grade": "high"}', null, null, null)$$,
  'BW003', 'Cannot record run: metric "grade" is not a number',
  'BW003: a non-numeric metric is rejected');
select throws_ok(
  $$select upsert_benchmark_result('e1', null, 'err-v1', 'openai', 'd', null, 'p', 'ci', null, null, '{"f1": "0.9"}', null, null, null)$$,
  'BW003', 'Cannot record run: metric "f1" is not a number',
  'BW003: a number inside a string is not a number');
select throws_ok(
  $$select upsert_benchmark_result('e1', null, 'err-v1', 'openai', 'd', null, 'p', 'ci', null, null, jsonb_build_object('f1', 'NaN'::numeric), null, null, null)$$,
  'BW004', 'Cannot record run: metric "f1" is not a finite number',
  'BW004: NaN is rejected');
select throws_ok(
  $$select upsert_benchmark_result('e1', null, 'err-v1', 'openai', 'd', null, 'p', 'ci', null, null, jsonb_build_object('latency_ms', '-Infinity'::float8), null, null, null)$$,
  'BW004', 'Cannot record run: metric "latency_ms" is not a finite number',
  'BW004: -Infinity is rejected');
select throws_ok(
  $$select upsert_benchmark_result('e1', null, 'err-v1', 'openai', 'd', null, 'p', 'ci', null, null, '{"f1": NaN}'::jsonb, null, null, null)$$,
  '22P02', 'invalid input syntax for type json',
  '22P02: a bare NaN is not JSON, so the caller''s cast to jsonb fails first');

-- Bad run fields.
select throws_ok(
  $$select upsert_benchmark_result('e1', null, null, 'openai', 'd', null, 'p', 'ci', null, null, '{"f1": 0.9}', null, null, null)$$,
  'BW005', 'Cannot record run: model_version is required',
  'BW005: a missing series field is rejected');
select throws_ok(
  $$select upsert_benchmark_result('  ', null, 'err-v1', 'openai', 'd', null, 'p', 'ci', null, null, '{"f1": 0.9}', null, null, null)$$,
  'BW005', 'Cannot record run: commit_sha is required',
  'BW005: a blank commit_sha is rejected');
select throws_ok(
  $$select upsert_benchmark_result('e1', null, 'err-v1', 'openai', 'd', -1, 'p', 'ci', null, null, '{"f1": 0.9}', null, null, null)$$,
  'BW006', 'Cannot record run: dataset_size must not be negative',
  'BW006: a negative dataset_size is rejected');
select throws_ok(
  $$select upsert_benchmark_result('e1', null, 'err-v1', 'openai', 'd', null, 'p', 'ci', null, null, '{"f1": 0.9}', -0.5, null, null)$$,
  'BW006', 'Cannot record run: duration_seconds must not be negative',
  'BW006: a negative duration is rejected');
select throws_ok(
  $$select benchwatch_private.record_run('{"commit_sha": 42, "model_version": "m", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e", "metrics": {"f1": 1}}')$$,
  'BW007', 'Cannot record run: commit_sha must be a string',
  'BW007: a field of the wrong type is rejected');
select throws_ok(
  $$select benchwatch_private.record_run('{"commit_sha": "c", "model_version": "m", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e", "metrics": {"f1": 1}, "created_at": "last tuesday"}')$$,
  'BW007', 'Cannot record run: created_at must be an ISO 8601 timestamp',
  'BW007: an unreadable created_at is rejected');
select throws_ok(
  $$select benchwatch_private.record_run('{"commit_sha": "c", "model_version": "m", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e", "metrics": {"f1": 1}, "dataset_size": 1.5}')$$,
  'BW007', 'Cannot record run: dataset_size must be a whole number',
  'BW007: a fractional dataset_size is rejected');
select throws_ok(
  $$select benchwatch_private.record_run('[1, 2]')$$,
  'BW007', 'Cannot record run: the run must be a JSON object',
  'BW007: a payload that is not an object is rejected');
select throws_ok(
  $$select benchwatch_private.record_run('{"commit_sha": "c", "model_version": "m", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e", "metrics": {"f1": 1}, "tags": "nightly"}')$$,
  'BW007', 'Cannot record run: tags must be an array of strings',
  'BW007: tags that are not an array of strings are rejected');
select throws_ok(
  $$select benchwatch_private.record_run('{"commit_sha": "c", "model_version": "m", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e", "metrics": {"f1": 1}, "temperature": 0.7}')$$,
  'BW008', 'Cannot record run: unknown field temperature',
  'BW008: an unknown field is rejected');

select results_eq(
  $$select (select count(*) from benchmark_transactions), (select count(*) from benchmark_snapshots),
           (select count(*) from benchwatch_private.run_identities)$$,
  $$select runs, snapshots, identities from counts$$,
  'rejected runs wrote nothing');

-- Idempotency-Key reuse.
select benchwatch_private.record_run('{"commit_sha": "c", "model_version": "err-key", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e", "metrics": {"f1": 1}}', 'err-key-1');
select throws_ok(
  $$select benchwatch_private.record_run('{"commit_sha": "c", "model_version": "err-key", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e", "metrics": {"f1": 0.5}}', 'err-key-1')$$,
  'BW009', 'Cannot record run: this Idempotency-Key was already used with a different run',
  'BW009: an Idempotency-Key reused with a different run is rejected');

-- Baselines.
select throws_ok(
  $$select pin_baseline('00000000-0000-4000-8000-000000000000')$$,
  'BW010', 'Cannot pin baseline: no run with this id',
  'BW010: pinning an unknown run is rejected');
update benchmark_snapshots set is_baseline = true where model_version = 'err-key';
select throws_ok(
  $$update benchmark_snapshots set metrics = '{"f1": 2}' where model_version = 'err-key' and is_baseline$$,
  'BW011', 'Cannot change a pinned baseline: its metrics and series are frozen',
  'BW011: editing a pinned baseline is rejected');

-- The log is append-only.
select throws_ok(
  $$update benchmark_transactions set notes = 'edited' where model_version = 'err-key'$$,
  'BW012', 'Cannot update a benchmark run: benchmark_transactions is append-only',
  'BW012: updating a recorded run is rejected');

-- Invalid parameters.
select throws_ok(
  $$select * from detect_regression('err-key', -0.1)$$,
  '22023', 'Cannot detect regressions: p_threshold must be a non-negative fraction such as 0.05',
  '22023: a negative threshold is rejected');
select throws_ok(
  $$select archive_benchmarks(interval '0')$$,
  '22023', 'Cannot archive runs: older_than must be a positive interval such as ''1 year''',
  '22023: a non-positive retention window is rejected');
select throws_ok(
  $$select benchwatch_private.maintain_transaction_partitions(-1)$$,
  '22023', 'Cannot maintain partitions: p_months_ahead must be between 0 and 120',
  '22023: an impossible partition horizon is rejected');

select throws_ok(
  $$select benchwatch_private.create_transaction_partition(null)$$,
  '22023', 'Cannot create a partition: p_month must not be null',
  '22023: a partition for no month is rejected');

select * from finish();
rollback;
