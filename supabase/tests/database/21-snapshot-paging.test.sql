-- Read API at scale: the current snapshot answers one page of series, and
-- compare_runs (the set-based compare_run behind it) gives every run exactly the
-- verdict compare_run gives it alone, whatever runs share the call.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(18);

-- 25 series in one dataset: pg-00 .. pg-24. Series pg-00..pg-04 pin their own baseline;
-- pg-10 pins one for its model under another prompt; the rest fall back to the newest
-- baseline of the scope (or have none in dataset ds-none).
create temporary table seeded as
select tests.run_id('pg-' || lpad(g::text, 2, '0'),
                    jsonb_build_object('f1', 0.90, 'latency_ms', 100 + g),
                    '{"dataset_version": "ds-paging"}')
from generate_series(0, 24) as g;
update benchmark_snapshots set is_baseline = true
where pinned_at is null and model_version in ('pg-00', 'pg-01', 'pg-02', 'pg-03', 'pg-04');
insert into seeded select tests.run_id('pg-10', '{"f1": 0.95, "latency_ms": 90}', '{"dataset_version": "ds-paging", "prompt_version": "prompt-v0"}');
update benchmark_snapshots set is_baseline = true
where pinned_at is null and model_version = 'pg-10' and prompt_version = 'prompt-v0';
-- New runs: some regress against their baseline, one adds a metric, one drops one.
insert into seeded
select tests.run_id('pg-' || lpad(g::text, 2, '0'),
                    case when g = 7 then jsonb_build_object('f1', 0.80)
                         else jsonb_build_object('f1', 0.90 - (g % 3) * 0.05, 'latency_ms', 100 + g * 3, 'cost_usd', g) end,
                    jsonb_build_object('dataset_version', 'ds-paging', 'commit_sha', 'new-' || g))
from generate_series(0, 24) as g;
insert into seeded select tests.run_id('pg-none', '{"f1": 0.5}', '{"dataset_version": "ds-none"}');

-- compare_runs -----------------------------------------------------------------
create temporary table cases as
select row_number() over (order by s.model_version, s.prompt_version)::integer as ord, s.*
from benchmark_snapshots s
where s.pinned_at is null and (s.dataset_version = 'ds-paging' or s.model_version = 'pg-none');

select is((select count(*)::integer from cases), 27, 'the fixture has 27 latest series');

select is(
  (select count(*)::integer from (
     (select c.ord, r.metric_name, r.status, r.is_regression, r.baseline_value, r.current_value,
             r.absolute_change, r.relative_change, r.direction, r.relative_threshold, r.absolute_floor,
             r.policy_source, r.baseline_snapshot_id, r.baseline_transaction_id, r.baseline_model_version,
             r.baseline_prompt_version, r.baseline_pinned_at, r.prompt_mismatch
      from cases c
      cross join lateral benchwatch_private.compare_runs(
        array[c.model_version], array[c.model_provider], array[c.dataset_version],
        array[c.prompt_version], array[c.environment], array[c.metrics], 0.05) as r)
     except
     (select r.* from benchwatch_private.compare_runs(
        (select array_agg(model_version order by ord) from cases),
        (select array_agg(model_provider order by ord) from cases),
        (select array_agg(dataset_version order by ord) from cases),
        (select array_agg(prompt_version order by ord) from cases),
        (select array_agg(environment order by ord) from cases),
        (select array_agg(metrics order by ord) from cases), 0.05) as r)) as d),
  0, 'compare_runs of all 27 runs at once gives each run the rows it gets alone');
select is(
  (select count(*)::integer from benchwatch_private.compare_runs(
     (select array_agg(model_version order by ord) from cases),
     (select array_agg(model_provider order by ord) from cases),
     (select array_agg(dataset_version order by ord) from cases),
     (select array_agg(prompt_version order by ord) from cases),
     (select array_agg(environment order by ord) from cases),
     (select array_agg(metrics order by ord) from cases), 0.05)),
  (select sum((select count(*) from benchwatch_private.compare_run(
      c.model_version, c.model_provider, c.dataset_version, c.prompt_version, c.environment, c.metrics, 0.05)))::integer
   from cases c),
  'and as many rows as compare_run gives over the runs one by one');
select is(
  (with f1 as (
     select c.model_version, r.baseline_model_version as b
     from cases c
     cross join lateral benchwatch_private.compare_run(
       c.model_version, c.model_provider, c.dataset_version, c.prompt_version, c.environment, c.metrics, 0.05) as r
     where r.metric_name = 'f1')
   select format('own=%s model=%s scope=%s/%s none=%s',
     count(*) filter (where b = model_version and model_version <> 'pg-10'),
     count(*) filter (where model_version = 'pg-10' and b = 'pg-10'),
     count(*) filter (where b <> model_version and b in ('pg-00', 'pg-01', 'pg-02', 'pg-03', 'pg-04')),
     count(distinct b) filter (where b <> model_version),
     count(*) filter (where b is null))
   from f1),
  'own=5 model=2 scope=19/1 none=1',
  'the fixture covers own baselines, a model''s baseline, the scope''s newest (one for all) and none');
select is(
  (select r.baseline_prompt_version from cases c
   cross join lateral benchwatch_private.compare_run(
     c.model_version, c.model_provider, c.dataset_version, c.prompt_version, c.environment, c.metrics, 0.05) as r
   where c.model_version = 'pg-10' and c.prompt_version = 'prompt-v1' and r.metric_name = 'f1'),
  'prompt-v0', 'a model''s own baseline under another prompt wins over the scope''s newest');
select is(
  (select string_agg(r.metric_name || ':' || r.status, ',' order by r.metric_name) from cases c
   cross join lateral benchwatch_private.compare_run(
     c.model_version, c.model_provider, c.dataset_version, c.prompt_version, c.environment, c.metrics, 0.05) as r
   where c.model_version = 'pg-07'),
  'f1:regression,latency_ms:missing_in_run', 'a dropped metric is missing_in_run; the rest is compared');
select is(compare_runs_empty.n, 0, 'compare_runs of no runs is empty')
from (select count(*)::integer as n from benchwatch_private.compare_runs(
  '{}'::text[], '{}'::text[], '{}'::text[], '{}'::text[], '{}'::text[], '{}'::jsonb[], 0.05)) as compare_runs_empty;

-- current_snapshot paging ------------------------------------------------------
select is(
  benchwatch_private.current_snapshot('{"dataset_version": "ds-paging", "limit": 10}') - 'series',
  '{"total": 26, "limit": 10, "offset": 0, "next_offset": 10}'::jsonb,
  'a page says total, limit, offset and where the next page starts');
select is(
  benchwatch_private.current_snapshot('{"dataset_version": "ds-paging", "limit": 10, "offset": "20"}') - 'series',
  '{"total": 26, "limit": 10, "offset": 20, "next_offset": null}'::jsonb,
  'the last page has no next_offset (offset may come as a query-string string)');
select is(jsonb_array_length(benchwatch_private.current_snapshot('{"dataset_version": "ds-paging", "limit": 10, "offset": 20}') -> 'series'),
  6, 'the last page holds the remainder');
select is((benchwatch_private.current_snapshot('{"dataset_version": "ds-paging"}') ->> 'limit')::integer, 100,
  'the default page is 100 series');
select is(
  (select jsonb_agg(e order by p, i) from (
     select p, i, e
     from generate_series(0, 2) as p
     cross join lateral jsonb_array_elements(benchwatch_private.current_snapshot(
       jsonb_build_object('dataset_version', 'ds-paging', 'limit', 10, 'offset', p * 10)) -> 'series')
       with ordinality as x(e, i)) as pages),
  benchwatch_private.current_snapshot('{"dataset_version": "ds-paging", "limit": 1000}') -> 'series',
  'three pages put together are the whole list, in the same order, with the same verdicts');
select is(
  (select array_agg(e ->> 'snapshot_id' order by i)
   from jsonb_array_elements(benchwatch_private.current_snapshot('{"dataset_version": "ds-paging", "limit": 1000}') -> 'series')
        with ordinality as x(e, i)),
  (select array_agg(b.id::text order by b.model_version, b.dataset_version, b.environment, b.model_provider, b.prompt_version)
   from public.benchmark_snapshots b
   where b.pinned_at is null and b.is_active and b.dataset_version = 'ds-paging'),
  'series come in model, dataset, environment, provider, prompt order');
select is(
  benchwatch_private.current_snapshot_json('{"dataset_version": "ds-paging", "limit": 7, "offset": 3}')::jsonb,
  benchwatch_private.current_snapshot('{"dataset_version": "ds-paging", "limit": 7, "offset": 3}'),
  'current_snapshot_json (what the benchmarks function sends) is the same document');
select is(
  (select string_agg(s ->> 'status', ',' order by s #>> '{series,model_version}')
   from jsonb_array_elements(benchwatch_private.current_snapshot('{"dataset_version": "ds-paging", "model_version": "pg-01"}') -> 'series') s),
  'regressed', 'a regressed series on a page says so');
select throws_ok($$select benchwatch_private.current_snapshot('{"offset": -1}')$$,
  'BW020', 'Cannot read the snapshot: offset must be a whole number from 0 to 99999999', 'a negative offset is BW020');
select throws_ok($$select benchwatch_private.current_snapshot('{"offset": "ten"}')$$,
  'BW020', 'Cannot read the snapshot: offset must be a whole number from 0 to 99999999', 'a word for offset is BW020');
select throws_ok($$select benchwatch_private.current_snapshot('{"limit": 0}')$$,
  'BW020', 'Cannot read the snapshot: limit must be a whole number from 1 to 1000', 'limit 0 is BW020');

select * from finish();
rollback;
