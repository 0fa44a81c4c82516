-- The setup guide's SQL, verbatim: Step 5/6, Test 2, Test 3, the
-- "Set Baseline Example", and the "Performance Optimization" section.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(26);

-- Step 5: push_to_supabase.py records test_benchmark_results.json.
select isnt(
  upsert_benchmark_result('abc123', 'main', 'test-v1.0', 'openai', 'test-set-v1', null,
    'test-prompt-v1', 'local', null, 'manual-test',
    '{"precision": 0.91, "recall": 0.88, "f1": 0.895, "latency_ms": 412, "analysis_cost": 0.0042}'::jsonb,
    null, null, null),
  null, 'the Step 5 run is recorded and gets a transaction uuid');

-- Step 6: one row in each table.
select is((select count(*)::int from benchmark_transactions where model_version = 'test-v1.0'), 1,
  'Step 6: benchmark_transactions has 1 row with the test data');
select is((select count(*)::int from benchmark_snapshots where model_version = 'test-v1.0'), 1,
  'Step 6: benchmark_snapshots has 1 row with the same data');

-- Test 2: Query Latest Snapshots.
select isnt_empty($$SELECT * FROM v_latest_benchmarks;$$, 'Test 2: SELECT * FROM v_latest_benchmarks returns rows');
select results_eq(
  $$select model_version, (metrics ->> 'f1')::numeric from v_latest_benchmarks where model_version = 'test-v1.0'$$,
  $$values ('test-v1.0'::text, 0.895::numeric)$$,
  'Test 2: the test data appears in v_latest_benchmarks');

-- Test 3: Check Regression Detection, exactly as printed.
select lives_ok($$
-- Set baseline
UPDATE benchmark_snapshots
SET is_baseline = TRUE
WHERE model_version = 'test-v1.0';
$$, 'Test 3: the guide''s UPDATE ... SET is_baseline = TRUE pins the baseline');

select lives_ok($$
-- Insert lower-performing run
SELECT upsert_benchmark_result(
  'abc124',
  'develop',
  'test-v1.0',
  'openai',
  'test-set-v1',
  100,
  'test-prompt-v1',
  'local',
  'test-run-2',
  'test-user',
  '{"precision": 0.85, "recall": 0.82, "f1": 0.835, "latency_ms": 420, "analysis_cost": 0.0043}'::JSONB,
  30.0,
  ARRAY['test'],
  'Test regression detection'
);
$$, 'Test 3: the guide''s lower-performing run is recorded');

select isnt_empty($$
-- Check for regression (5% threshold)
SELECT * FROM detect_regression('test-v1.0', 0.05);
$$, 'Test 3: SELECT * FROM detect_regression(''test-v1.0'', 0.05) returns rows');

select results_eq(
  $$select metric_name, is_regression from detect_regression('test-v1.0', 0.05) order by metric_name$$,
  $$values ('analysis_cost'::text, false), ('f1', true), ('latency_ms', false), ('precision', true), ('recall', true)$$,
  'Test 3: is_regression is TRUE for f1, precision and recall, FALSE for latency_ms and analysis_cost');

select results_eq(
  $$select baseline_value, current_value from detect_regression('test-v1.0', 0.05) where metric_name = 'f1'$$,
  $$values (0.895::numeric, 0.835::numeric)$$,
  'Test 3: F1 dropped from 0.895 to 0.835');

select results_eq(
  $$select commit_sha, (metrics ->> 'f1')::numeric, notes from v_latest_benchmarks where model_version = 'test-v1.0'$$,
  $$values ('abc124'::text, 0.835::numeric, 'Test regression detection'::text)$$,
  'Test 3: SELECT * FROM v_latest_benchmarks shows the new run');

select results_eq(
  $$select commit_sha, (metrics ->> 'f1')::numeric from benchmark_snapshots
    where model_version = 'test-v1.0' and is_baseline$$,
  $$values ('abc123'::text, 0.895::numeric)$$,
  'Test 3: the pinned baseline kept its metrics');

-- The ALERT policy is noise-aware. With dataset_size 100 these drops lie
-- within sampling noise (and one run is never confirmation), so no alert opens;
-- detect_regression still says TRUE above, and says within_noise.
select is((select count(*)::int from regression_alerts where model_version = 'test-v1.0' and status = 'open'), 0,
  'Test 3: the regressing run is within noise (dataset_size 100), so it opens no alert');

-- Troubleshooting's debug query.
select ok((SELECT COUNT(*) FROM benchmark_snapshots WHERE is_active = TRUE) > 0,
  'the troubleshooting debug query counts active snapshots');

-- Set Baseline Example.
select tests.run_id('medgemma-v1.2', '{"f1": 0.9}', '{"environment": "production"}');
select tests.run_id('medgemma-v1.2', '{"f1": 0.8}', '{"environment": "staging"}');
select lives_ok($$
UPDATE benchmark_snapshots
SET is_baseline = TRUE
WHERE model_version = 'medgemma-v1.2'
  AND environment = 'production';
$$, 'the Set Baseline Example runs verbatim');
select results_eq(
  $$select environment, (metrics ->> 'f1')::numeric from benchmark_snapshots
    where model_version = 'medgemma-v1.2' and is_baseline
      -- this file's two series (tests.run's defaults), whatever else the database holds
      and dataset_version = 'ds-v1' and prompt_version = 'prompt-v1'$$,
  $$values ('production'::text, 0.9::numeric)$$,
  'the Set Baseline Example pins only the production series');

-- Performance Optimization 1: Add Partitioning (February 2026 has no partition yet).
select lives_ok($$
-- Partition by month
CREATE TABLE benchmark_transactions_2026_02 
PARTITION OF benchmark_transactions
FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
$$, 'Performance Optimization: the guide''s monthly partition can be added');
select ok((select relrowsecurity from pg_class where oid = 'public.benchmark_transactions_2026_02'::regclass),
  'a hand-made partition in public gets row level security at once');
select ok(not has_table_privilege('anon', 'public.benchmark_transactions_2026_02', 'select,insert,update,delete'),
  'a hand-made partition in public is closed to anon');
select tests.run_id('partition-model', '{"f1": 0.5}', '{"created_at": "2026-02-15T12:00:00Z"}');
select is(
  (select tableoid::regclass::text from benchmark_transactions where model_version = 'partition-model'),
  'benchmark_transactions_2026_02',
  'a February 2026 run lands in the guide''s partition');

-- Performance Optimization 2: Create Materialized View. benchwatch already ships
-- mv_daily_stats (same columns and more), so the CREATE reports it exists.
select throws_ok($$
CREATE MATERIALIZED VIEW mv_daily_stats AS
SELECT 
  DATE_TRUNC('day', created_at) AS date,
  model_version,
  AVG((metrics->>'f1')::NUMERIC) AS avg_f1,
  COUNT(*) AS run_count
FROM benchmark_transactions
GROUP BY DATE_TRUNC('day', created_at), model_version;
$$, '42P07', 'relation "mv_daily_stats" already exists',
  'Performance Optimization: mv_daily_stats is already provided by the migrations');
select lives_ok($$
-- Refresh nightly
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT cron.schedule('refresh-daily-stats', '0 1 * * *', 
  'REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_stats');
$$, 'Performance Optimization: the guide''s cron.schedule runs verbatim');
select results_eq(
  $$select schedule from cron.job where jobname = 'refresh-daily-stats'$$,
  $$values ('0 1 * * *'::text)$$,
  'there is still exactly one refresh-daily-stats job, nightly at 01:00');
select lives_ok($$REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_stats$$,
  'the job''s command works');

-- Performance Optimization 3: Archive Old Data. The archive table ships with the
-- migrations (archive_benchmarks() fills it); the guide's DELETE runs verbatim.
select throws_ok($$
-- Archive runs older than 1 year
CREATE TABLE benchmark_transactions_archive AS
SELECT * FROM benchmark_transactions
WHERE created_at < NOW() - INTERVAL '1 year';
$$, '42P07', 'relation "benchmark_transactions_archive" already exists',
  'Performance Optimization: benchmark_transactions_archive is already provided by the migrations');
select lives_ok($$
DELETE FROM benchmark_transactions
WHERE created_at < NOW() - INTERVAL '1 year';
$$, 'Performance Optimization: the guide''s DELETE of old runs runs verbatim');

select * from finish();
rollback;
