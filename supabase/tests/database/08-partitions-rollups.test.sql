-- Partitions, rollups and archival: runs far in the past and the
-- future insert fine and end up in monthly partitions; mv_daily_stats refreshes
-- concurrently with the right averages; the pg_cron jobs exist; archival moves
-- exactly the old rows and keeps them.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(23);

-- Partitions.
select lives_ok(
  $$select tests.run_id('part-model', '{"f1": 0.5}', jsonb_build_object('created_at', now() - interval '2 years', 'commit_sha', 'past'))$$,
  'a run dated two years back inserts fine');
select lives_ok(
  $$select tests.run_id('part-model', '{"f1": 0.6}', jsonb_build_object('created_at', now() + interval '1 year', 'commit_sha', 'future'))$$,
  'a run dated one year ahead inserts fine');
select lives_ok(
  $$select tests.run_id('part-model', '{"f1": 0.7}', jsonb_build_object('created_at', now() + interval '5 years', 'commit_sha', 'far-future'))$$,
  'a run dated five years ahead inserts fine');
select is(
  (select tableoid::regclass::text from benchmark_transactions where model_version = 'part-model' and commit_sha = 'past'),
  'benchwatch_private.benchmark_transactions_default',
  'a month without a partition lands in the DEFAULT partition');
select results_eq(
  $$select commit_sha from v_latest_benchmarks where model_version = 'part-model'$$,
  $$values ('far-future'::text)$$,
  'the snapshot follows the newest created_at');

select cmp_ok(benchwatch_private.maintain_transaction_partitions(3), '>=', 2,
  'partition maintenance creates partitions for the months waiting in DEFAULT');
select is_empty(
  $$select 1 from benchwatch_private.benchmark_transactions_default where model_version = 'part-model'$$,
  'partition maintenance drains those months out of DEFAULT');
select is(
  (select tableoid::regclass::text from benchmark_transactions where model_version = 'part-model' and commit_sha = 'past'),
  'benchwatch_private.benchmark_transactions_p' || to_char((now() - interval '2 years') at time zone 'UTC', 'YYYYMM'),
  'the old run now lives in its own monthly partition');
select is((select count(*)::int from benchmark_transactions where model_version = 'part-model'), 3,
  'no run was lost or duplicated by moving partitions');
select is(
  (select count(*)::int from generate_series(
     date_trunc('month', now() at time zone 'UTC') - interval '1 month',
     date_trunc('month', now() at time zone 'UTC') + interval '3 months', interval '1 month') as m
   where to_regclass('benchwatch_private.benchmark_transactions_p' || to_char(m, 'YYYYMM')) is not null),
  5, 'partitions exist from last month to three months ahead');
select tests.rls_enabled('benchwatch_private');
select is_empty(
  $$select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'public.benchmark_transactions'::regclass
      and (has_table_privilege('anon', c.oid, 'select,insert,update,delete')
           or has_table_privilege('authenticated', c.oid, 'select,insert,update,delete'))$$,
  'no partition is reachable by anon or authenticated directly');
select is(benchwatch_private.maintain_transaction_partitions(3), 0, 'partition maintenance is idempotent');

-- Rollups.
select tests.run_id('mv-model', '{"f1": 0.8, "latency_ms": 100}', '{"created_at": "2026-10-05T10:00:00Z", "commit_sha": "a"}');
select tests.run_id('mv-model', '{"f1": 0.9, "latency_ms": 300}', '{"created_at": "2026-10-05T20:00:00Z", "commit_sha": "b", "environment": "staging"}');
select tests.run_id('mv-model', '{"f1": 0.7, "latency_ms": 50}', '{"created_at": "2026-10-06T01:00:00Z", "commit_sha": "c"}');

select lives_ok($$refresh materialized view concurrently public.mv_daily_stats$$,
  'mv_daily_stats refreshes concurrently');
select results_eq(
  $$select date, avg_f1, run_count, avg_latency_ms, environments from mv_daily_stats
    where model_version = 'mv-model' order by date$$,
  $$values ('2026-10-05'::date, 0.85::numeric, 2::bigint, 200::numeric, array['ci', 'staging']),
           ('2026-10-06'::date, 0.7::numeric, 1::bigint, 50::numeric, array['ci'])$$,
  'mv_daily_stats holds the right daily averages per model');
select is((select (avg_metrics ->> 'latency_ms')::numeric from mv_daily_stats
           where model_version = 'mv-model' and date = '2026-10-05'), 200::numeric,
  'mv_daily_stats averages every metric in avg_metrics');
select ok(exists (select 1 from pg_indexes where schemaname = 'public' and tablename = 'mv_daily_stats'
                  and indexdef like 'CREATE UNIQUE INDEX%(date, model_version)'),
  'mv_daily_stats has the unique index CONCURRENTLY needs');

-- pg_cron jobs.
select results_eq(
  $$select jobname::text collate "default", schedule collate "default", command collate "default" from cron.job
    where jobname in ('refresh-daily-stats', 'maintain-benchmark-partitions', 'archive-benchmarks') order by jobname$$,
  $$values ('archive-benchmarks'::text, '30 2 * * *'::text, 'select public.archive_benchmarks()'::text),
           ('maintain-benchmark-partitions', '15 0 * * *', 'select benchwatch_private.maintain_transaction_partitions(3)'),
           ('refresh-daily-stats', '0 1 * * *', 'REFRESH MATERIALIZED VIEW CONCURRENTLY public.mv_daily_stats')$$,
  'the pg_cron jobs exist with their schedules');

-- Archival.
select tests.run_id('arch-model', '{"f1": 0.1}', jsonb_build_object('created_at', now() - interval '400 days', 'commit_sha', 'old-1'));
select tests.run_id('arch-model', '{"f1": 0.2}', jsonb_build_object('created_at', now() - interval '500 days', 'commit_sha', 'old-2'));
select tests.run_id('arch-model', '{"f1": 0.3}', jsonb_build_object('created_at', now() - interval '10 days', 'commit_sha', 'recent'));
create temp table before_archive on commit drop as
  select t.*, (t.created_at < now() - interval '1 year') as is_old from benchmark_transactions t;
refresh materialized view concurrently public.mv_daily_stats;
create temp table stats_before on commit drop as select * from mv_daily_stats;

select is(archive_benchmarks(), (select count(*)::int from before_archive where is_old),
  'archive_benchmarks() moves every run older than a year and says how many');
select set_eq(
  $$select id from benchmark_transactions_archive where archived_at = now()$$,
  $$select id from before_archive where is_old$$,
  'the archive holds exactly the old runs');
select set_eq(
  $$select id from benchmark_transactions$$,
  $$select id from before_archive where not is_old$$,
  'the log keeps exactly the recent runs');
select is_empty(
  $$select id, commit_sha, model_version, metrics, created_at from before_archive where is_old
    except
    select id, commit_sha, model_version, metrics, created_at from benchmark_transactions_archive$$,
  'archived runs keep their data');
refresh materialized view concurrently public.mv_daily_stats;
select set_eq(
  $$select date, model_version, run_count, avg_f1 from mv_daily_stats$$,
  $$select date, model_version, run_count, avg_f1 from stats_before$$,
  'archiving does not change the daily rollups');

select * from finish();
rollback;
