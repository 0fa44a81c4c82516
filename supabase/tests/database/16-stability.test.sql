-- The stability read function: per-environment counts, coefficient of variation computed
-- from the runs themselves, regression rate from the alerts, filters and bad input.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(9);

-- Alerts wait for confirmation and must be beyond noise. This file
-- counts regressed runs from the alerts, so it runs under the immediate policy: every run beyond tolerance is out
-- of control, one run confirms, one run back within tolerance resolves.
select tests.use_immediate_alert_policy();

-- Three runs in 'stab-prod' with f1 0.80, 0.90, 1.00 (mean 0.9, sd 0.1, cv 0.111111).
select benchwatch_private.record_run(jsonb_build_object(
  'commit_sha', 'c' || i, 'model_version', 'stab-model', 'model_provider', 'p',
  'dataset_version', 'stab-ds', 'prompt_version', 'v1', 'environment', 'stab-prod',
  'run_id', 'r' || i, 'metrics', jsonb_build_object('f1', 0.7 + i * 0.1)))
from generate_series(1, 3) as i;
select benchwatch_private.record_run(jsonb_build_object(
  'commit_sha', 'c9', 'model_version', 'stab-model', 'model_provider', 'p',
  'dataset_version', 'stab-ds', 'prompt_version', 'v1', 'environment', 'stab-dev',
  'metrics', jsonb_build_object('f1', 0.5)));

select is(
  (select e ->> 'runs' from jsonb_array_elements(
     benchwatch_private.stability('{"model_version": "stab-model"}', 30) -> 'environments') e
   where e ->> 'environment' = 'stab-prod')::int,
  3, 'counts the runs of each environment');

select is(
  (select m -> 'cv' from jsonb_array_elements(
     benchwatch_private.stability('{"model_version": "stab-model", "environment": "stab-prod"}', 30)
       -> 'environments' -> 0 -> 'metrics') m where m ->> 'metric' = 'f1')::numeric,
  0.111111, 'the coefficient of variation is stddev / |mean| of the runs');

select is(
  jsonb_array_length(benchwatch_private.stability('{"environment": "stab-dev"}', 30) -> 'environments'),
  1, 'filters by environment');

select is(
  (benchwatch_private.stability('{"environment": "stab-dev"}', 30) -> 'environments' -> 0 -> 'metrics' -> 0 -> 'cv'),
  'null'::jsonb, 'one run has no coefficient of variation');

-- Pin the first prod run, then a regressing run: one of four runs regressed.
select pin_baseline((select id from benchmark_transactions where model_version = 'stab-model'
                     and environment = 'stab-prod' and run_id = 'r1'));
select benchwatch_private.record_run(jsonb_build_object(
  'commit_sha', 'c4', 'model_version', 'stab-model', 'model_provider', 'p',
  'dataset_version', 'stab-ds', 'prompt_version', 'v1', 'environment', 'stab-prod',
  'metrics', jsonb_build_object('f1', 0.5)));
select is(
  (benchwatch_private.stability('{"environment": "stab-prod"}', 30) -> 'environments' -> 0 ->> 'regression_rate')::numeric,
  0.25, 'the regression rate is regressed runs / runs');

select is(
  jsonb_array_length(benchwatch_private.stability('{"model_version": "nobody"}', 30) -> 'environments'),
  0, 'no runs, no environments');

select throws_ok($$select benchwatch_private.stability('{"colour": "red"}', 30)$$, 'BW020',
  'Cannot read stability: unknown filter colour', 'an unknown filter is BW020');
select throws_ok($$select benchwatch_private.stability('{}', 0)$$, 'BW020',
  'Cannot read stability: window_days must be between 1 and 3650', 'a bad window is BW020');

set local role anon;
select throws_ok($$select benchwatch_private.stability('{}', 30)$$, '42501', null,
  'anon cannot execute stability()');
reset role;

select * from finish();
rollback;
