-- The read API behind the `regressions` and `benchmarks` functions:
-- run and commit verdicts from the stored answers, alert lists with filters,
-- filter values, the current snapshot with deltas (the guide's Test 3), metric
-- trends (raw and daily) with baseline and alerts, and the series list.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(63);

-- Alerts wait for confirmation and must be beyond noise. This file
-- pins down the alert LIFECYCLE (open, continue, resolve, transactions, delivery
-- state), so it runs under the immediate policy: every run beyond tolerance is out
-- of control, one run confirms, one run back within tolerance resolves.
select tests.use_immediate_alert_policy();

-- run_verdicts ---------------------------------------------------------------
select tests.run_id('verdict-model', '{"f1": 0.90, "latency_ms": 100}', '{"commit_sha": "v-base", "dataset_version": "ds-verdict"}') as v_base \gset
update benchmark_snapshots set is_baseline = true where model_version = 'verdict-model';
select tests.run('verdict-model', '{"f1": 0.70, "latency_ms": 100}', '{"commit_sha": "v-bad", "dataset_version": "ds-verdict"}') as v_bad_answer \gset
select tests.run_id('verdict-other', '{"f1": 0.5}', '{"commit_sha": "v-bad", "dataset_version": "ds-verdict-none"}');
select tests.run_id('verdict-model', '{"f1": 0.91, "latency_ms": 99}', '{"commit_sha": "v-good", "dataset_version": "ds-verdict"}') as v_good \gset
select tests.run_id('verdict-other', '{"f1": 0.6}', '{"commit_sha": "v-good", "dataset_version": "ds-verdict-none"}');

select is(benchwatch_private.run_verdicts((:'v_bad_answer'::jsonb ->> 'transaction_id')::uuid) ->> 'verdict', 'regressed',
  'run_verdicts says regressed for a run that regressed');
select is(
  (select array(select jsonb_object_keys(benchwatch_private.run_verdicts(:'v_good'::uuid) -> 'runs' -> 0) order by 1)),
  array['baseline', 'created_at', 'metrics', 'series', 'transaction_id', 'verdict'],
  'each run carries transaction_id, created_at, series, verdict, baseline and metrics');
select is(
  (select r - 'verdict' from jsonb_array_elements(benchwatch_private.run_verdicts((:'v_bad_answer'::jsonb ->> 'transaction_id')::uuid) -> 'runs') r),
  (select jsonb_build_object('transaction_id', a -> 'transaction_id', 'created_at', a -> 'created_at', 'series', a -> 'series',
                             'baseline', a -> 'baseline', 'metrics', a -> 'metrics')
   from (select :'v_bad_answer'::jsonb as a) x),
  'a run''s baseline and metrics are exactly what record_run answered');
select is(benchwatch_private.run_verdicts(:'v_good'::uuid) ->> 'verdict', 'ok', 'run_verdicts says ok for a run within threshold');
select is(benchwatch_private.run_verdicts(:'v_base'::uuid) ->> 'verdict', 'no_baseline', 'run_verdicts says no_baseline for a run without one');
select is(benchwatch_private.run_verdicts(gen_random_uuid()), '{"verdict": "not_found", "runs": []}'::jsonb,
  'run_verdicts says not_found for an unknown run');
select is(benchwatch_private.run_verdicts(null, 'v-bad') ->> 'verdict', 'regressed',
  'a commit with a regressed run is regressed');
select is(jsonb_array_length(benchwatch_private.run_verdicts(null, 'v-bad') -> 'runs'), 2, 'a commit''s verdict lists all its runs');
select is(benchwatch_private.run_verdicts(null, 'v-good') ->> 'verdict', 'ok',
  'a commit whose runs are ok or without baseline is ok');
select is(benchwatch_private.run_verdicts(null, 'v-base') ->> 'verdict', 'no_baseline',
  'a commit whose runs all lack a baseline is no_baseline');
select is(benchwatch_private.run_verdicts(null, 'no-such-commit') ->> 'verdict', 'not_found', 'an unknown commit is not_found');
select unpin_baseline('verdict-model', 'ci');
select is(benchwatch_private.run_verdicts(null, 'v-bad') ->> 'verdict', 'regressed',
  'the verdict is the one recorded with the run, even after the baseline is unpinned');
select throws_ok($$select benchwatch_private.run_verdicts(null, null)$$,
  'BW019', 'Cannot read verdicts: give exactly one of transaction_id and commit_sha', 'BW019: neither argument is rejected');
select throws_ok($$select benchwatch_private.run_verdicts(gen_random_uuid(), 'abc')$$,
  'BW019', 'Cannot read verdicts: give exactly one of transaction_id and commit_sha', 'BW019: both arguments are rejected');
select throws_ok($$select benchwatch_private.run_verdicts(null, '  ')$$,
  'BW019', 'Cannot read verdicts: give exactly one of transaction_id and commit_sha', 'BW019: a blank commit is rejected');

-- list_alerts ----------------------------------------------------------------
select public.pin_baseline(tests.run_id('la-a', '{"f1": 0.90, "precision": 0.90}', '{"environment": "la-env"}'));
select tests.run_id('la-a', '{"f1": 0.70, "precision": 0.80}', '{"environment": "la-env", "commit_sha": "la-bad"}');
select public.pin_baseline(tests.run_id('la-b', '{"f1": 0.90}', '{"environment": "la-env-2"}'));
select tests.run_id('la-b', '{"f1": 0.70}', '{"environment": "la-env-2", "commit_sha": "la-bad"}');
select tests.run_id('la-b', '{"f1": 0.95}', '{"environment": "la-env-2", "commit_sha": "la-good"}');
update regression_alerts set opened_at = now() - interval '2 hours' where model_version = 'la-a' and metric_name = 'precision';

select is((benchwatch_private.list_alerts('{"model_version": "la-a"}') ->> 'count')::int, 2,
  'list_alerts filters by model_version');
select results_eq(
  $$select a ->> 'metric_name' from jsonb_array_elements(benchwatch_private.list_alerts('{"model_version": "la-a"}') -> 'alerts') a$$,
  $$values ('f1'::text), ('precision')$$,
  'alerts are listed newest first');
select ok(
  (select bool_and(a ?& array(select attname::text from pg_attribute
                              where attrelid = 'public.regression_alerts'::regclass and attnum > 0 and not attisdropped))
   from jsonb_array_elements(benchwatch_private.list_alerts('{"model_version": "la-a"}') -> 'alerts') a),
  'each alert has every regression_alerts column');
select results_eq(
  $$select a ->> 'severity', (a ->> 'age_seconds')::int
    from jsonb_array_elements(benchwatch_private.list_alerts('{"model_version": "la-a"}') -> 'alerts') a$$,
  $$values ('critical'::text, 0), ('major', 7200)$$,
  'each alert has its severity and its age in seconds');
select is((benchwatch_private.list_alerts('{"environment": "la-env-2", "state": "open"}') ->> 'count')::int, 0,
  'state open leaves out resolved alerts');
select is((benchwatch_private.list_alerts('{"environment": "la-env-2", "state": "resolved"}') ->> 'count')::int, 1,
  'state resolved shows resolved alerts');
select is((benchwatch_private.list_alerts('{"environment": "la-env-2", "state": "all"}') ->> 'count')::int, 1,
  'state all shows both');
select is((benchwatch_private.list_alerts(jsonb_build_object('model_version', 'la-a', 'since', now() - interval '1 hour')) ->> 'count')::int, 1,
  'since filters on opened_at');
select is((benchwatch_private.list_alerts(jsonb_build_object('model_version', 'la-a', 'until', now() - interval '1 hour')) ->> 'count')::int, 1,
  'until filters on opened_at');
select is(benchwatch_private.list_alerts('{"model_version": "la-a", "limit": 1}') -> 'alerts' -> 0 ->> 'metric_name', 'f1',
  'limit keeps the newest alerts');
select is((benchwatch_private.list_alerts('{"model_version": "la-a", "limit": "1"}') ->> 'count')::int, 1,
  'limit may be given as a numeric string, as in a query string');
select is((benchwatch_private.list_alerts(null) -> 'alerts') is not null, true, 'list_alerts takes no filters at all');
select throws_ok($$select benchwatch_private.list_alerts('{"state": "closed"}')$$,
  'BW020', 'Cannot list alerts: state must be open, resolved or all', 'BW020: an unknown state is rejected');
select throws_ok($$select benchwatch_private.list_alerts('{"limit": 0}')$$,
  'BW020', 'Cannot list alerts: limit must be a whole number from 1 to 1000', 'BW020: limit 0 is rejected');
select throws_ok($$select benchwatch_private.list_alerts('{"limit": 1001}')$$,
  'BW020', 'Cannot list alerts: limit must be a whole number from 1 to 1000', 'BW020: limit over 1000 is rejected');
select throws_ok($$select benchwatch_private.list_alerts('{"limit": "ten"}')$$,
  'BW020', 'Cannot list alerts: limit must be a whole number from 1 to 1000', 'BW020: a limit that is not a number is rejected');
select throws_ok($$select benchwatch_private.list_alerts('{"since": "last week"}')$$,
  'BW020', 'Cannot list alerts: since must be an ISO 8601 timestamp', 'BW020: an unreadable since is rejected');
select throws_ok($$select benchwatch_private.list_alerts('{"model_version": 7}')$$,
  'BW020', 'Cannot list alerts: model_version must be a string', 'BW020: a filter of the wrong type is rejected');
select throws_ok($$select benchwatch_private.list_alerts('{"colour": "red"}')$$,
  'BW020', 'Cannot list alerts: unknown filter colour', 'BW020: an unknown filter is rejected');

-- filter_values and series_list -----------------------------------------------
select tests.run_id('fv-model', '{"f1": 0.5, "latency_ms": 10}', '{"tags": ["nightly", "gpu"], "environment": "fv-env"}');
select tests.run_id('fv-hidden', '{"f1": 0.5}', '{"environment": "fv-hidden-env"}');
update benchmark_snapshots set is_active = false where model_version = 'fv-hidden';
select is(
  (select array(select jsonb_object_keys(benchwatch_private.filter_values()) order by 1)),
  array['dataset_version', 'environment', 'model_provider', 'model_version', 'prompt_version', 'tags'],
  'filter_values lists the five series fields and tags');
select ok(benchwatch_private.filter_values() -> 'model_version' ? 'fv-model'
          and benchwatch_private.filter_values() -> 'environment' ? 'fv-env'
          and benchwatch_private.filter_values() -> 'tags' @> '["gpu", "nightly"]',
  'filter_values includes active series and their tags');
select ok(not (benchwatch_private.filter_values() -> 'model_version' ? 'fv-hidden'),
  'filter_values leaves out inactive series');
select is(benchwatch_private.filter_values() -> 'model_version',
  (select jsonb_agg(v order by v) from jsonb_array_elements_text(benchwatch_private.filter_values() -> 'model_version') v),
  'filter values are sorted');
select ok(benchwatch_private.series_list() @> jsonb_build_array(jsonb_build_object(
    'model_version', 'fv-model', 'model_provider', 'openai', 'dataset_version', 'ds-v1',
    'prompt_version', 'prompt-v1', 'environment', 'fv-env', 'last_run_at', now(), 'metrics', '["f1", "latency_ms"]'::jsonb)),
  'series_list gives each active series with its last run time and metric names');
select ok(not (benchwatch_private.series_list() @> '[{"model_version": "fv-hidden"}]'), 'series_list leaves out inactive series');

-- current_snapshot: the guide's Test 3 ------------------------------------------
select upsert_benchmark_result('abc123', 'main', 'test-v1.0', 'openai', 'test-set-v1', null,
  'test-prompt-v1', 'local', null, 'manual-test',
  '{"precision": 0.91, "recall": 0.88, "f1": 0.895, "latency_ms": 412, "analysis_cost": 0.0042}'::jsonb,
  null, null, null) as guide_base \gset
UPDATE benchmark_snapshots SET is_baseline = TRUE WHERE model_version = 'test-v1.0';
SELECT upsert_benchmark_result('abc124', 'develop', 'test-v1.0', 'openai', 'test-set-v1', 100, 'test-prompt-v1',
  'local', 'test-run-2', 'test-user',
  '{"precision": 0.85, "recall": 0.82, "f1": 0.835, "latency_ms": 420, "analysis_cost": 0.0043}'::JSONB,
  30.0, ARRAY['test'], 'Test regression detection') as guide_bad \gset
select tests.run_id('test-v1.1', '{"f1": 0.90}', '{"dataset_version": "test-set-v1", "environment": "local", "prompt_version": "test-prompt-v2"}');

create temp table snap on commit drop as
select benchwatch_private.current_snapshot('{"model_version": "test-v1.0"}') as v;
select is(jsonb_array_length((select v from snap) -> 'series'), 1, 'current_snapshot filters by model_version');
select is(
  (select (v -> 'series' -> 0) - 'metrics' - 'created_at' - 'snapshot_id' - 'baseline' from snap),
  jsonb_build_object('transaction_id', :'guide_bad'::uuid,
    'series', jsonb_build_object('model_version', 'test-v1.0', 'model_provider', 'openai',
      'dataset_version', 'test-set-v1', 'prompt_version', 'test-prompt-v1', 'environment', 'local'),
    'commit_sha', 'abc124', 'branch_name', 'develop', 'run_id', 'test-run-2', 'triggered_by', 'test-user',
    'tags', '["test"]'::jsonb, 'has_own_baseline', true, 'prompt_mismatch', false, 'open_alerts', 3,
    'status', 'regressed'),
  'Test 3: the latest run is regressed, against its own baseline, with 3 open alerts');
select is((select (v -> 'series' -> 0 -> 'baseline') - 'pinned_at' from snap),
  jsonb_build_object('model_version', 'test-v1.0', 'transaction_id', :'guide_base'::uuid, 'prompt_version', 'test-prompt-v1'),
  'Test 3: the baseline is the pinned abc123 run');
select is((select v -> 'series' -> 0 -> 'metrics' from snap),
  '[{"metric": "analysis_cost", "current": 0.0043, "baseline": 0.0042, "relative_change": 0.023810, "absolute_change": 0.0001, "direction": "lower_is_better", "is_regression": false, "status": "ok"},
    {"metric": "f1", "current": 0.835, "baseline": 0.895, "relative_change": -0.067039, "absolute_change": -0.060, "direction": "higher_is_better", "is_regression": true, "status": "regression"},
    {"metric": "latency_ms", "current": 420, "baseline": 412, "relative_change": 0.019417, "absolute_change": 8, "direction": "lower_is_better", "is_regression": false, "status": "ok"},
    {"metric": "precision", "current": 0.85, "baseline": 0.91, "relative_change": -0.065934, "absolute_change": -0.06, "direction": "higher_is_better", "is_regression": true, "status": "regression"},
    {"metric": "recall", "current": 0.82, "baseline": 0.88, "relative_change": -0.068182, "absolute_change": -0.06, "direction": "higher_is_better", "is_regression": true, "status": "regression"}]'::jsonb,
  'Test 3: f1 0.895 -> 0.835 and precision and recall regress; latency_ms and analysis_cost stay within 5%');
select is(
  (select (s -> 'has_own_baseline')::boolean::text || ' ' || (s -> 'baseline' ->> 'model_version') || ' ' || (s ->> 'prompt_mismatch') || ' ' || (s ->> 'status')
   from jsonb_array_elements(benchwatch_private.current_snapshot('{"model_version": "test-v1.1"}') -> 'series') s),
  'false test-v1.0 true ok',
  'a candidate without its own baseline is compared with production''s, and a prompt difference is reported');
-- Narrowed to this file's own models (tagged test-v1.0, untagged test-v1.1): other suites leave
-- committed series with the guide's tags, enough to push these off the first page.
select is(jsonb_array_length(benchwatch_private.current_snapshot('{"tags": ["test"], "dataset_version": "test-set-v1", "model_version": "test-v1.0"}') -> 'series')
          || ' ' || jsonb_array_length(benchwatch_private.current_snapshot('{"tags": ["test"], "dataset_version": "test-set-v1", "model_version": "test-v1.1"}') -> 'series'),
  '1 0',
  'current_snapshot filters by overlapping tags');
select is(jsonb_array_length(benchwatch_private.current_snapshot('{"tags": ["nope"]}') -> 'series'), 0,
  'no series matches tags it does not have');
select is(jsonb_array_length(benchwatch_private.current_snapshot(jsonb_build_object('dataset_version', 'test-set-v1', 'since', now() + interval '1 minute')) -> 'series'), 0,
  'current_snapshot filters by the latest run''s time');
select is((select s ->> 'status' from jsonb_array_elements(benchwatch_private.current_snapshot('{"model_version": "fv-model"}') -> 'series') s),
  'no_baseline', 'a series with no applicable baseline has status no_baseline');
select throws_ok($$select benchwatch_private.current_snapshot('{"tags": "test"}')$$,
  'BW020', 'Cannot read the snapshot: tags must be an array of strings', 'BW020: tags that are not an array are rejected');
select throws_ok($$select benchwatch_private.current_snapshot('{"state": "open"}')$$,
  'BW020', 'Cannot read the snapshot: unknown filter state', 'BW020: a filter the snapshot does not take is rejected');

-- metric_trend ----------------------------------------------------------------
create temp table trend_runs on commit drop as
select tests.run_id('trend-model', jsonb_build_object('f1', v, 'latency_ms', 100),
                    jsonb_build_object('environment', 'trend-env', 'commit_sha', 'tr-' || v, 'created_at', now() - d * interval '1 day')) as id,
       v, d
from (values (0.80, 3), (0.90, 3), (0.70, 2), (0.75, 2), (0.95, 2), (0.85, 1)) as r(v, d);
select public.pin_baseline((select id from trend_runs where v = 0.90));
select tests.run_id('trend-model', '{"f1": 0.50, "latency_ms": 100}', '{"environment": "trend-env", "commit_sha": "tr-bad"}') as trend_bad \gset

create temp table trend on commit drop as
select benchwatch_private.metric_trend(
  '{"model_version": "trend-model", "model_provider": "openai", "dataset_version": "ds-v1", "prompt_version": "prompt-v1", "environment": "trend-env"}',
  'f1') as raw,
  benchwatch_private.metric_trend(
  '{"model_version": "trend-model", "model_provider": "openai", "dataset_version": "ds-v1", "prompt_version": "prompt-v1", "environment": "trend-env"}',
  'f1', null, null, 4) as daily;

select is((select raw ->> 'resolution' from trend), 'raw', 'a range with few runs is returned raw');
select results_eq(
  $$select (p ->> 'value')::numeric, p ->> 'commit_sha' from trend, jsonb_array_elements(raw -> 'points') p
    order by (p ->> 't')::timestamptz, (p ->> 'value')::numeric$$,
  $$values (0.80, 'tr-0.80'), (0.90, 'tr-0.90'), (0.70, 'tr-0.70'), (0.75, 'tr-0.75'), (0.95, 'tr-0.95'), (0.85, 'tr-0.85'), (0.50, 'tr-bad')$$,
  'raw points are every run in the range, oldest first, with value and commit');
select is((select array(select jsonb_object_keys(raw -> 'points' -> 0) order by 1) from trend),
  array['branch_name', 'commit_sha', 't', 'transaction_id', 'value'],
  'a raw point has t, value, transaction_id, commit_sha and branch_name');
select is((select daily ->> 'resolution' from trend), 'daily', 'more runs than p_max_points are aggregated per day');
select results_eq(
  $$select (p ->> 'value')::numeric(6, 4), (p ->> 'min')::numeric, (p ->> 'max')::numeric, (p ->> 'runs')::int
    from trend, jsonb_array_elements(daily -> 'points') p order by (p ->> 't')::timestamptz$$,
  $$values (0.8500::numeric(6, 4), 0.80, 0.90, 2), (0.8000, 0.70, 0.95, 3), (0.8500, 0.85, 0.85, 1), (0.5000, 0.50, 0.50, 1)$$,
  'daily points carry the average, min, max and run count');
select is((select (raw -> 'baseline') - 'pinned_at' from trend),
  jsonb_build_object('value', 0.90, 'transaction_id', (select id from trend_runs where v = 0.90), 'model_version', 'trend-model'),
  'the trend carries the baseline that applies to the series');
select is((select (raw -> 'alerts' -> 0) - 'id' - 'opened_at' from trend),
  jsonb_build_object('opened_transaction_id', :'trend_bad'::uuid, 'opened_value', 0.50, 'resolved_at', null, 'status', 'open'),
  'the trend carries the series'' alerts on that metric');
select is((select raw ->> 'direction' from trend), 'higher_is_better', 'the trend says which way is better');
select is(jsonb_array_length(benchwatch_private.metric_trend(
  '{"model_version": "trend-model", "model_provider": "openai", "dataset_version": "ds-v1", "prompt_version": "prompt-v1", "environment": "trend-env"}',
  'f1', now() - interval '2 days 1 hour', now() - interval '23 hours') -> 'points'), 4,
  'from and to bound the range');
select throws_ok(
  $$select benchwatch_private.metric_trend('{"model_version": "m", "model_provider": "p", "dataset_version": "d", "prompt_version": "p"}', 'f1')$$,
  'BW021', 'Cannot read the trend: series.environment is required', 'BW021: a series without environment is rejected');
select throws_ok(
  $$select benchwatch_private.metric_trend('{"model_version": "m", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e"}', ' ')$$,
  'BW021', 'Cannot read the trend: metric is required', 'BW021: a blank metric is rejected');
select throws_ok(
  $$select benchwatch_private.metric_trend('{"model_version": "m", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e"}', 'f1', now(), now() - interval '1 day')$$,
  'BW021', 'Cannot read the trend: from must not be after to', 'BW021: a range that ends before it starts is rejected');

select * from finish();
rollback;
