-- Shape of the setup guide's SQL API: tables, view, materialized view,
-- functions with the guide's signatures, policies and comments.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(34);

select has_schema('benchwatch_private', 'the private schema exists');
select has_table('public', 'benchmark_transactions', 'benchmark_transactions exists');
select has_table('public', 'benchmark_snapshots', 'benchmark_snapshots exists');
select has_table('public', 'metric_policies', 'metric_policies exists');
select has_table('public', 'regression_alerts', 'regression_alerts exists');
select has_table('public', 'benchmark_transactions_archive', 'benchmark_transactions_archive exists');
select has_view('public', 'v_latest_benchmarks', 'v_latest_benchmarks exists');
select has_materialized_view('public', 'mv_daily_stats', 'mv_daily_stats exists');

select columns_are('public', 'benchmark_transactions', array[
  'id', 'commit_sha', 'branch_name', 'model_version', 'model_provider', 'dataset_version',
  'dataset_size', 'prompt_version', 'environment', 'run_id', 'triggered_by', 'metrics',
  'duration_seconds', 'tags', 'notes', 'created_at'],
  'benchmark_transactions has the guide''s columns');
select col_type_is('public', 'benchmark_transactions', 'metrics', 'jsonb', 'metrics is jsonb');
select col_type_is('public', 'benchmark_transactions', 'tags', 'text[]', 'tags is text[]');
select col_is_pk('public', 'benchmark_transactions', array['id', 'created_at'],
  'the primary key of the partitioned log includes created_at');
select is((select c.relkind::text from pg_class c where c.oid = 'public.benchmark_transactions'::regclass),
  'p', 'benchmark_transactions is partitioned');
select is((select pg_get_partkeydef('public.benchmark_transactions'::regclass)),
  'RANGE (created_at)', 'it is range-partitioned on created_at');

select columns_are('public', 'benchmark_snapshots', array[
  'id', 'transaction_id', 'commit_sha', 'branch_name', 'model_version', 'model_provider',
  'dataset_version', 'dataset_size', 'prompt_version', 'environment', 'run_id', 'triggered_by',
  'metrics', 'duration_seconds', 'tags', 'notes', 'created_at', 'is_active', 'is_baseline',
  'pinned_at', 'updated_at'],
  'benchmark_snapshots has the descriptive columns plus is_active and is_baseline');

select has_column('public', 'mv_daily_stats', 'date', 'mv_daily_stats has date');
select has_column('public', 'mv_daily_stats', 'avg_f1', 'mv_daily_stats has avg_f1');
select has_column('public', 'mv_daily_stats', 'run_count', 'mv_daily_stats has run_count');

select has_function('public', 'upsert_benchmark_result',
  array['text', 'text', 'text', 'text', 'text', 'integer', 'text', 'text', 'text', 'text',
        'jsonb', 'numeric', 'text[]', 'text'],
  'upsert_benchmark_result takes the guide''s 14 arguments');
select function_returns('public', 'upsert_benchmark_result',
  array['text', 'text', 'text', 'text', 'text', 'integer', 'text', 'text', 'text', 'text',
        'jsonb', 'numeric', 'text[]', 'text'],
  'uuid', 'upsert_benchmark_result returns the transaction uuid');
select is((select p.proargnames[1:14] from pg_proc p where p.oid =
    'public.upsert_benchmark_result(text, text, text, text, text, integer, text, text, text, text, jsonb, numeric, text[], text)'::regprocedure),
  array['p_commit_sha', 'p_branch_name', 'p_model_version', 'p_model_provider', 'p_dataset_version',
        'p_dataset_size', 'p_prompt_version', 'p_environment', 'p_run_id', 'p_triggered_by',
        'p_metrics', 'p_duration_seconds', 'p_tags', 'p_notes'],
  'upsert_benchmark_result''s parameters are named and ordered as in the guide');
select has_function('public', 'detect_regression', array['text', 'numeric'],
  'detect_regression(p_model_version text, p_threshold numeric) exists');
select is((select pg_get_function_arguments('public.detect_regression(text, numeric)'::regprocedure)),
  'p_model_version text, p_threshold numeric DEFAULT 0.05', 'p_threshold defaults to 0.05');
select has_function('public', 'archive_benchmarks', array['interval'], 'archive_benchmarks(older_than interval) exists');
select is((select pg_get_function_arguments('public.archive_benchmarks(interval)'::regprocedure)),
  'older_than interval DEFAULT ''1 year''::interval', 'older_than defaults to 1 year');
select has_function('public', 'pin_baseline', array['uuid'], 'pin_baseline(uuid) exists');
select has_function('public', 'unpin_baseline', array['text', 'text', 'text', 'text', 'text'], 'unpin_baseline(...) exists');

select is((select c.reloptions from pg_class c where c.oid = 'public.v_latest_benchmarks'::regclass),
  array['security_invoker=true'], 'v_latest_benchmarks is security_invoker');

-- Guide Step 2: "Should return 2 rows."
select is(
  (select count(*)::int from (
SELECT table_name 
FROM information_schema.tables 
WHERE table_schema = 'public' 
  AND table_name IN ('benchmark_transactions', 'benchmark_snapshots')
  ) as guide_step_2),
  2,
  'the guide''s Step 2 verification query returns 2 rows');

select policies_are('public', 'benchmark_transactions', array[
  'benchmark_transactions_select_anon', 'benchmark_transactions_select_authenticated',
  'benchmark_transactions_select_service_role', 'benchmark_transactions_delete_service_role'],
  'benchmark_transactions has one named policy per operation per role');
select policies_are('public', 'benchmark_snapshots', array[
  'benchmark_snapshots_select_anon', 'benchmark_snapshots_select_authenticated',
  'benchmark_snapshots_select_service_role', 'benchmark_snapshots_update_service_role',
  'benchmark_snapshots_delete_service_role'],
  'benchmark_snapshots has one named policy per operation per role');
select policies_are('public', 'metric_policies', array[
  'metric_policies_select_anon', 'metric_policies_select_authenticated',
  'metric_policies_select_service_role', 'metric_policies_insert_service_role',
  'metric_policies_update_service_role', 'metric_policies_delete_service_role'],
  'metric_policies has one named policy per operation per role');
select policies_are('public', 'regression_alerts', array[
  'regression_alerts_select_anon', 'regression_alerts_select_authenticated',
  'regression_alerts_select_service_role', 'regression_alerts_update_service_role'],
  'regression_alerts has one named policy per operation per role');

-- Every public table, view and function says what it is for.
select is_empty(
  $$select c.relname::text
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm')
      and obj_description(c.oid, 'pg_class') is null
      and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')
    union all
    select p.oid::regprocedure::text
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and obj_description(p.oid, 'pg_proc') is null
      and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')$$,
  'every public table, view and function has a comment');

select * from finish();
rollback;
