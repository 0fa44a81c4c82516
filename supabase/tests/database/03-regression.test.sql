-- Regression rules: a candidate model against production's
-- pinned baseline, never across dataset_version, directions, thresholds,
-- absolute floors, missing metrics and prompt_version differences.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(26);

-- Production's pinned baseline on dataset ds-a in production.
select public.pin_baseline(tests.run_id('prod-v1',
  '{"f1": 0.90, "latency_ms": 400, "loss": 0.20, "error_rate": 0.02, "tiny_score": 0.010, "p95_latency": 100, "bleu": 30}',
  '{"dataset_version": "ds-a", "environment": "production"}'));

-- 2. Candidates.
select tests.run_id('cand-worse', '{"f1": 0.80, "latency_ms": 400}',
  '{"dataset_version": "ds-a", "environment": "production"}');
select tests.run_id('cand-better', '{"f1": 0.95, "latency_ms": 380}',
  '{"dataset_version": "ds-a", "environment": "production"}');
select tests.run_id('cand-other-ds', '{"f1": 0.10, "latency_ms": 9000}',
  '{"dataset_version": "ds-b", "environment": "production"}');

select results_eq(
  $$select is_regression, baseline_model_version, baseline_value from detect_regression('cand-worse') where metric_name = 'f1'$$,
  $$values (true, 'prod-v1'::text, 0.90::numeric)$$,
  'a candidate worse than production''s pinned baseline regresses, judged against prod-v1');
select is_empty(
  $$select 1 from detect_regression('cand-better') where is_regression$$,
  'a candidate better than production''s baseline does not regress');
select results_eq(
  $$select distinct status, is_regression, baseline_value from detect_regression('cand-other-ds')$$,
  $$values ('no_baseline'::text, false, null::numeric)$$,
  'a candidate on another dataset_version is not compared');
select is((select count(*)::int from detect_regression('cand-other-ds')), 2,
  'the uncompared candidate still reports a row per metric');

-- The model's own baseline wins over production's.
select public.pin_baseline((select transaction_id from benchmark_snapshots
                            where model_version = 'cand-worse' and pinned_at is null));
select tests.run_id('cand-worse', '{"f1": 0.79, "latency_ms": 400}',
  '{"dataset_version": "ds-a", "environment": "production", "commit_sha": "c2"}');
select results_eq(
  $$select is_regression, baseline_model_version, baseline_value from detect_regression('cand-worse') where metric_name = 'f1'$$,
  $$values (false, 'cand-worse'::text, 0.80::numeric)$$,
  'a model with its own pinned baseline is judged against it (0.80 -> 0.79 is within 5%)');

-- 3. Directions, thresholds and floors, on prod-v1's own series.
select tests.run_id('prod-v1',
  '{"f1": 0.89, "latency_ms": 480, "loss": 0.10, "error_rate": 0.03, "tiny_score": 0.008, "p95_latency": 130, "bleu": 20, "new_metric": 1}',
  '{"dataset_version": "ds-a", "environment": "production", "commit_sha": "c3"}');

select results_eq(
  $$select direction, is_regression, relative_change from detect_regression('prod-v1') where metric_name = 'latency_ms'$$,
  $$values ('lower'::text, true, 0.2::numeric)$$,
  'a lower-is-better metric regresses when it rises (latency_ms 400 -> 480)');
select results_eq(
  $$select direction, is_regression from detect_regression('prod-v1') where metric_name = 'loss'$$,
  $$values ('lower'::text, false)$$,
  'a lower-is-better metric that falls is an improvement, not a regression');
select results_eq(
  $$select is_regression, status from detect_regression('prod-v1') where metric_name = 'error_rate'$$,
  $$values (true, 'regression'::text)$$,
  'error_rate rising 0.02 -> 0.03 regresses');
select results_eq(
  $$select is_regression from detect_regression('prod-v1') where metric_name = 'f1'$$,
  $$values (false)$$,
  'a higher-is-better metric dropping 1.1% stays within the 5% threshold');
select results_eq(
  $$select direction, policy_source, is_regression from detect_regression('prod-v1') where metric_name = 'p95_latency'$$,
  $$values ('lower'::text, 'name_rule'::text, true)$$,
  'an unlisted metric ending in latency falls back to lower-is-better by the name rule');
select results_eq(
  $$select direction, policy_source, is_regression from detect_regression('prod-v1') where metric_name = 'bleu'$$,
  $$values ('higher'::text, 'policy'::text, true)$$,
  'bleu is higher-is-better by its seeded policy');
select results_eq(
  $$select status, direction, policy_source, is_regression from detect_regression('prod-v1') where metric_name = 'tiny_score'$$,
  $$values ('direction_unknown'::text, null::text, 'none'::text, false)$$,
  'tiny_score, which no policy and no name rule covers, has no direction: direction_unknown, never a regression');

insert into metric_policies (metric, direction) values ('tiny_score', 'higher');
select results_eq(
  $$select is_regression from detect_regression('prod-v1') where metric_name = 'tiny_score'$$,
  $$values (true)$$,
  'declared higher-is-better and without a floor, tiny_score 0.010 -> 0.008 (-20%) regresses');

update metric_policies set absolute_floor = 0.005 where metric = 'tiny_score';
select results_eq(
  $$select is_regression, absolute_floor, policy_source from detect_regression('prod-v1') where metric_name = 'tiny_score'$$,
  $$values (false, 0.005::numeric, 'policy'::text)$$,
  'a change under the absolute floor never alerts, however large in relative terms');

update metric_policies set relative_threshold = 0.25 where metric = 'latency_ms';
select results_eq(
  $$select is_regression, threshold from detect_regression('prod-v1', 0.05) where metric_name = 'latency_ms'$$,
  $$values (false, 0.25::numeric)$$,
  'a policy''s own relative threshold overrides the caller''s');
select results_eq(
  $$select is_regression, threshold from detect_regression('prod-v1', 0.6) where metric_name = 'error_rate'$$,
  $$values (false, 0.6::numeric)$$,
  'without a policy threshold the caller''s p_threshold applies (+50% < 60%)');

insert into metric_policies (metric, direction) values ('ttft_*', 'higher');
select results_eq(
  $$select direction, source from benchwatch_private.metric_policy('ttft_ms', 0.05)$$,
  $$values ('higher'::text, 'policy_pattern'::text)$$,
  'the longest matching pattern wins (ttft_* over *_ms)');
select results_eq(
  $$select direction, source from benchwatch_private.metric_policy('openai_cost', 0.05)$$,
  $$values ('lower'::text, 'policy_pattern'::text)$$,
  '*_cost metrics are lower-is-better by the seeded pattern');
select results_eq(
  $$select direction from benchwatch_private.metric_policy('precision', 0.05)
    union all select direction from benchwatch_private.metric_policy('recall', 0.05)
    union all select direction from benchwatch_private.metric_policy('accuracy', 0.05)
    union all select direction from benchwatch_private.metric_policy('error_rate', 0.05)
    union all select direction from benchwatch_private.metric_policy('loss', 0.05)$$,
  $$values ('higher'::text), ('higher'), ('higher'), ('lower'), ('lower')$$,
  'the seeded directions match the design');

-- Missing metrics are reported, not skipped, and nothing crashes.
select tests.run_id('prod-v1', '{"f1": 0.91}',
  '{"dataset_version": "ds-a", "environment": "production", "commit_sha": "c4"}');
select lives_ok($$select * from detect_regression('prod-v1')$$, 'a run missing baseline metrics does not crash');
select results_eq(
  $$select status, is_regression, current_value from detect_regression('prod-v1') where metric_name = 'latency_ms'$$,
  $$values ('missing_in_run'::text, false, null::numeric)$$,
  'a metric missing from the run is reported as missing_in_run');
select tests.run_id('prod-v1', '{"f1": 0.91, "latency_ms": 400, "loss": 0.2, "error_rate": 0.02, "tiny_score": 0.01, "p95_latency": 100, "bleu": 30, "new_metric": 1}',
  '{"dataset_version": "ds-a", "environment": "production", "commit_sha": "c5"}');
select results_eq(
  $$select status, is_regression, baseline_value, current_value from detect_regression('prod-v1') where metric_name = 'new_metric'$$,
  $$values ('missing_in_baseline'::text, false, null::numeric, 1::numeric)$$,
  'a metric missing from the baseline is reported as missing_in_baseline');
select is((select count(*)::int from detect_regression('prod-v1')), 8,
  'one row per metric of the run or the baseline');

-- A prompt_version difference is compared, and reported.
select tests.run_id('prod-v1', '{"f1": 0.70}',
  '{"dataset_version": "ds-a", "environment": "production", "prompt_version": "prompt-v2"}');
select results_eq(
  $$select prompt_mismatch, baseline_prompt_version, is_regression from detect_regression('prod-v1')
    where prompt_version = 'prompt-v2' and metric_name = 'f1'$$,
  $$values (true, 'prompt-v1'::text, true)$$,
  'a run with another prompt_version is compared with the baseline and flagged prompt_mismatch');

-- A zero baseline: no relative change, yet a real rise in a lower-is-better metric regresses.
select public.pin_baseline(tests.run_id('zero-model', '{"error_rate": 0}'));
select tests.run_id('zero-model', '{"error_rate": 0.01}', '{"commit_sha": "z2"}');
select results_eq(
  $$select is_regression, relative_change from detect_regression('zero-model') where metric_name = 'error_rate'$$,
  $$values (true, null::numeric)$$,
  'a rise from a zero baseline regresses, with no relative change to report');

-- An inactive series is not reported.
update benchmark_snapshots set is_active = false where model_version = 'zero-model' and pinned_at is null;
select is_empty($$select 1 from detect_regression('zero-model')$$, 'an inactive series is not reported');

select * from finish();
rollback;
