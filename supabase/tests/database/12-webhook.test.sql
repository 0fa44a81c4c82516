-- The database webhook: settings in vault, Standard Webhooks
-- signatures, and a deferred trigger that queues at most one signed pg_net
-- request per transaction, only when the transaction opened or resolved alerts.
-- Deferred triggers fire at COMMIT; these tests end in ROLLBACK, so each scenario
-- fires them with SET CONSTRAINTS ALL IMMEDIATE inside a savepoint, then rolls
-- the savepoint back (which also resets the once-per-transaction guard).
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(42);

-- Alerts wait for confirmation and must be beyond noise. This file
-- pins down the alert LIFECYCLE (open, continue, resolve, transactions, delivery
-- state), so it runs under the immediate policy: every run beyond tolerance is out
-- of control, one run confirms, one run back within tolerance resolves.
select tests.use_immediate_alert_policy();

-- Shape.
select has_table('benchwatch_private', 'webhook_requests', 'benchwatch_private.webhook_requests exists');
select columns_are('benchwatch_private', 'webhook_requests',
  array['id', 'net_request_id', 'webhook_id', 'reason', 'record', 'created_at'],
  'webhook_requests records each queued request');
select results_eq(
  $$select t.tgdeferrable, t.tginitdeferred, t.tgconstraint <> 0, (t.tgtype & 1) = 1, (t.tgtype & 4) = 4
    from pg_trigger t where t.tgrelid = 'public.benchmark_transactions'::regclass
      and t.tgname = 'benchmark_transactions_notify_webhook'$$,
  $$values (true, true, true, true, true)$$,
  'the webhook is a deferrable, initially deferred, row-level AFTER INSERT constraint trigger on benchmark_transactions');
select is(
  (select count(*)::int from pg_trigger t join pg_inherits i on i.inhrelid = t.tgrelid
   where i.inhparent = 'public.benchmark_transactions'::regclass and t.tgname = 'benchmark_transactions_notify_webhook'),
  (select count(*)::int from pg_inherits i where i.inhparent = 'public.benchmark_transactions'::regclass),
  'every partition carries the webhook trigger');

-- The Standard Webhooks reference vector.
select is(
  benchwatch_private.webhook_signature('msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', '{"test": 2432232314}',
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'),
  'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  'webhook_signature reproduces the Standard Webhooks reference signature');
select is(
  benchwatch_private.webhook_signature('id-1', '1700000000', '{"a": 1}', 'whsec_' || encode('0123456789abcdef0123456789abcdef'::bytea, 'base64')),
  'v1,' || encode(hmac('id-1.1700000000.{"a": 1}'::bytea, '0123456789abcdef0123456789abcdef'::bytea, 'sha256'), 'base64'),
  'webhook_signature is v1, + base64 HMAC-SHA256 of id.timestamp.body keyed by the decoded secret');

-- configure_webhook validates its input.
select throws_ok($$select benchwatch_private.configure_webhook('ftp://example.com/functions/v1', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')$$,
  'BW015', 'Cannot configure the webhook: the functions URL must start with http:// or https://',
  'BW015: a URL that is not http(s) is rejected');
select throws_ok($$select benchwatch_private.configure_webhook(null, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')$$,
  'BW015', 'Cannot configure the webhook: the functions URL must start with http:// or https://',
  'BW015: a missing URL is rejected');
select throws_ok($$select benchwatch_private.configure_webhook('https://ref.supabase.co/functions/v1/', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')$$,
  'BW015', 'Cannot configure the webhook: remove the trailing slash from the functions URL',
  'BW015: a trailing slash is rejected, saying what to fix');
select throws_ok($$select benchwatch_private.configure_webhook('https://ref.supabase.co/functions/v1', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')$$,
  'BW016', 'Cannot configure the webhook: the secret must be whsec_ followed by base64',
  'BW016: a secret without the whsec_ prefix is rejected');
select throws_ok($$select benchwatch_private.configure_webhook('https://ref.supabase.co/functions/v1', 'whsec_not base64!')$$,
  'BW016', 'Cannot configure the webhook: the secret must be whsec_ followed by base64',
  'BW016: a secret that is not base64 is rejected');
select throws_ok($$select benchwatch_private.configure_webhook('https://ref.supabase.co/functions/v1', 'whsec_' || encode(gen_random_bytes(16), 'base64'))$$,
  'BW016', 'Cannot configure the webhook: the secret must be whsec_ followed by base64 of at least 24 bytes',
  'BW016: a secret shorter than 24 bytes is rejected');
select throws_ok($$select benchwatch_private.configure_webhook('https://ref.supabase.co/functions/v1', 'whsec_abcde')$$,
  'BW016', 'Cannot configure the webhook: the secret must be whsec_ followed by base64 of at least 24 bytes',
  'BW016: a secret whose base64 does not decode is rejected');

-- Upserting twice leaves one secret of each name, with the latest values.
select lives_ok($$select benchwatch_private.configure_webhook('https://first.example/functions/v1', 'whsec_' || encode(gen_random_bytes(32), 'base64'))$$,
  'configure_webhook stores valid settings');
select lives_ok($$select benchwatch_private.configure_webhook('http://127.0.0.1:9/functions/v1', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')$$,
  'configure_webhook can be run again');
select results_eq(
  $$select name, count(*)::int from vault.decrypted_secrets
    where name in ('benchwatch_functions_url', 'benchwatch_webhook_secret') group by name order by name$$,
  $$values ('benchwatch_functions_url'::text, 1), ('benchwatch_webhook_secret', 1)$$,
  'a second configure_webhook updates the two vault secrets instead of adding more');
select is(benchwatch_private.webhook_config(),
  '{"functions_url": "http://127.0.0.1:9/functions/v1", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}'::jsonb,
  'webhook_config returns the latest URL and secret');
select is(
  (select array(select jsonb_object_keys(benchwatch_private.webhook_status()) order by 1)),
  array['failed_events', 'functions_url_set', 'pending_events', 'secret_set'],
  'webhook_status reports functions_url_set, secret_set, pending_events and failed_events');
select is((benchwatch_private.webhook_status() ->> 'functions_url_set')::boolean
          and (benchwatch_private.webhook_status() ->> 'secret_set')::boolean, true,
  'webhook_status sees both settings');

-- A baseline for the scenarios; its own (alert-free) trigger events are spent here.
select public.pin_baseline(tests.run_id('hook-model', '{"f1": 0.90, "latency_ms": 100}', '{"environment": "hook-env"}'));
select tests.run_id('hook-resolve', '{"f1": 0.90}', '{"environment": "hook-env-2"}');
update benchmark_snapshots set is_baseline = true where model_version = 'hook-resolve';
select tests.run_id('hook-resolve', '{"f1": 0.50}', '{"environment": "hook-env-2", "commit_sha": "resolve-bad"}');
-- That alert's "opened" event counts as delivered, so only its resolution is news below.
update regression_alerts set opened_delivery_status = 'sent' where model_version = 'hook-resolve';
set constraints all immediate;
set constraints all deferred;

-- 1. A regressing run through the guide's function: exactly one signed request.
savepoint scenario;
select coalesce(max(id), 0) as q0 from net.http_request_queue \gset
select upsert_benchmark_result('hook-c1', 'main', 'hook-model', 'openai', 'ds-v1', null, 'prompt-v1', 'hook-env',
  'hook-run-1', 'ci', '{"f1": 0.70, "latency_ms": 100}', null, null, null) as hook_tx \gset
set constraints all immediate;
select is((select count(*)::int from net.http_request_queue where id > :q0), 1,
  'a run that opened alerts queues exactly one request at commit');
select ok((select url like '%/notify-slack' and url = 'http://127.0.0.1:9/functions/v1/notify-slack'
           from net.http_request_queue where id > :q0),
  'the request goes to <functions_url>/notify-slack');
select is((select convert_from(body, 'UTF8')::jsonb from net.http_request_queue where id > :q0),
  jsonb_build_object('type', 'INSERT', 'table', 'benchmark_transactions', 'schema', 'public',
                     'record', jsonb_build_object('id', :'hook_tx'::uuid), 'old_record', null),
  'the payload is thin: Supabase''s {type, table, schema, record, old_record} with the run id');
select ok((select headers ? 'webhook-id' and headers ? 'webhook-timestamp' and headers ? 'webhook-signature'
                  and headers ->> 'Content-Type' = 'application/json'
           from net.http_request_queue where id > :q0),
  'the request carries webhook-id, webhook-timestamp, webhook-signature and a JSON content type');
select ok((select abs((headers ->> 'webhook-timestamp')::bigint - extract(epoch from clock_timestamp())) < 60
           from net.http_request_queue where id > :q0),
  'webhook-timestamp is the current Unix time in seconds');
select is(
  (select 'v1,' || encode(hmac(
            convert_to((headers ->> 'webhook-id') || '.' || (headers ->> 'webhook-timestamp') || '.', 'UTF8') || body,
            decode('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'), 'sha256'), 'base64')
   from net.http_request_queue where id > :q0),
  (select headers ->> 'webhook-signature' from net.http_request_queue where id > :q0),
  'the signature verifies over the exact queued body bytes');
select results_eq(
  $$select w.reason, w.record, w.webhook_id from benchwatch_private.webhook_requests w
    join net.http_request_queue q on q.id = w.net_request_id where q.id > $$ || :q0,
  $$select 'run'::text, jsonb_build_object('id', '$$ || :'hook_tx' || $$'::uuid), headers ->> 'webhook-id'
    from net.http_request_queue where id > $$ || :q0,
  'webhook_requests records the request with its pg_net id, webhook-id, reason and record');
set constraints all deferred;
rollback to savepoint scenario;

-- 2. Many regressing runs in one transaction: still one request.
savepoint scenario;
select coalesce(max(id), 0) as q0 from net.http_request_queue \gset
select benchwatch_private.ingest_runs((select jsonb_agg(jsonb_build_object(
  'commit_sha', 'hook-batch', 'model_version', 'hook-cand-' || i, 'model_provider', 'openai',
  'dataset_version', 'ds-v1', 'prompt_version', 'prompt-v1', 'environment', 'hook-env',
  'metrics', jsonb_build_object('f1', 0.5))) from generate_series(1, 5) i));
select upsert_benchmark_result('hook-c2', 'main', 'hook-model', 'openai', 'ds-v1', null, 'prompt-v1', 'hook-env',
  'hook-run-2', 'ci', '{"f1": 0.60, "latency_ms": 100}', null, null, null);
select is((select count(*)::int from regression_alerts where opened_delivery_status = 'pending'
             and environment = 'hook-env' and model_version like 'hook-%'), 6,
  'the transaction opened six alerts');
set constraints all immediate;
select is((select count(*)::int from net.http_request_queue where id > :q0), 1,
  'a transaction of several regressing runs queues exactly one request');
select ok((select (convert_from(body, 'UTF8')::jsonb -> 'record' ->> 'id')::uuid in
             (select opened_transaction_id from regression_alerts where environment = 'hook-env')
           from net.http_request_queue where id > :q0),
  'it names one of the transaction''s runs');
set constraints all deferred;
rollback to savepoint scenario;

-- 3. A run that changes no alert: no request.
savepoint scenario;
select coalesce(max(id), 0) as q0 from net.http_request_queue \gset
select tests.run('hook-model', '{"f1": 0.91, "latency_ms": 99}', '{"environment": "hook-env", "commit_sha": "hook-fine"}');
select tests.run('hook-nobaseline', '{"f1": 0.1}', '{"dataset_version": "ds-hook-none"}');
set constraints all immediate;
select is((select count(*)::int from net.http_request_queue where id > :q0), 0,
  'runs that open or resolve no alert queue no request');
set constraints all deferred;
rollback to savepoint scenario;

-- 4. A run that resolves an alert: one request.
savepoint scenario;
select coalesce(max(id), 0) as q0 from net.http_request_queue \gset
select tests.run_id('hook-resolve', '{"f1": 0.95}', '{"environment": "hook-env-2", "commit_sha": "resolve-good"}') as resolve_tx \gset
set constraints all immediate;
select is((select count(*)::int from net.http_request_queue where id > :q0), 1,
  'a run that resolves alerts queues one request');
select is((select convert_from(body, 'UTF8')::jsonb -> 'record' ->> 'id' from net.http_request_queue where id > :q0),
  :'resolve_tx', 'it names the resolving run');
set constraints all deferred;
rollback to savepoint scenario;

-- 5. A rolled-back run: nothing.
savepoint scenario;
select coalesce(max(id), 0) as q0 from net.http_request_queue \gset
savepoint doomed;
select tests.run('hook-model', '{"f1": 0.40, "latency_ms": 100}', '{"environment": "hook-env", "commit_sha": "hook-doomed"}');
rollback to savepoint doomed;
set constraints all immediate;
select is((select count(*)::int from net.http_request_queue where id > :q0), 0,
  'a rolled-back regressing run queues nothing');
set constraints all deferred;
rollback to savepoint scenario;

-- 6. Not configured: no request, no error, the alert stays pending.
savepoint scenario;
select coalesce(max(id), 0) as q0 from net.http_request_queue \gset
delete from vault.decrypted_secrets where name in ('benchwatch_functions_url', 'benchwatch_webhook_secret');
select is(benchwatch_private.webhook_config(), '{"functions_url": null, "secret": null}'::jsonb,
  'webhook_config answers nulls when nothing is configured');
select is(benchwatch_private.send_alert_webhook('{"id": "x"}', 'run'), null,
  'send_alert_webhook returns null when the webhook is not configured');
select tests.run('hook-model', '{"f1": 0.40, "latency_ms": 100}', '{"environment": "hook-env", "commit_sha": "hook-unconfigured"}');
select lives_ok($$set constraints all immediate$$, 'committing a regressing run without webhook settings succeeds');
select is((select count(*)::int from net.http_request_queue where id > :q0), 0,
  'and queues no request');
select is((select opened_delivery_status from regression_alerts where model_version = 'hook-model' and status = 'open'), 'pending',
  'its alert stays pending for the sweeper');
select is((benchwatch_private.webhook_status() ->> 'functions_url_set')::boolean, false,
  'webhook_status says the URL is not set');
set constraints all deferred;
rollback to savepoint scenario;

-- 7. A broken secret in vault never fails the run.
savepoint scenario;
select coalesce(max(id), 0) as q0 from net.http_request_queue \gset
select vault.update_secret(id, 'whsec_a') from vault.decrypted_secrets where name = 'benchwatch_webhook_secret';
select tests.run('hook-model', '{"f1": 0.40, "latency_ms": 100}', '{"environment": "hook-env", "commit_sha": "hook-broken"}');
select lives_ok($$set constraints all immediate$$, 'committing a regressing run with a broken secret still succeeds');
select is((select count(*)::int from net.http_request_queue where id > :q0), 0,
  'and queues nothing (the sweeper retries once the secret is fixed)');
set constraints all deferred;
rollback to savepoint scenario;

-- send_alert_webhook's arguments.
select throws_ok($$select benchwatch_private.send_alert_webhook(null, 'later')$$,
  '22023', 'Cannot send the alert webhook: p_reason must be run or sweep',
  '22023: an unknown reason is rejected');

select * from finish();
rollback;
