-- Privileges of the Edge Functions' SQL API: every function is a
-- security definer in the private schema with a pinned search_path, callable by
-- service_role only; anon and authenticated get 42501 from each of them.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(68);

create temp table api_calls (fn regprocedure primary key, call text not null) on commit drop;
insert into api_calls values
  ('benchwatch_private.ingest_runs(jsonb, text)', $$select benchwatch_private.ingest_runs('[{"commit_sha": "priv", "model_version": "priv-model", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e", "metrics": {"f1": 1}}]')$$),
  ('benchwatch_private.create_ingest_token(text)', $$select benchwatch_private.create_ingest_token('priv-test')$$),
  ('benchwatch_private.list_ingest_tokens()', $$select benchwatch_private.list_ingest_tokens()$$),
  ('benchwatch_private.revoke_ingest_token(uuid)', $$select benchwatch_private.revoke_ingest_token(gen_random_uuid())$$),
  ('benchwatch_private.authenticate_ingest_token(text)', $$select benchwatch_private.authenticate_ingest_token(repeat('0', 64))$$),
  ('benchwatch_private.configure_webhook(text, text)', $$select benchwatch_private.configure_webhook('http://127.0.0.1:9/functions/v1', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')$$),
  ('benchwatch_private.webhook_config()', $$select benchwatch_private.webhook_config()$$),
  ('benchwatch_private.webhook_status()', $$select benchwatch_private.webhook_status()$$),
  ('benchwatch_private.send_alert_webhook(jsonb, text)', $$select benchwatch_private.send_alert_webhook(null, 'sweep')$$),
  ('benchwatch_private.claim_alert_events(integer, integer)', $$select benchwatch_private.claim_alert_events(1, 1)$$),
  ('benchwatch_private.complete_alert_events(uuid[], text, text, text, integer)', $$select benchwatch_private.complete_alert_events('{}', 'regressed', 'sent')$$),
  ('benchwatch_private.record_webhook_receipt(text)', $$select benchwatch_private.record_webhook_receipt('priv-msg')$$),
  ('benchwatch_private.sweep_alert_deliveries(interval)', $$select benchwatch_private.sweep_alert_deliveries()$$),
  ('benchwatch_private.acknowledge_alert(uuid, text)', $$select benchwatch_private.acknowledge_alert(gen_random_uuid(), 'priv')$$),
  ('benchwatch_private.run_verdicts(uuid, text)', $$select benchwatch_private.run_verdicts(gen_random_uuid())$$),
  ('benchwatch_private.list_alerts(jsonb)', $$select benchwatch_private.list_alerts('{}')$$),
  ('benchwatch_private.filter_values()', $$select benchwatch_private.filter_values()$$),
  ('benchwatch_private.current_snapshot(jsonb)', $$select benchwatch_private.current_snapshot('{}')$$),
  ('benchwatch_private.current_snapshot_json(jsonb)', $$select benchwatch_private.current_snapshot_json('{}')$$),
  ('benchwatch_private.metric_trend(jsonb, text, timestamp with time zone, timestamp with time zone, integer)',
   $$select benchwatch_private.metric_trend('{"model_version": "m", "model_provider": "p", "dataset_version": "d", "prompt_version": "p", "environment": "e"}', 'f1')$$),
  ('benchwatch_private.series_list()', $$select benchwatch_private.series_list()$$);
grant select on api_calls to anon, authenticated, service_role;

-- Declarations.
select is_empty(
  $$select fn::text from api_calls c join pg_proc p on p.oid = c.fn
    where not p.prosecdef or not coalesce('search_path=""' = any (p.proconfig), false)$$,
  'every API function is security definer with search_path pinned to ''''');
select is_empty(
  $$select fn::text from api_calls c
    where has_function_privilege('anon', c.fn, 'execute') or has_function_privilege('authenticated', c.fn, 'execute')
       or has_function_privilege('public', c.fn, 'execute')$$,
  'no API function is executable by public, anon or authenticated');
select is_empty(
  $$select fn::text from api_calls c where not has_function_privilege('service_role', c.fn, 'execute')$$,
  'every API function is executable by service_role');
select is_empty(
  $$select p.oid::regprocedure::text from pg_proc p
    where p.pronamespace = 'benchwatch_private'::regnamespace
      and p.proname in ('webhook_signature', 'alert_severity', 'assert_valid_filters', 'with_snapshot_ids',
                        'tg_benchmark_transactions__notify_webhook')
      and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute'))$$,
  'the helper functions are not executable by anon or authenticated either');
select is_empty(
  $$select p.oid::regprocedure::text from pg_proc p
    where p.pronamespace = 'benchwatch_private'::regnamespace and obj_description(p.oid, 'pg_proc') is null
    union all
    select c.relname::text from pg_class c
    where c.relnamespace = 'benchwatch_private'::regnamespace and c.relkind in ('r', 'p')
      and c.relname in ('ingest_tokens', 'webhook_requests', 'alert_delivery_attempts', 'webhook_receipts')
      and obj_description(c.oid, 'pg_class') is null$$,
  'every private function and every new table says what it is for');

-- As anon: 42501 from each.
select tests.authenticate_as('anon');
select throws_ok(c.call, '42501', 'permission denied for schema benchwatch_private',
                 'anon cannot execute ' || c.fn::text)
from api_calls c order by c.fn::text;
reset role;

-- As authenticated: 42501 from each.
select tests.authenticate_as('authenticated');
select throws_ok(c.call, '42501', 'permission denied for schema benchwatch_private',
                 'authenticated cannot execute ' || c.fn::text)
from api_calls c order by c.fn::text;
reset role;

-- As service_role: each works (BW018 shows the call got in).
select tests.authenticate_as('service_role');
select lives_ok(c.call, 'service_role can execute ' || c.fn::text)
from api_calls c where c.fn <> 'benchwatch_private.acknowledge_alert(uuid, text)'::regprocedure order by c.fn::text;
select throws_ok($$select benchwatch_private.acknowledge_alert(gen_random_uuid(), 'priv')$$,
  'BW018', 'Cannot acknowledge alert: no alert with this id',
  'service_role can execute benchwatch_private.acknowledge_alert(uuid, text)');
reset role;

select * from finish();
rollback;
