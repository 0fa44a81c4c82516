-- Baselines: pinned metrics survive later runs, a second pin
-- replaces the first, unpin works, at most one baseline per series - whether
-- pinned by the guide's UPDATE or by pin_baseline().
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(22);

create temp table runs (name text primary key, id uuid) on commit drop;

insert into runs values ('first', tests.run_id('base-model', '{"f1": 0.90}', '{"commit_sha": "first", "created_at": "2026-11-01T00:00:00Z"}'));
update benchmark_snapshots set is_baseline = true where model_version = 'base-model';

select results_eq(
  $$select is_baseline, pinned_at is not null, count(*)::int from benchmark_snapshots
    where model_version = 'base-model' group by 1, 2 order by 1$$,
  $$values (false, false, 1), (true, true, 1)$$,
  'pinning leaves one frozen baseline row and one latest row for the series');

insert into runs values ('second', tests.run_id('base-model', '{"f1": 0.80}', '{"commit_sha": "second", "created_at": "2026-11-02T00:00:00Z"}'));
insert into runs values ('third', tests.run_id('base-model', '{"f1": 0.70}', '{"commit_sha": "third", "created_at": "2026-11-03T00:00:00Z"}'));

select results_eq(
  $$select commit_sha, (metrics ->> 'f1')::numeric from benchmark_snapshots where model_version = 'base-model' and is_baseline$$,
  $$values ('first'::text, 0.90::numeric)$$,
  'pinned metrics survive later runs');
select results_eq(
  $$select commit_sha, (metrics ->> 'f1')::numeric from v_latest_benchmarks where model_version = 'base-model'$$,
  $$values ('third'::text, 0.70::numeric)$$,
  'the latest row follows the newest run');
select ok((select has_pinned_baseline from v_latest_benchmarks where model_version = 'base-model'),
  'v_latest_benchmarks says the series has a pinned baseline');

select throws_ok(
  $$update benchmark_snapshots set metrics = '{"f1": 0.99}' where model_version = 'base-model' and is_baseline$$,
  'BW011', 'Cannot change a pinned baseline: its metrics and series are frozen',
  'a pinned baseline''s metrics cannot be edited');
select lives_ok(
  $$update benchmark_snapshots set is_active = true where model_version = 'base-model' and is_baseline$$,
  'a pinned baseline may still be touched without changing its data');

-- A second pin (the guide's UPDATE again, now matching both rows) replaces the first.
update benchmark_snapshots set is_baseline = true where model_version = 'base-model';
select results_eq(
  $$select commit_sha, (metrics ->> 'f1')::numeric from benchmark_snapshots where model_version = 'base-model' and is_baseline$$,
  $$values ('third'::text, 0.70::numeric)$$,
  'a second pin replaces the first');
select is((select count(*)::int from benchmark_snapshots where model_version = 'base-model'), 2,
  'still exactly one baseline and one latest row');
select lives_ok($$set constraints benchmark_snapshots_one_baseline_per_series immediate$$,
  'the one-baseline-per-series constraint holds after re-pinning');
set constraints benchmark_snapshots_one_baseline_per_series deferred;

-- pin_baseline() pins any recorded run, here an older one.
insert into runs values ('second-pin', public.pin_baseline((select id from runs where name = 'second')));
select is(
  (select transaction_id from benchmark_snapshots where id = (select id from runs where name = 'second-pin')),
  (select id from runs where name = 'second'),
  'pin_baseline() pins a chosen recorded run');
select results_eq(
  $$select commit_sha, (metrics ->> 'f1')::numeric from benchmark_snapshots where model_version = 'base-model' and is_baseline$$,
  $$values ('second'::text, 0.80::numeric)$$,
  'pin_baseline() replaces the previous baseline');
select results_eq(
  $$select commit_sha from v_latest_benchmarks where model_version = 'base-model'$$,
  $$values ('third'::text)$$,
  'pinning an older run leaves the latest row alone');
select lives_ok($$set constraints benchmark_snapshots_one_baseline_per_series immediate$$,
  'the one-baseline-per-series constraint holds after pin_baseline()');
set constraints benchmark_snapshots_one_baseline_per_series deferred;

select throws_ok(
  $$insert into benchmark_snapshots (transaction_id, commit_sha, model_version, model_provider, dataset_version,
      prompt_version, environment, metrics, created_at, is_baseline)
    select transaction_id, commit_sha, model_version, model_provider, dataset_version, prompt_version, environment,
      metrics, created_at, false from benchmark_snapshots where model_version = 'base-model' and pinned_at is null$$,
  '23505', null, 'a series cannot have two latest rows');

-- Unpin with the guide's style of UPDATE.
update benchmark_snapshots set is_baseline = false where model_version = 'base-model' and is_baseline;
select is((select count(*)::int from benchmark_snapshots where model_version = 'base-model' and is_baseline), 0,
  'setting is_baseline = false unpins');
select results_eq(
  $$select commit_sha from v_latest_benchmarks where model_version = 'base-model'$$,
  $$values ('third'::text)$$,
  'unpinning keeps the series'' latest row');
select results_eq(
  $$select distinct status from detect_regression('base-model')$$,
  $$values ('no_baseline'::text)$$,
  'with no baseline left, detect_regression reports no_baseline');

-- Unpin with unpin_baseline().
update benchmark_snapshots set is_baseline = true where model_version = 'base-model';
select is(public.unpin_baseline('base-model', 'ci'), 1, 'unpin_baseline() reports one baseline unpinned');
select is((select count(*)::int from benchmark_snapshots where model_version = 'base-model'), 1,
  'unpin_baseline() leaves only the latest row');
select is(public.unpin_baseline('base-model', 'ci'), 0, 'unpinning again is a harmless no-op');

-- The one-baseline rule is a deferred constraint: with it forced immediate, a
-- re-pin (which briefly holds two baselines within its statement) is refused.
savepoint immediate_pin;
update benchmark_snapshots set is_baseline = true where model_version = 'base-model';
set constraints benchmark_snapshots_one_baseline_per_series immediate;
select throws_ok(
  $$update benchmark_snapshots set is_baseline = true where model_version = 'base-model'$$,
  '23P01', 'conflicting key value violates exclusion constraint "benchmark_snapshots_one_baseline_per_series"',
  'two baselines for one series violate the exclusion constraint');
rollback to savepoint immediate_pin;

-- Pinning a whole model in an environment pins each of its series separately.
select tests.run_id('multi-model', '{"f1": 0.9}', '{"dataset_version": "d1", "environment": "production"}');
select tests.run_id('multi-model', '{"f1": 0.8}', '{"dataset_version": "d2", "environment": "production"}');
update benchmark_snapshots set is_baseline = true where model_version = 'multi-model' and environment = 'production';
select results_eq(
  $$select dataset_version, (metrics ->> 'f1')::numeric from benchmark_snapshots
    where model_version = 'multi-model' and is_baseline order by 1$$,
  $$values ('d1'::text, 0.9::numeric), ('d2', 0.8)$$,
  'one UPDATE pins each matched series with its own baseline');

select * from finish();
rollback;
