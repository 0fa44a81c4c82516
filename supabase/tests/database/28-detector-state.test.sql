-- detector_state (issue 22): the per-(series, metric) row record_runs keeps in place equals
-- the one rebuild_detector_state recomputes from metric_observations, after a random (seeded)
-- sequence of runs that holds everything that can put it wrong: batches and single runs,
-- out-of-order backfills, runs at the same instant as the newest, a replay, a run missing a
-- metric, steps that take series out of control (so back_in_control and the in-control
-- reference runs matter), a policy change, a re-pin, an unpin and a pin through the guide's
-- UPDATE. Then assess_runs gives the same rows from the state as from the log, the state is
-- what assess_runs reads, and the checks catch a state left stale by a backfill.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(20);

select has_table('benchwatch_private', 'detector_state', 'benchwatch_private.detector_state exists');
select has_function('benchwatch_private', 'rebuild_detector_state',
  array['text', 'text', 'text', 'text', 'text', 'text'],
  'benchwatch_private.rebuild_detector_state(series columns, metric) exists');

-- Five series of one dataset and environment: ds-m1..ds-m4 of provider openai with their own
-- baselines (ds-m4 gets its pin late), ds-m5 judged against the scope's latest pin (another
-- series' baseline: the state's reference is not used for it).
create function pg_temp.ds_run(p_s integer, p_at timestamptz, p_sha text, p_metrics jsonb)
returns jsonb
language sql
immutable
as $$
  select jsonb_build_object(
    'commit_sha', p_sha, 'model_version', 'ds-m' || p_s, 'model_provider', 'openai',
    'dataset_version', 'ds-ds', 'prompt_version', 'p1', 'environment', 'ci', 'dataset_size', 800,
    'created_at', p_at, 'metrics', p_metrics)
$$;

-- A run's metrics at step t: noisy levels, with steps that go out of control and come back
-- (f1 of series 1 and 2 from t = 20 to 31, latency of series 3 from t = 35 to 44, loss of
-- series 5 from t = 12 to 26), and series 4's loss missing on every fifth run (t = 2, 7, ...).
create function pg_temp.ds_metrics(p_s integer, p_t numeric)
returns jsonb
language sql
volatile
as $$
  select jsonb_strip_nulls(jsonb_build_object(
    'f1', round(0.90 - case when p_s in (1, 2) and p_t between 20 and 31 then 0.08 else 0 end
                + (random()::numeric - 0.5) * 0.02, 4),
    'latency_ms', round(400 + case when p_s = 3 and p_t between 35 and 44 then 120 else 0 end
                        + (random()::numeric - 0.5) * 30 * p_s, 1),
    'loss', case when p_s = 4 and p_t::integer % 5 = 2 then null
                 else round(0.30 + case when p_s = 5 and p_t between 12 and 26 then 0.1 else 0 end
                            + (random()::numeric - 0.5) * 0.01 * p_s, 4) end))
$$;

create function pg_temp.ds_at(p_t numeric) returns timestamptz
language sql immutable
as $$ select timestamptz '2026-09-01 00:00:00+00' + p_t * interval '1 hour' $$;

select setseed(0.22);

-- Baselines at t = 0, pinned for series 1 to 3.
select count(benchwatch_private.record_run(pg_temp.ds_run(s, pg_temp.ds_at(0), 'ds-0', pg_temp.ds_metrics(s, 0))))
from generate_series(1, 5) as s;
select count(public.pin_baseline(t.id))
from benchmark_transactions t where t.commit_sha = 'ds-0' and t.model_version in ('ds-m1', 'ds-m2', 'ds-m3');

create temp table ds_answers (t numeric, answer jsonb) on commit drop;

do $$
declare
  v_batch jsonb;
  v_s integer;
  v_back numeric;
begin
  for v_t in 1 .. 60 loop
    -- Most steps: one batch of every series, in a random order (one round each). Every third
    -- step: the series one by one through record_run.
    if v_t % 3 <> 0 then
      select jsonb_agg(pg_temp.ds_run(s, pg_temp.ds_at(v_t), 'ds-' || v_t, pg_temp.ds_metrics(s, v_t))
                       order by random())
      into v_batch
      from generate_series(1, 5) as s;
      insert into ds_answers
      select v_t, a from jsonb_array_elements(benchwatch_private.ingest_runs(v_batch) -> 'runs') as a;
    else
      for v_s in 1 .. 5 loop
        insert into ds_answers values (v_t, benchwatch_private.record_run(
          pg_temp.ds_run(v_s, pg_temp.ds_at(v_t), 'ds-' || v_t, pg_temp.ds_metrics(v_s, v_t))));
      end loop;
    end if;

    -- A backfill about every fourth step: a run of a random series dated between 0.5 and 9.5
    -- hours back (inside its window, sometimes among its reference runs), alone or in a batch
    -- with a current run of another series.
    if random() < 0.25 then
      v_s := 1 + floor(random() * 5)::integer;
      v_back := 0.5 + floor(random() * 10);
      if random() < 0.5 then
        insert into ds_answers values (v_t, benchwatch_private.record_run(
          pg_temp.ds_run(v_s, pg_temp.ds_at(v_t - v_back), 'ds-back-' || v_t,
                         pg_temp.ds_metrics(v_s, v_t - v_back))));
      else
        insert into ds_answers
        select v_t, a from jsonb_array_elements(benchwatch_private.ingest_runs(jsonb_build_array(
          pg_temp.ds_run(v_s, pg_temp.ds_at(v_t - v_back), 'ds-back-' || v_t, pg_temp.ds_metrics(v_s, v_t - v_back)),
          pg_temp.ds_run(v_s % 5 + 1, pg_temp.ds_at(v_t + 0.25), 'ds-late-' || v_t,
                         pg_temp.ds_metrics(v_s % 5 + 1, v_t)))) -> 'runs') as a;
      end if;
    end if;

    -- A second run at the very same instant as the newest, every seventh step.
    if v_t % 7 = 0 then
      insert into ds_answers values (v_t, benchwatch_private.record_run(
        pg_temp.ds_run(2, pg_temp.ds_at(v_t), 'ds-tie-' || v_t, pg_temp.ds_metrics(2, v_t))));
    end if;

    -- A replay: series 1's run of step 9 sent again.
    if v_t = 10 then
      insert into ds_answers values (v_t, benchwatch_private.record_run(
        (select jsonb_build_object('commit_sha', t.commit_sha, 'model_version', t.model_version,
                  'model_provider', t.model_provider, 'dataset_version', t.dataset_version,
                  'prompt_version', t.prompt_version, 'environment', t.environment,
                  'dataset_size', t.dataset_size, 'created_at', t.created_at, 'metrics', t.metrics)
         from benchmark_transactions t where t.model_version = 'ds-m1' and t.commit_sha = 'ds-9')));
    end if;

    -- The policy changes: latency's history window shrinks to 12 (window_size 12 -> rows
    -- kept with 30 no longer stand for the log).
    if v_t = 25 then
      update public.metric_policies set history_window = 12 where metric = 'latency_ms';
    end if;
    -- Series 2 re-pinned on its run of step 38 (pin_run); series 3 unpinned at 45 and series 4
    -- pinned at 51, both with the guide's UPDATE.
    if v_t = 40 then
      perform benchwatch_private.pin_run(
        (select t.id from benchmark_transactions t where t.model_version = 'ds-m2' and t.commit_sha = 'ds-38'));
    end if;
    if v_t = 45 then
      update benchmark_snapshots set is_baseline = false
      where model_version = 'ds-m3' and pinned_at is not null;
    end if;
    if v_t = 51 then
      update benchmark_snapshots set is_baseline = true
      where model_version = 'ds-m4' and pinned_at is null;
    end if;
  end loop;
end
$$;

-- The sequence did exercise what it is meant to.
select ok((select count(*) > 10 from ds_answers where not (answer ->> 'is_latest')::boolean),
  'the sequence recorded more than 10 backfilled runs (not the series'' latest)');
select ok((select count(*) = 1 from ds_answers where (answer ->> 'replayed')::boolean),
  'the sequence replayed one run');
select ok((select count(*) > 20 from benchwatch_private.metric_observations o
           where o.model_version like 'ds-m%' and o.out_of_control),
  'more than 20 observations are out of control');
select ok((select count(distinct model_version) = 4 from regression_alerts where model_version like 'ds-m%'),
  'alerts opened on the four series that stepped');
select ok((select count(*) = 5 from benchwatch_private.detector_state s
           where s.model_version like 'ds-m%' and s.metric_name = 'latency_ms' and s.window_size = 12)
          and (select count(*) = 1 from benchwatch_private.detector_state s
               where s.model_version = 'ds-m2' and s.metric_name = 'f1'
                 and s.baseline_transaction_id = (select t.id from benchmark_transactions t
                                                  where t.model_version = 'ds-m2' and t.commit_sha = 'ds-38')),
  'the state follows the policy change and the re-pin');

-- The incrementally kept state equals the rebuilt one, row for row.
create temp table ds_kept on commit drop as
select * from benchwatch_private.detector_state where model_version like 'ds-m%';

select is((select count(*)::integer from ds_kept),
  (select count(*)::integer from (select distinct model_version, model_provider, dataset_version, prompt_version,
                                          environment, metric_name
                                  from benchwatch_private.metric_observations where model_version like 'ds-m%') k),
  'one state row per (series, metric) observed: 15');

select ok(benchwatch_private.rebuild_detector_state() >= 15, 'rebuild_detector_state() rewrites every row');

select bag_eq(
  $$select * from ds_kept$$,
  $$select * from benchwatch_private.detector_state where model_version like 'ds-m%'$$,
  'the state record_runs kept run by run equals rebuild_detector_state''s, row for row');

-- assess_runs for a next run of every series (every metric worse than its latest by 8%):
-- from the state, then from the log (state rows removed), the same rows.
create temp table ds_items on commit drop as
with s as materialized (
  select x.*, (row_number() over (order by x.model_version))::integer as pos
  from benchmark_snapshots x where x.model_version like 'ds-m%' and x.pinned_at is null
),
c as (
  select r.* from (select array_agg(s.model_version order by s.pos) as mv, array_agg(s.model_provider order by s.pos) as mp,
                          array_agg(s.dataset_version order by s.pos) as dv, array_agg(s.prompt_version order by s.pos) as pv,
                          array_agg(s.environment order by s.pos) as env, array_agg(s.metrics order by s.pos) as m
                   from s) as a
  cross join lateral benchwatch_private.compare_runs(a.mv, a.mp, a.dv, a.pv, a.env, a.m, 0.05) as r
)
select row(s.pos, s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
           gen_random_uuid(), pg_temp.ds_at(70), c.baseline_transaction_id, c.baseline_snapshot_id, c.metric_name,
           c.current_value * case when c.direction = 'higher' then 0.92 else 1.08 end, null, c.direction,
           c.relative_threshold, c.absolute_floor, c.baseline_value)::benchwatch_private.assess_input as item
from c join s on s.pos = c.ord
where c.status in ('ok', 'regression');

select is((select count(*)::integer from ds_items), 15, 'every series and metric has a next run to assess');

create temp table ds_from_state on commit drop as
select * from benchwatch_private.assess_runs(array(select item from ds_items));

select ok((select count(*) = 15 and count(*) filter (where out_of_control) > 0
                  and count(*) filter (where not out_of_control) > 0 from ds_from_state),
  'assess_runs answers every item, some out of control and some not');

-- The state is what it read: a row holding other values gives other answers.
update benchwatch_private.detector_state
set window_values = array_fill(0.5::numeric, array[cardinality(window_values)])
where model_version = 'ds-m1' and metric_name = 'f1';
select ok(exists (select * from benchwatch_private.assess_runs(array(select item from ds_items))
                  except select * from ds_from_state),
  'assess_runs reads the state row when it stands for the log (an edited row changes its answer)');

delete from benchwatch_private.detector_state where model_version like 'ds-m%';
select bag_eq(
  $$select * from benchwatch_private.assess_runs(array(select item from ds_items))$$,
  $$select * from ds_from_state$$,
  'assess_runs from the state gives exactly the rows it gives from metric_observations');

-- A run with no state row and one older than the newest observation read the log; the next
-- run of the series rebuilds the row.
select is((select count(*)::integer from benchwatch_private.detector_state where model_version like 'ds-m%'), 0,
  'with the rows removed there is no state');
select count(benchwatch_private.record_run(pg_temp.ds_run(s, pg_temp.ds_at(61), 'ds-61', pg_temp.ds_metrics(s, 61))))
from generate_series(1, 5) as s;
create temp table ds_before_backfill on commit drop as
select * from benchwatch_private.detector_state where model_version like 'ds-m%';
select is((select count(*)::integer from ds_before_backfill), 15, 'the next runs rebuilt every row');

-- A backfill changes the state (its run falls in the window of series 1): a state left as it
-- was is caught by the comparison with the rebuild.
select count(benchwatch_private.record_run(pg_temp.ds_run(1, pg_temp.ds_at(58.5), 'ds-back-58.5',
  '{"f1": 0.5, "latency_ms": 900, "loss": 0.9}')));
select ok(exists (select * from ds_before_backfill except
                  select * from benchwatch_private.detector_state where model_version like 'ds-m%'),
  'a backfilled run inside the window changes the state rows of its series');
create temp table ds_after_backfill on commit drop as
select * from benchwatch_private.detector_state where model_version like 'ds-m%';
select benchwatch_private.rebuild_detector_state();
select bag_eq(
  $$select * from ds_after_backfill$$,
  $$select * from benchwatch_private.detector_state where model_version like 'ds-m%'$$,
  'after the backfill the kept state equals the rebuilt one');
select ok(exists (select * from ds_before_backfill except
                  select * from benchwatch_private.detector_state where model_version like 'ds-m%'),
  'the state from before the backfill differs from the rebuild (a missed backfill would be caught)');

-- A replay writes nothing: the state stays as it was.
select ok((benchwatch_private.record_run(pg_temp.ds_run(1, pg_temp.ds_at(58.5), 'ds-back-58.5',
  '{"f1": 0.5, "latency_ms": 900, "loss": 0.9}')) ->> 'replayed')::boolean
  and not exists (select * from ds_after_backfill except select * from benchwatch_private.detector_state
                  where model_version like 'ds-m%'),
  'a replay leaves the state unchanged');

select * from finish();
rollback;
