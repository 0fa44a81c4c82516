-- Alert delivery (notify-slack and the sweeper): claiming due events
-- with a lease, grouped per run; recording outcomes with backoff; every attempt
-- logged; webhook-id de-duplication; the pg_cron sweeper; acknowledgement.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(54);

-- Alerts wait for confirmation and must be beyond noise. This file
-- pins down the alert LIFECYCLE (open, continue, resolve, transactions, delivery
-- state), so it runs under the immediate policy: every run beyond tolerance is out
-- of control, one run confirms, one run back within tolerance resolves.
select tests.use_immediate_alert_policy();

-- Shape.
select has_table('benchwatch_private', 'alert_delivery_attempts', 'benchwatch_private.alert_delivery_attempts exists');
select columns_are('benchwatch_private', 'alert_delivery_attempts',
  array['id', 'alert_id', 'event', 'outcome', 'http_status', 'error', 'attempted_at'],
  'alert_delivery_attempts has one row per attempt with its outcome');
select has_table('benchwatch_private', 'webhook_receipts', 'benchwatch_private.webhook_receipts exists');
select has_column('public', 'regression_alerts', 'opened_next_attempt_at', 'regression_alerts has opened_next_attempt_at');
select has_column('public', 'regression_alerts', 'resolved_next_attempt_at', 'regression_alerts has resolved_next_attempt_at');
select has_column('public', 'regression_alerts', 'opened_claimed_until', 'regression_alerts has opened_claimed_until');
select has_column('public', 'regression_alerts', 'resolved_claimed_until', 'regression_alerts has resolved_claimed_until');
select has_column('public', 'regression_alerts', 'acknowledged_at', 'regression_alerts has acknowledged_at');
select has_column('public', 'regression_alerts', 'acknowledged_by', 'regression_alerts has acknowledged_by');
select ok(has_column_privilege('anon', 'public.regression_alerts', 'acknowledged_by', 'select')
          and has_column_privilege('authenticated', 'public.regression_alerts', 'opened_next_attempt_at', 'select'),
  'anon and authenticated can read the new delivery columns');

-- Only this file's events are due.
update regression_alerts set opened_delivery_status = 'sent' where opened_delivery_status in ('pending', 'failed');
update regression_alerts set resolved_delivery_status = 'sent' where resolved_delivery_status in ('pending', 'failed');
select benchwatch_private.configure_webhook('http://127.0.0.1:9/functions/v1', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');

select public.pin_baseline(tests.run_id('deliv-model', '{"f1": 0.90, "precision": 0.90, "latency_ms": 100}',
  '{"environment": "deliv-env"}'));
select tests.run_id('deliv-model', '{"f1": 0.80, "precision": 0.50, "latency_ms": 103}',
  '{"environment": "deliv-env", "commit_sha": "deliv-a", "branch_name": "feature", "run_id": "ci-1"}') as run_a \gset
select tests.run_id('deliv-cand', '{"f1": 0.85, "precision": 0.90, "latency_ms": 100}',
  '{"environment": "deliv-env", "commit_sha": "deliv-b"}') as run_b \gset
-- The candidate's alert is older, so its group comes first.
update regression_alerts set opened_at = now() - interval '1 minute' where model_version = 'deliv-cand';

create temp table claims (step text primary key, answer jsonb) on commit drop;
insert into claims values ('first', benchwatch_private.claim_alert_events());

select is((select jsonb_array_length(answer) from claims where step = 'first'), 2,
  'claim_alert_events returns one group per run that regressed');
select is((select answer -> 0 ->> 'transaction_id' from claims where step = 'first'), :'run_b',
  'groups are ordered by event time, oldest first');
select is(
  (select (answer -> 1) - 'alert_ids' - 'metrics' - 'created_at' from claims where step = 'first'),
  jsonb_build_object(
    'kind', 'regressed', 'transaction_id', :'run_a'::uuid,
    'series', jsonb_build_object('model_version', 'deliv-model', 'model_provider', 'openai',
      'dataset_version', 'ds-v1', 'prompt_version', 'prompt-v1', 'environment', 'deliv-env'),
    'baseline_model_version', 'deliv-model', 'commit_sha', 'deliv-a', 'branch_name', 'feature', 'run_id', 'ci-1'),
  'a group names its kind, run, series, baseline model, commit, branch and CI run');
select is((select (answer -> 1 ->> 'created_at')::timestamptz from claims where step = 'first'),
  (select created_at from benchmark_transactions where id = :'run_a'::uuid),
  'a group carries the run''s created_at');
select is((select answer -> 1 -> 'metrics' from claims where step = 'first'),
  '[{"metric": "f1", "direction": "higher_is_better", "baseline": 0.90, "current": 0.80, "relative_change": -0.111111, "severity": "major"},
    {"metric": "precision", "direction": "higher_is_better", "baseline": 0.90, "current": 0.50, "relative_change": -0.444444, "severity": "critical"}]'::jsonb,
  'a group lists each regressed metric with baseline, current, relative change and severity');
select is((select answer -> 0 -> 'metrics' -> 0 ->> 'severity' from claims where step = 'first'), 'minor',
  'a change under twice the threshold is minor');
select is(
  (select array(select jsonb_array_elements_text(answer -> 1 -> 'alert_ids') order by 1) from claims where step = 'first'),
  (select array(select id::text from regression_alerts where opened_transaction_id = :'run_a'::uuid order by 1)),
  'a group lists its alert ids');
select is((select count(*)::int from regression_alerts
           where model_version like 'deliv-%' and opened_claimed_until = now() + interval '60 seconds'), 3,
  'claimed events are leased for p_lease_seconds');
select is(benchwatch_private.claim_alert_events(), '[]'::jsonb,
  'a second claim right away returns nothing: the events are leased');

-- Sent.
select benchwatch_private.complete_alert_events(
  (select array_agg(id) from regression_alerts where opened_transaction_id = :'run_a'::uuid), 'regressed', 'sent', null, 200);
select results_eq(
  $$select opened_delivery_status, opened_delivery_attempts, opened_notified_at, opened_claimed_until, opened_last_attempt_at
    from regression_alerts where model_version = 'deliv-model' order by metric_name$$,
  $$values ('sent'::text, 1, now(), null::timestamptz, now()), ('sent', 1, now(), null, now())$$,
  'sent: the events are marked sent, notified, attempted once, and released');
select results_eq(
  $$select event, outcome, http_status, error from benchwatch_private.alert_delivery_attempts d
    join regression_alerts a on a.id = d.alert_id where a.model_version = 'deliv-model'$$,
  $$values ('opened'::text, 'sent'::text, 200, null::text), ('opened', 'sent', 200, null)$$,
  'each attempt is recorded per alert');

-- Transient: backoff.
select benchwatch_private.complete_alert_events(
  (select array_agg(id) from regression_alerts where model_version = 'deliv-cand'), 'regressed', 'transient', 'HTTP 503', 503);
select results_eq(
  $$select opened_delivery_status, opened_delivery_attempts, opened_next_attempt_at, opened_last_error, opened_claimed_until
    from regression_alerts where model_version = 'deliv-cand'$$,
  $$values ('failed'::text, 1, now() + interval '30 seconds', 'HTTP 503'::text, null::timestamptz)$$,
  'transient: the event fails and waits 30 s before its next attempt');
select is(benchwatch_private.claim_alert_events(), '[]'::jsonb, 'a failed event is not claimed before its next attempt');
update regression_alerts set opened_next_attempt_at = now() - interval '1 second' where model_version = 'deliv-cand';
select is((benchwatch_private.claim_alert_events() -> 0 ->> 'transaction_id'), :'run_b',
  'a failed event is claimed again once its next attempt is due');
select benchwatch_private.complete_alert_events(
  (select array_agg(id) from regression_alerts where model_version = 'deliv-cand'), 'regressed', 'transient', 'timeout', null);
select results_eq(
  $$select opened_delivery_attempts, opened_next_attempt_at from regression_alerts where model_version = 'deliv-cand'$$,
  $$values (2, now() + interval '60 seconds')$$,
  'the backoff doubles: 60 s after the second failure');
update regression_alerts set opened_delivery_attempts = 9 where model_version = 'deliv-cand';
select benchwatch_private.complete_alert_events(
  (select array_agg(id) from regression_alerts where model_version = 'deliv-cand'), 'regressed', 'transient', 'timeout', null);
select is((select opened_next_attempt_at from regression_alerts where model_version = 'deliv-cand'), now() + interval '1 hour',
  'the backoff is capped at 1 hour');

-- Permanent.
select benchwatch_private.complete_alert_events(
  (select array_agg(id) from regression_alerts where model_version = 'deliv-cand'), 'regressed', 'permanent', 'no_service', 404);
update regression_alerts set opened_next_attempt_at = now() - interval '1 second' where model_version = 'deliv-cand';
select results_eq(
  $$select opened_delivery_status, opened_last_error, opened_delivery_attempts from regression_alerts where model_version = 'deliv-cand'$$,
  $$values ('permanent_failure'::text, 'no_service'::text, 11)$$,
  'permanent: the event is marked permanent_failure with the error');
select is(benchwatch_private.claim_alert_events(), '[]'::jsonb, 'a permanent failure is never claimed again');
select results_eq(
  $$select outcome, http_status, error from benchwatch_private.alert_delivery_attempts d
    join regression_alerts a on a.id = d.alert_id where a.model_version = 'deliv-cand' order by d.id$$,
  $$values ('transient'::text, 503, 'HTTP 503'::text), ('transient', null, 'timeout'), ('transient', null, 'timeout'),
           ('permanent', 404, 'no_service')$$,
  'every attempt of the candidate''s alert is in alert_delivery_attempts');

-- A late completion never un-sends an event.
select benchwatch_private.complete_alert_events(
  (select array_agg(id) from regression_alerts where model_version = 'deliv-model'), 'regressed', 'transient', 'late', null);
select is((select array_agg(distinct opened_delivery_status) from regression_alerts where model_version = 'deliv-model'),
  array['sent'], 'a late transient completion leaves a sent event sent');

-- Recovery, and skipped.
select tests.run_id('deliv-model', '{"f1": 0.91, "precision": 0.90, "latency_ms": 100}',
  '{"environment": "deliv-env", "commit_sha": "deliv-good"}') as run_good \gset
insert into claims values ('recovered', benchwatch_private.claim_alert_events());
select is((select jsonb_array_length(answer) from claims where step = 'recovered'), 1,
  'a run that resolves alerts gives one group');
select is((select answer -> 0 ->> 'kind' from claims where step = 'recovered'), 'recovered',
  'resolved events are claimed as kind recovered');
select is((select answer -> 0 ->> 'transaction_id' from claims where step = 'recovered'), :'run_good',
  'the recovered group names the resolving run');
select is((select answer -> 0 -> 'metrics' from claims where step = 'recovered'),
  '[{"metric": "f1", "direction": "higher_is_better", "baseline": 0.90, "current": 0.91, "relative_change": 0.011111, "severity": "major"},
    {"metric": "precision", "direction": "higher_is_better", "baseline": 0.90, "current": 0.90, "relative_change": 0, "severity": "critical"}]'::jsonb,
  'recovered metrics show the resolving value, its change from baseline and the regression''s severity');
select benchwatch_private.complete_alert_events(
  (select array(select jsonb_array_elements_text(answer -> 0 -> 'alert_ids')::uuid) from claims where step = 'recovered'),
  'recovered', 'skipped', 'SLACK_WEBHOOK_URL is not set', null);
select results_eq(
  $$select resolved_delivery_status, resolved_last_error, resolved_delivery_attempts, opened_delivery_status
    from regression_alerts where model_version = 'deliv-model' order by metric_name$$,
  $$values ('skipped'::text, 'SLACK_WEBHOOK_URL is not set'::text, 1, 'sent'::text),
           ('skipped', 'SLACK_WEBHOOK_URL is not set', 1, 'sent')$$,
  'skipped: the resolved events are marked skipped with the reason, the opened ones untouched');
select is((select count(*)::int from benchwatch_private.alert_delivery_attempts d
           join regression_alerts a on a.id = d.alert_id
           where a.model_version = 'deliv-model' and d.event = 'resolved' and d.outcome = 'skipped'), 2,
  'skipped deliveries are recorded as attempts too');

select throws_ok(
  $$select benchwatch_private.complete_alert_events(array[gen_random_uuid()], 'opened', 'sent')$$,
  'BW017', 'Cannot complete alert events: kind must be regressed or recovered',
  'BW017: an unknown kind is rejected');
select throws_ok(
  $$select benchwatch_private.complete_alert_events(array[gen_random_uuid()], 'regressed', 'delivered')$$,
  'BW017', 'Cannot complete alert events: outcome must be sent, skipped, permanent or transient',
  'BW017: an unknown outcome is rejected');

-- Webhook receipts.
select is(benchwatch_private.record_webhook_receipt('msg_once'), true, 'a new webhook-id is recorded');
select is(benchwatch_private.record_webhook_receipt('msg_once'), false, 'a replayed webhook-id is recognised');

-- The sweeper.
select tests.run_id('sweep-model', '{"f1": 0.90}', '{"environment": "sweep-env"}');
update benchmark_snapshots set is_baseline = true where model_version = 'sweep-model';
select tests.run_id('sweep-model', '{"f1": 0.50}', '{"environment": "sweep-env", "commit_sha": "sweep-bad"}');
select coalesce(max(id), 0) as q0 from net.http_request_queue \gset
select is(benchwatch_private.sweep_alert_deliveries(), 0, 'a fresh pending event is left to the run''s own webhook');
select is((select count(*)::int from net.http_request_queue where id > :q0), 0, 'so the sweeper sends nothing');
update regression_alerts set opened_at = now() - interval '45 seconds' where model_version = 'sweep-model';
insert into benchwatch_private.webhook_receipts (webhook_id, received_at) values ('msg_old', now() - interval '2 days');
select is(benchwatch_private.sweep_alert_deliveries(), 1, 'an event pending for longer than p_min_age is counted');
select is((select count(*)::int from net.http_request_queue where id > :q0), 1, 'and the sweeper sends one request');
select is((select convert_from(body, 'UTF8')::jsonb from net.http_request_queue where id > :q0),
  '{"type": "SWEEP", "table": "regression_alerts", "schema": "public", "record": null, "old_record": null}'::jsonb,
  'the sweep request is a thin SWEEP of regression_alerts');
select is((select headers ->> 'webhook-signature' from net.http_request_queue where id > :q0),
  (select benchwatch_private.webhook_signature(headers ->> 'webhook-id', headers ->> 'webhook-timestamp',
            convert_from(body, 'UTF8'), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
   from net.http_request_queue where id > :q0),
  'the sweep request is signed');
select results_eq(
  $$select webhook_id from benchwatch_private.webhook_receipts where webhook_id in ('msg_old', 'msg_once')$$,
  $$values ('msg_once'::text)$$,
  'the sweeper forgets webhook receipts older than a day');
update regression_alerts set opened_delivery_status = 'failed', opened_next_attempt_at = now() - interval '1 second',
  opened_at = now() where model_version = 'sweep-model';
select is(benchwatch_private.sweep_alert_deliveries(), 1, 'a failed event past its next attempt is counted');
update regression_alerts set opened_claimed_until = now() + interval '30 seconds' where model_version = 'sweep-model';
select is(benchwatch_private.sweep_alert_deliveries(), 0, 'a leased event is not counted');
select results_eq(
  $$select schedule, command from cron.job where jobname = 'sweep-alert-deliveries'$$,
  $$values ('* * * * *'::text, 'select benchwatch_private.sweep_alert_deliveries()'::text)$$,
  'pg_cron runs sweep-alert-deliveries every minute');

-- Acknowledgement.
select is(
  (select benchwatch_private.acknowledge_alert(id, 'alice') ->> 'acknowledged_by' from regression_alerts where model_version = 'sweep-model'),
  'alice', 'acknowledge_alert returns the alert, acknowledged by the caller');
select is(
  (select benchwatch_private.acknowledge_alert(id, 'bob') - 'acknowledged_at' from regression_alerts where model_version = 'sweep-model'),
  (select to_jsonb(a) - 'acknowledged_at' from regression_alerts a where model_version = 'sweep-model'),
  'the answer is the alert row as jsonb');
select results_eq(
  $$select acknowledged_by, acknowledged_at from regression_alerts where model_version = 'sweep-model'$$,
  $$values ('alice'::text, now())$$,
  'the first acknowledgement stands');
select throws_ok(
  $$select benchwatch_private.acknowledge_alert('00000000-0000-4000-8000-000000000000', 'alice')$$,
  'BW018', 'Cannot acknowledge alert: no alert with this id',
  'BW018: acknowledging an unknown alert is rejected');

select * from finish();
rollback;
