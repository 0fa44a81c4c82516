-- Row level security, privileges and advisor-equivalent checks.
-- anon and authenticated read what the dashboard reads and write nothing;
-- service_role writes through the API; security definer functions are private.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(78);

-- RLS on every table, public and private (partitions included).
select tests.rls_enabled('public');
select tests.rls_enabled('benchwatch_private');

-- Advisor-equivalent checks, written from the Supabase advisor lint descriptions.
-- Objects that belong to extensions are the extension's business, not ours.
create temp view our_relations as
  select c.oid, c.relname, c.relkind, c.relrowsecurity, c.reloptions, n.nspname
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname in ('public', 'benchwatch_private')
    and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e');
create temp view our_functions as
  select p.oid, p.proname, p.prosecdef, p.proconfig, n.nspname
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname in ('public', 'benchwatch_private')
    and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e');
grant select on our_relations, our_functions to public;

select is_empty(
  $$select relname from our_relations where nspname = 'public' and relkind in ('r', 'p') and not relrowsecurity$$,
  'advisor rls_disabled_in_public: every public table has RLS enabled');
select is_empty(
  $$select r.relname from pg_policy p join our_relations r on r.oid = p.polrelid where not r.relrowsecurity$$,
  'advisor policy_exists_rls_disabled: no table has policies while RLS is off');
select is_empty(
  $$select f.oid::regprocedure::text from our_functions f
    where not exists (select 1 from unnest(coalesce(f.proconfig, '{}')) as cfg where cfg like 'search_path=%')$$,
  'advisor function_search_path_mutable: every function pins its search_path');
select is_empty(
  $$select relname from our_relations
    where nspname = 'public' and relkind = 'v'
      and not coalesce('security_invoker=true' = any (reloptions) or 'security_invoker=on' = any (reloptions), false)$$,
  'advisor security_definer_view: every public view is security_invoker');
select is_empty(
  $$select f.oid::regprocedure::text from our_functions f
    where f.prosecdef and (has_function_privilege('anon', f.oid, 'execute')
                           or has_function_privilege('authenticated', f.oid, 'execute'))$$,
  'advisor anon_security_definer_function_executable: anon and authenticated cannot execute a security definer function');
select is_empty(
  $$select c.conrelid::regclass::text || ' ' || c.conname
    from pg_constraint c join our_relations r on r.oid = c.conrelid
    where c.contype = 'f'
      and not exists (
        select 1 from pg_index i
        where i.indrelid = c.conrelid
          and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] @> c.conkey
          and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] <@ c.conkey)$$,
  'advisor unindexed_foreign_keys: every foreign key is covered by an index');
select is_empty(
  $$select r.relname from our_relations r
    where r.relkind in ('r', 'p')
      and not exists (select 1 from pg_constraint c where c.conrelid = r.oid and c.contype = 'p')$$,
  'advisor no_primary_key: every table has a primary key');
select is_empty(
  $$select oid::regprocedure::text from our_functions where prosecdef and nspname = 'public'$$,
  'security definer functions live only in the private schema');
select is_empty(
  $$select f.oid::regprocedure::text from our_functions f
    where has_function_privilege('anon', f.oid, 'execute')
       or has_function_privilege('authenticated', f.oid, 'execute')$$,
  'no benchwatch function is executable by anon or authenticated');
select ok(not has_schema_privilege('anon', 'benchwatch_private', 'usage')
          and not has_schema_privilege('authenticated', 'benchwatch_private', 'usage'),
  'anon and authenticated cannot use the private schema');
select is_empty(
  $$select r.relname from our_relations r
    where r.nspname = 'benchwatch_private' and r.relkind in ('r', 'p')
      and (has_table_privilege('anon', r.oid, 'select,insert,update,delete')
           or has_table_privilege('authenticated', r.oid, 'select,insert,update,delete'))$$,
  'anon and authenticated hold no privilege on any private table');

-- As anon: read what the dashboard reads, write nothing.
select tests.authenticate_as('anon');
select lives_ok($$select * from public.benchmark_transactions limit 1$$, 'anon can read benchmark_transactions');
select lives_ok($$select * from public.benchmark_snapshots limit 1$$, 'anon can read benchmark_snapshots');
select lives_ok($$select * from public.metric_policies limit 1$$, 'anon can read metric_policies');
select lives_ok($$select * from public.regression_alerts limit 1$$, 'anon can read regression_alerts');
select lives_ok($$select * from public.benchmark_transactions_archive limit 1$$, 'anon can read benchmark_transactions_archive');
select lives_ok($$select * from public.v_latest_benchmarks limit 1$$, 'anon can read v_latest_benchmarks');
select lives_ok($$select * from public.mv_daily_stats limit 1$$, 'anon can read mv_daily_stats');
select throws_ok($$insert into public.benchmark_transactions default values$$, '42501', 'permission denied for table benchmark_transactions', 'anon cannot insert into benchmark_transactions');
select throws_ok($$update public.benchmark_transactions set created_at = created_at$$, '42501', 'permission denied for table benchmark_transactions', 'anon cannot update benchmark_transactions');
select throws_ok($$delete from public.benchmark_transactions$$, '42501', 'permission denied for table benchmark_transactions', 'anon cannot delete from benchmark_transactions');
select throws_ok($$insert into public.benchmark_snapshots default values$$, '42501', 'permission denied for table benchmark_snapshots', 'anon cannot insert into benchmark_snapshots');
select throws_ok($$update public.benchmark_snapshots set created_at = created_at$$, '42501', 'permission denied for table benchmark_snapshots', 'anon cannot update benchmark_snapshots');
select throws_ok($$delete from public.benchmark_snapshots$$, '42501', 'permission denied for table benchmark_snapshots', 'anon cannot delete from benchmark_snapshots');
select throws_ok($$insert into public.metric_policies default values$$, '42501', 'permission denied for table metric_policies', 'anon cannot insert into metric_policies');
select throws_ok($$update public.metric_policies set updated_at = now()$$, '42501', 'permission denied for table metric_policies', 'anon cannot update metric_policies');
select throws_ok($$delete from public.metric_policies$$, '42501', 'permission denied for table metric_policies', 'anon cannot delete from metric_policies');
select throws_ok($$insert into public.regression_alerts default values$$, '42501', 'permission denied for table regression_alerts', 'anon cannot insert into regression_alerts');
select throws_ok($$update public.regression_alerts set opened_delivery_status = 'sent'$$, '42501', 'permission denied for table regression_alerts', 'anon cannot update regression_alerts');
select throws_ok($$delete from public.regression_alerts$$, '42501', 'permission denied for table regression_alerts', 'anon cannot delete from regression_alerts');
select throws_ok($$insert into public.benchmark_transactions_archive default values$$, '42501', 'permission denied for table benchmark_transactions_archive', 'anon cannot insert into benchmark_transactions_archive');
select throws_ok($$update public.benchmark_transactions_archive set created_at = created_at$$, '42501', 'permission denied for table benchmark_transactions_archive', 'anon cannot update benchmark_transactions_archive');
select throws_ok($$delete from public.benchmark_transactions_archive$$, '42501', 'permission denied for table benchmark_transactions_archive', 'anon cannot delete from benchmark_transactions_archive');
select throws_ok($$select public.upsert_benchmark_result('c', null, 'm', 'p', 'd', null, 'p', 'e', null, null, '{"f1": 1}', null, null, null)$$, '42501', 'permission denied for function upsert_benchmark_result', 'anon cannot execute upsert_benchmark_result');
select throws_ok($$select public.detect_regression('test-v1.0')$$, '42501', 'permission denied for function detect_regression', 'anon cannot execute detect_regression');
select throws_ok($$select public.pin_baseline(gen_random_uuid())$$, '42501', 'permission denied for function pin_baseline', 'anon cannot execute pin_baseline');
select throws_ok($$select public.archive_benchmarks()$$, '42501', 'permission denied for function archive_benchmarks', 'anon cannot execute archive_benchmarks');
select throws_ok($$select benchwatch_private.record_run('{}')$$, '42501', 'permission denied for schema benchwatch_private', 'anon cannot reach the security definer ingest function');
reset role;

-- As authenticated: read what the dashboard reads, write nothing.
select tests.authenticate_as('authenticated');
select lives_ok($$select * from public.benchmark_transactions limit 1$$, 'authenticated can read benchmark_transactions');
select lives_ok($$select * from public.benchmark_snapshots limit 1$$, 'authenticated can read benchmark_snapshots');
select lives_ok($$select * from public.metric_policies limit 1$$, 'authenticated can read metric_policies');
select lives_ok($$select * from public.regression_alerts limit 1$$, 'authenticated can read regression_alerts');
select lives_ok($$select * from public.benchmark_transactions_archive limit 1$$, 'authenticated can read benchmark_transactions_archive');
select lives_ok($$select * from public.v_latest_benchmarks limit 1$$, 'authenticated can read v_latest_benchmarks');
select lives_ok($$select * from public.mv_daily_stats limit 1$$, 'authenticated can read mv_daily_stats');
select throws_ok($$insert into public.benchmark_transactions default values$$, '42501', 'permission denied for table benchmark_transactions', 'authenticated cannot insert into benchmark_transactions');
select throws_ok($$update public.benchmark_transactions set created_at = created_at$$, '42501', 'permission denied for table benchmark_transactions', 'authenticated cannot update benchmark_transactions');
select throws_ok($$delete from public.benchmark_transactions$$, '42501', 'permission denied for table benchmark_transactions', 'authenticated cannot delete from benchmark_transactions');
select throws_ok($$insert into public.benchmark_snapshots default values$$, '42501', 'permission denied for table benchmark_snapshots', 'authenticated cannot insert into benchmark_snapshots');
select throws_ok($$update public.benchmark_snapshots set created_at = created_at$$, '42501', 'permission denied for table benchmark_snapshots', 'authenticated cannot update benchmark_snapshots');
select throws_ok($$delete from public.benchmark_snapshots$$, '42501', 'permission denied for table benchmark_snapshots', 'authenticated cannot delete from benchmark_snapshots');
select throws_ok($$insert into public.metric_policies default values$$, '42501', 'permission denied for table metric_policies', 'authenticated cannot insert into metric_policies');
select throws_ok($$update public.metric_policies set updated_at = now()$$, '42501', 'permission denied for table metric_policies', 'authenticated cannot update metric_policies');
select throws_ok($$delete from public.metric_policies$$, '42501', 'permission denied for table metric_policies', 'authenticated cannot delete from metric_policies');
select throws_ok($$insert into public.regression_alerts default values$$, '42501', 'permission denied for table regression_alerts', 'authenticated cannot insert into regression_alerts');
select throws_ok($$update public.regression_alerts set opened_delivery_status = 'sent'$$, '42501', 'permission denied for table regression_alerts', 'authenticated cannot update regression_alerts');
select throws_ok($$delete from public.regression_alerts$$, '42501', 'permission denied for table regression_alerts', 'authenticated cannot delete from regression_alerts');
select throws_ok($$insert into public.benchmark_transactions_archive default values$$, '42501', 'permission denied for table benchmark_transactions_archive', 'authenticated cannot insert into benchmark_transactions_archive');
select throws_ok($$update public.benchmark_transactions_archive set created_at = created_at$$, '42501', 'permission denied for table benchmark_transactions_archive', 'authenticated cannot update benchmark_transactions_archive');
select throws_ok($$delete from public.benchmark_transactions_archive$$, '42501', 'permission denied for table benchmark_transactions_archive', 'authenticated cannot delete from benchmark_transactions_archive');
select throws_ok($$select public.upsert_benchmark_result('c', null, 'm', 'p', 'd', null, 'p', 'e', null, null, '{"f1": 1}', null, null, null)$$, '42501', 'permission denied for function upsert_benchmark_result', 'authenticated cannot execute upsert_benchmark_result');
select throws_ok($$select public.detect_regression('test-v1.0')$$, '42501', 'permission denied for function detect_regression', 'authenticated cannot execute detect_regression');
select throws_ok($$select public.pin_baseline(gen_random_uuid())$$, '42501', 'permission denied for function pin_baseline', 'authenticated cannot execute pin_baseline');
select throws_ok($$select public.archive_benchmarks()$$, '42501', 'permission denied for function archive_benchmarks', 'authenticated cannot execute archive_benchmarks');
select throws_ok($$select benchwatch_private.record_run('{}')$$, '42501', 'permission denied for schema benchwatch_private', 'authenticated cannot reach the security definer ingest function');
reset role;

-- As service_role: writes work through the API.
select tests.authenticate_as('service_role');
select lives_ok(
  $$select upsert_benchmark_result('sr1', 'main', 'sr-v1', 'openai', 'd', 5, 'p', 'ci', 'sr-run', 'ci',
      '{"f1": 0.9}', 1, array['x'], null)$$,
  'service_role records a run with upsert_benchmark_result');
select lives_ok($$update benchmark_snapshots set is_baseline = true where model_version = 'sr-v1'$$,
  'service_role pins a baseline with the guide''s UPDATE');
select lives_ok(
  $$select upsert_benchmark_result('sr2', 'main', 'sr-v1', 'openai', 'd', 5, 'p', 'ci', 'sr-run-2', 'ci',
      '{"f1": 0.5}', 1, array['x'], null)$$,
  'service_role records a regressing run');
select results_eq($$select is_regression from detect_regression('sr-v1')$$, $$values (true)$$,
  'service_role runs detect_regression');
select lives_ok($$update regression_alerts set opened_delivery_status = 'sent', opened_notified_at = now()
                  where model_version = 'sr-v1'$$,
  'service_role updates an alert''s delivery state');
select lives_ok($$insert into metric_policies (metric, direction) values ('sr_metric', 'lower')$$,
  'service_role manages metric_policies');
select lives_ok($$select pin_baseline((select transaction_id from benchmark_snapshots where model_version = 'sr-v1' and pinned_at is null))$$,
  'service_role pins with pin_baseline()');
select lives_ok($$select unpin_baseline('sr-v1', 'ci')$$, 'service_role unpins with unpin_baseline()');
select lives_ok($$select archive_benchmarks()$$, 'service_role runs archive_benchmarks()');
select lives_ok($$select benchwatch_private.record_run('{"commit_sha": "sr3", "model_version": "sr-v1", "model_provider": "openai", "dataset_version": "d", "prompt_version": "p", "environment": "ci", "metrics": {"f1": 0.9}}')$$,
  'service_role calls the ingest entrypoint');
select throws_ok($$insert into benchmark_transactions (commit_sha, model_version, model_provider, dataset_version,
                     prompt_version, environment, metrics) values ('x', 'x', 'x', 'x', 'x', 'x', '{"f1": 1}')$$,
  '42501', 'permission denied for table benchmark_transactions',
  'even service_role appends runs only through the API, which keeps snapshots and alerts in step');
reset role;

select * from finish();
rollback;
