-- direction_unknown: a metric that no policy, no seed, no declaration and no name
-- rule gives a direction is recorded, and its verdict says direction_unknown instead of
-- guessing higher-is-better. It never regresses and never opens an alert, even under the
-- immediate alert policy; once a direction is set, the next run is judged.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(17);

-- Every run beyond tolerance opens an alert at once: the most eager policy there is.
select tests.use_immediate_alert_policy();
insert into metric_policies (metric, direction) values ('du_known', 'higher');

-- The name rule and the effective policy.
select is(benchwatch_private.metric_direction_by_name('du_mystery'), null,
  'the name rule gives no direction to a name it does not know');
select is(benchwatch_private.metric_direction_by_name('p95_latency'), 'lower',
  'the name rule still says lower-is-better for a latency');
select results_eq(
  $$select direction, relative_threshold, absolute_floor, source
    from benchwatch_private.metric_policy('du_mystery', 0.05)$$,
  $$values (null::text, 0.05::numeric, 0::numeric, 'none'::text)$$,
  'metric_policy: no direction, source none');

-- A pinned baseline, then a run where only the unknown metric drops by 44%.
select public.pin_baseline(tests.run_id('du-model', '{"du_known": 0.9, "du_mystery": 0.9}',
  '{"commit_sha": "du-1", "created_at": "2026-11-01T00:00:00Z"}'));
create temp table du_verdicts (step int primary key, verdict jsonb) on commit drop;
insert into du_verdicts values (2, tests.run('du-model', '{"du_known": 0.9, "du_mystery": 0.5}',
  '{"commit_sha": "du-2", "created_at": "2026-11-02T00:00:00Z"}'));

select results_eq(
  $$select m ->> 'status', m ->> 'direction', m ->> 'policy_source', (m ->> 'is_regression')::boolean,
           (m ->> 'relative_change')::numeric, (m ->> 'current_value')::numeric
    from du_verdicts, jsonb_array_elements(verdict -> 'metrics') as m
    where step = 2 and m ->> 'metric_name' = 'du_mystery'$$,
  $$values ('direction_unknown'::text, null::text, 'none'::text, false, -0.444444::numeric, 0.5::numeric)$$,
  'the verdict says direction_unknown (direction null, source none), with the change still reported');
select results_eq(
  $$select (verdict ->> 'regression')::boolean, jsonb_array_length(verdict -> 'alerts_opened')
    from du_verdicts where step = 2$$,
  $$values (false, 0)$$,
  'a drop of a metric with no direction is no regression and opens no alert');

-- Both metrics drop: the known one alerts, the unknown one does not.
insert into du_verdicts values (3, tests.run('du-model', '{"du_known": 0.5, "du_mystery": 0.1}',
  '{"commit_sha": "du-3", "created_at": "2026-11-03T00:00:00Z"}'));
select is((select (verdict ->> 'regression')::boolean from du_verdicts where step = 3), true,
  'the known metric''s drop is a regression');
select results_eq(
  $$select metric_name from regression_alerts where model_version = 'du-model' order by metric_name$$,
  $$values ('du_known'::text)$$,
  'only the metric with a direction has an alert');
select is(
  (select count(*)::integer from benchwatch_private.metric_observations
   where model_version = 'du-model' and metric_name = 'du_mystery'),
  3, 'every value of the unknown metric is recorded as an observation');

-- The read paths say the same.
select results_eq(
  $$select status, direction, policy_source, is_regression, out_of_control, alert_open
    from detect_regression('du-model') where metric_name = 'du_mystery'$$,
  $$values ('direction_unknown'::text, null::text, 'none'::text, false, false, false)$$,
  'detect_regression reports direction_unknown, not a regression, no alert');
select results_eq(
  $$select m ->> 'status', m -> 'direction', s ->> 'status'
    from jsonb_array_elements(benchwatch_private.current_snapshot('{"model_version": "du-model"}') -> 'series') as s,
         jsonb_array_elements(s -> 'metrics') as m
    where m ->> 'metric' = 'du_mystery'$$,
  $$values ('direction_unknown'::text, 'null'::jsonb, 'regressed'::text)$$,
  'the snapshot shows the metric as direction_unknown with a null direction (not lower_is_better)');
select is(
  benchwatch_private.metric_trend('{"model_version": "du-model", "model_provider": "openai",
    "dataset_version": "ds-v1", "prompt_version": "prompt-v1", "environment": "ci"}', 'du_mystery') -> 'direction',
  'null'::jsonb, 'the trend gives a null direction');
select is(
  benchwatch_private.metric_trend('{"model_version": "du-model", "model_provider": "openai",
    "dataset_version": "ds-v1", "prompt_version": "prompt-v1", "environment": "ci"}', 'du_known') ->> 'direction',
  'higher_is_better', 'a known metric''s trend keeps its direction');

-- The guide's metrics all have directions (seeded), so its check is unaffected.
select is(
  (select count(*)::integer
   from unnest(array['precision', 'recall', 'f1', 'latency_ms', 'analysis_cost']) as m,
        benchwatch_private.metric_policy(m, 0.05) as p
   where p.direction is null),
  0, 'every metric of the setup guide has a direction');

-- A declared direction makes the next run judged.
select lives_ok($$select benchwatch_private.set_metric_policy('du_mystery', 'higher')$$,
  'policy set declares the direction');
insert into du_verdicts values (4, tests.run('du-model', '{"du_known": 0.5, "du_mystery": 0.1}',
  '{"commit_sha": "du-4", "created_at": "2026-11-04T00:00:00Z"}'));
select results_eq(
  $$select m ->> 'status', m ->> 'direction', m ->> 'policy_source'
    from du_verdicts, jsonb_array_elements(verdict -> 'metrics') as m
    where step = 4 and m ->> 'metric_name' = 'du_mystery'$$,
  $$values ('regression'::text, 'higher'::text, 'policy'::text)$$,
  'once declared, the metric is judged: a regression');
select is(
  (select count(*)::integer from regression_alerts
   where model_version = 'du-model' and metric_name = 'du_mystery' and status = 'open'),
  1, 'and it opens its alert');

-- A run's metric_directions declares it too.
select is(
  (select (m ->> 'direction') || '/' || (m ->> 'policy_source')
   from jsonb_array_elements(benchwatch_private.ingest_runs(jsonb_build_array(jsonb_build_object(
     'commit_sha', 'du-5', 'model_version', 'du-model', 'model_provider', 'openai',
     'dataset_version', 'ds-v1', 'prompt_version', 'prompt-v1', 'environment', 'ci',
     'created_at', '2026-11-05T00:00:00Z',
     'metrics', '{"du_known": 0.9, "du_other": 3}'::jsonb,
     'metric_directions', '{"du_other": "lower"}'::jsonb))) #> '{runs,0,metrics}') as m
   where m ->> 'metric_name' = 'du_other'),
  'lower/policy',
  'a run''s metric_directions gives an unknown metric its direction in the same run');

select * from finish();
rollback;
