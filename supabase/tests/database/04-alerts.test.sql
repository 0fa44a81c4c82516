-- Alert lifecycle: opened by a regressing run, not duplicated by
-- the next bad run, resolved by a good run, each in the run's own transaction;
-- a rolled-back run leaves no alert. Each event has its own delivery state.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(22);

-- Alerts wait for confirmation and must be beyond noise. This file
-- pins down the alert LIFECYCLE (open, continue, resolve, transactions, delivery
-- state), so it runs under the immediate policy: every run beyond tolerance is out
-- of control, one run confirms, one run back within tolerance resolves.
select tests.use_immediate_alert_policy();

select tests.run_id('alert-model', '{"f1": 0.90, "precision": 0.90}', '{"created_at": "2026-11-01T00:00:00Z"}');
update benchmark_snapshots set is_baseline = true where model_version = 'alert-model';

create temp table verdicts (step int primary key, verdict jsonb) on commit drop;
grant all on verdicts to public;

-- A regressing run opens an alert for f1 only.
insert into verdicts values (2, tests.run('alert-model', '{"f1": 0.80, "precision": 0.90}',
  '{"commit_sha": "bad-1", "created_at": "2026-11-02T00:00:00Z"}'));
select is((select count(*)::int from regression_alerts where model_version = 'alert-model' and status = 'open'), 1,
  'a regressing run opens one alert');
select results_eq(
  $$select metric_name, opened_transaction_id, opened_value, baseline_value, opened_delivery_status,
           opened_delivery_attempts, resolved_delivery_status
    from regression_alerts where model_version = 'alert-model'$$,
  $$select 'f1'::text, (verdict ->> 'transaction_id')::uuid, 0.80::numeric, 0.90::numeric, 'pending'::text, 0, null::text
    from verdicts where step = 2$$,
  'the alert names the metric, the run and the baseline, and its "opened" event awaits delivery');
select ok(exists (select 1 from benchmark_transactions t join regression_alerts a on a.opened_transaction_id = t.id
                  where a.model_version = 'alert-model' and a.xmin = t.xmin),
  'the alert was written by the same transaction as its run');
select is((select jsonb_array_length(verdict -> 'alerts_opened') from verdicts where step = 2), 1,
  'the run''s verdict lists the opened alert');
select is((select (verdict ->> 'regression')::boolean from verdicts where step = 2), true,
  'the run''s verdict says it regressed');

-- The next bad run continues the alert, it does not duplicate it.
insert into verdicts values (3, tests.run('alert-model', '{"f1": 0.70, "precision": 0.90}',
  '{"commit_sha": "bad-2", "created_at": "2026-11-03T00:00:00Z"}'));
select is((select count(*)::int from regression_alerts where model_version = 'alert-model'), 1,
  'a second regressing run does not duplicate the open alert');
select results_eq(
  $$select regressing_run_count, opened_value, last_value, last_transaction_id from regression_alerts where model_version = 'alert-model'$$,
  $$select 2, 0.80::numeric, 0.70::numeric, (verdict ->> 'transaction_id')::uuid from verdicts where step = 3$$,
  'the open alert tracks the latest regressing run');
select is((select jsonb_array_length(verdict -> 'alerts_opened') || '/' || jsonb_array_length(verdict -> 'alerts_continued')
           from verdicts where step = 3), '0/1',
  'the second run''s verdict continues the alert and opens none');

-- An older (backfilled) good run is not "later": the alert stays open.
select tests.run('alert-model', '{"f1": 0.95, "precision": 0.90}', '{"commit_sha": "old-good", "created_at": "2026-10-15T00:00:00Z"}');
select is((select status from regression_alerts where model_version = 'alert-model'), 'open',
  'a backfilled run older than the latest does not resolve the alert');

-- A run missing the metric cannot say it recovered.
select tests.run('alert-model', '{"precision": 0.90}', '{"commit_sha": "no-f1", "created_at": "2026-11-04T00:00:00Z"}');
select is((select status from regression_alerts where model_version = 'alert-model'), 'open',
  'a run missing the alerted metric leaves the alert open');

-- A good run resolves it.
insert into verdicts values (5, tests.run('alert-model', '{"f1": 0.91, "precision": 0.90}',
  '{"commit_sha": "good", "created_at": "2026-11-05T00:00:00Z"}'));
select results_eq(
  $$select status, resolved_transaction_id, resolved_value, resolved_delivery_status, opened_delivery_status
    from regression_alerts where model_version = 'alert-model'$$,
  $$select 'resolved'::text, (verdict ->> 'transaction_id')::uuid, 0.91::numeric, 'pending'::text, 'pending'::text
    from verdicts where step = 5$$,
  'a later good run resolves the alert, and the "resolved" event awaits delivery');
select is((select jsonb_array_length(verdict -> 'alerts_resolved') from verdicts where step = 5), 1,
  'the good run''s verdict lists the resolved alert');
select ok((select resolved_at is not null from regression_alerts where model_version = 'alert-model'),
  'the resolved alert has resolved_at');

-- Regressing again opens a new alert; the resolved one stays as history.
select tests.run('alert-model', '{"f1": 0.60, "precision": 0.90}', '{"commit_sha": "bad-3", "created_at": "2026-11-06T00:00:00Z"}');
select results_eq(
  $$select status, count(*)::int from regression_alerts where model_version = 'alert-model' group by status order by status$$,
  $$values ('open'::text, 1), ('resolved', 1)$$,
  'regressing after recovery opens a new alert');

-- Delivery state is per event and per alert.
select lives_ok(
  $$update regression_alerts set opened_delivery_status = 'sent', opened_delivery_attempts = 1,
      opened_notified_at = now() where model_version = 'alert-model' and status = 'resolved'$$,
  'notify-slack can mark an "opened" event sent');
select throws_ok(
  $$update regression_alerts set opened_delivery_status = 'lost' where model_version = 'alert-model'$$,
  '23514', null, 'an unknown delivery status is refused');

-- A rolled-back run leaves no alert.
select tests.run_id('rollback-model', '{"f1": 0.90}');
update benchmark_snapshots set is_baseline = true where model_version = 'rollback-model';
savepoint before_bad_run;
select tests.run('rollback-model', '{"f1": 0.50}', '{"commit_sha": "doomed"}');
select is((select count(*)::int from regression_alerts where model_version = 'rollback-model'), 1,
  'inside the run''s transaction, the alert exists');
rollback to savepoint before_bad_run;
select is((select count(*)::int from regression_alerts where model_version = 'rollback-model'), 0,
  'after the run rolls back, no alert is left');
select is((select count(*)::int from benchmark_transactions where model_version = 'rollback-model'), 1,
  'and neither is the run');

-- Alerts are per series: a candidate regressing against production's baseline gets its own.
select public.pin_baseline(tests.run_id('prod-alert', '{"f1": 0.90}', '{"environment": "production"}'));
select tests.run('cand-alert', '{"f1": 0.50}', '{"environment": "production"}');
select results_eq(
  $$select model_version, baseline_model_version from regression_alerts where model_version = 'cand-alert'$$,
  $$values ('cand-alert'::text, 'prod-alert'::text)$$,
  'a candidate regressing against production''s baseline gets its own alert naming that baseline');

-- Concurrent duplicates of an open alert are impossible.
select throws_ok(
  $$insert into regression_alerts (model_version, model_provider, dataset_version, prompt_version, environment,
      metric_name, direction, relative_threshold, absolute_floor, baseline_value, opened_transaction_id,
      opened_value, last_transaction_id, last_value)
    select model_version, model_provider, dataset_version, prompt_version, environment, metric_name, direction,
      relative_threshold, absolute_floor, baseline_value, opened_transaction_id, opened_value,
      last_transaction_id, last_value
    from regression_alerts where model_version = 'cand-alert'$$,
  '23505', null, 'the database refuses a second open alert for the same series and metric');
select ok(exists (select 1 from pg_indexes where indexname = 'regression_alerts_one_open_per_series_metric'),
  'one open alert per (series, metric) is enforced by a unique index');

select * from finish();
rollback;
