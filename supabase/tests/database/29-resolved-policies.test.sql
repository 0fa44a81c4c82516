-- resolved_policies (issue 22): detection reads each metric's resolved policy from one row
-- instead of matching metric_policies' patterns on every run. The row cannot go stale: a change
-- to a metric_policies row (exact or pattern: insert, update, delete) or to detection_defaults
-- is seen by the very next run, and the row a run leaves is what metric_policy and
-- metric_detection_policy return. The run really reads the row (a row edited by hand at the
-- current version decides its answer), so the checks after each change test the version.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(19);

select has_table('benchwatch_private', 'resolved_policies', 'benchwatch_private.resolved_policies exists');
select has_table('benchwatch_private', 'policy_version', 'benchwatch_private.policy_version exists');

-- One series; the t-th run of it, an hour apart, with rp_score and rp_wait_ms.
create function pg_temp.rp_run(p_t integer) returns jsonb
language sql
as $$
  select benchwatch_private.record_run(jsonb_build_object(
    'commit_sha', 'rp-' || p_t, 'model_version', 'rp-m1', 'model_provider', 'openai',
    'dataset_version', 'rp-ds', 'prompt_version', 'p1', 'environment', 'ci', 'dataset_size', 500,
    'created_at', timestamptz '2026-10-01 00:00:00+00' + p_t * interval '1 hour',
    'metrics', jsonb_build_object('rp_score', 0.5 + p_t / 1000.0, 'rp_wait_ms', 100 + p_t)))
$$;

-- What the run's answer says of a metric's policy.
create function pg_temp.rp_policy(p_answer jsonb, p_metric text) returns jsonb
language sql
immutable
as $$
  select jsonb_build_object('direction', m -> 'direction', 'relative_threshold', m -> 'relative_threshold',
                            'absolute_floor', m -> 'absolute_floor', 'policy_source', m -> 'policy_source')
  from jsonb_array_elements(p_answer -> 'metrics') as m
  where m ->> 'metric_name' = p_metric
$$;

-- The metric's resolved row of the current version against the functions that define it.
create function pg_temp.rp_row_is_current(p_metric text) returns setof boolean
language sql
as $$
  select (r.direction, r.relative_threshold, r.absolute_floor, r.source, r.sensitivity,
          r.confirmation_runs, r.min_history, r.history_window, r.proportion, r.resolve_fraction,
          r.reference_runs)
         is not distinct from
         (mp.direction, mp.relative_threshold, mp.absolute_floor, mp.source, dp.sensitivity,
          dp.confirmation_runs, dp.min_history, dp.history_window, dp.proportion, dp.resolve_fraction,
          dp.reference_runs)
  from benchwatch_private.resolved_policies r
  join benchwatch_private.policy_version v on v.version = r.policy_version
  cross join benchwatch_private.metric_policy(p_metric, null) as mp
  cross join benchwatch_private.metric_detection_policy(p_metric) as dp
  where r.metric = p_metric
$$;

select is(pg_temp.rp_policy(pg_temp.rp_run(1), 'rp_score'),
  '{"direction": null, "relative_threshold": 0.05, "absolute_floor": 0, "policy_source": "none"}'::jsonb,
  'no policy covers rp_score: no direction, the default threshold');
select results_eq($$select pg_temp.rp_row_is_current('rp_score')$$, $$values (true)$$,
  'the run left rp_score''s resolved row, equal to metric_policy and metric_detection_policy');

-- The run reads the row: one edited by hand at the current version decides the next answer.
update benchwatch_private.resolved_policies set relative_threshold = 0.77 where metric = 'rp_score';
select is(pg_temp.rp_policy(pg_temp.rp_run(2), 'rp_score') ->> 'relative_threshold', '0.77',
  'a run takes its policy from the resolved row of the current version');

-- A pattern row, inserted: the next run sees it.
insert into public.metric_policies (metric, direction, relative_threshold) values ('rp_*', 'higher', 0.3);
select is(pg_temp.rp_policy(pg_temp.rp_run(3), 'rp_score'),
  '{"direction": "higher", "relative_threshold": 0.3, "absolute_floor": 0, "policy_source": "policy_pattern"}'::jsonb,
  'a new pattern row is seen by the very next run');
-- rp_wait_ms: the seeded *_ms pattern ties with rp_* on length and wins on name order.
select is(pg_temp.rp_policy(pg_temp.rp_run(4), 'rp_wait_ms'),
  (select jsonb_build_object('direction', p.direction, 'relative_threshold', p.relative_threshold,
                             'absolute_floor', p.absolute_floor, 'policy_source', p.source)
   from benchwatch_private.metric_policy('rp_wait_ms', 0.05) as p),
  'another metric of the run gets what metric_policy says after the change');

-- The pattern row, updated.
update public.metric_policies set relative_threshold = 0.4, absolute_floor = 0.01 where metric = 'rp_*';
select is(pg_temp.rp_policy(pg_temp.rp_run(5), 'rp_score'),
  '{"direction": "higher", "relative_threshold": 0.4, "absolute_floor": 0.01, "policy_source": "policy_pattern"}'::jsonb,
  'an updated pattern row is seen by the very next run');

-- An exact row, inserted, then updated, then deleted.
insert into public.metric_policies (metric, direction, relative_threshold) values ('rp_score', 'lower', 0.1);
select is(pg_temp.rp_policy(pg_temp.rp_run(6), 'rp_score'),
  '{"direction": "lower", "relative_threshold": 0.1, "absolute_floor": 0, "policy_source": "policy"}'::jsonb,
  'a new exact row wins over the pattern from the very next run');
update public.metric_policies set relative_threshold = 0.2 where metric = 'rp_score';
select is(pg_temp.rp_policy(pg_temp.rp_run(7), 'rp_score') ->> 'relative_threshold', '0.2',
  'an updated exact row is seen by the very next run');
delete from public.metric_policies where metric = 'rp_score';
select is(pg_temp.rp_policy(pg_temp.rp_run(8), 'rp_score'),
  '{"direction": "higher", "relative_threshold": 0.4, "absolute_floor": 0.01, "policy_source": "policy_pattern"}'::jsonb,
  'after the exact row is deleted, the very next run is back on the pattern');
select results_eq($$select pg_temp.rp_row_is_current('rp_score')$$, $$values (true)$$,
  'the resolved row equals metric_policy and metric_detection_policy after the changes');

-- The alerting knobs: a pattern's history_window, then detection_defaults' own.
update public.metric_policies set history_window = 12 where metric = 'rp_*';
select count(pg_temp.rp_run(9));
select is((select s.window_size from benchwatch_private.detector_state s
           where s.model_version = 'rp-m1' and s.metric_name = 'rp_score'), 12,
  'a pattern''s new history_window is seen by the very next run (its state row is kept with 12)');
update public.metric_policies set history_window = null where metric = 'rp_*';
update benchwatch_private.detection_defaults set history_window = 40;
select count(pg_temp.rp_run(10));
select is((select s.window_size from benchwatch_private.detector_state s
           where s.model_version = 'rp-m1' and s.metric_name = 'rp_score'), 40,
  'a new detection_defaults history_window is seen by the very next run');
select is((select r.window_size from benchwatch_private.resolved_policies r where r.metric = 'rp_score'), 40,
  'the resolved row holds the derived window size');
update benchwatch_private.detection_defaults set sensitivity = 3.5, evidence_runs = 12, resolve_runs = 5;
select count(pg_temp.rp_run(11));
select is((select (r.sensitivity, r.evidence_runs, r.alarm_z, r.resolve_runs, r.window_size)::text
           from benchwatch_private.resolved_policies r where r.metric = 'rp_score'),
  '(3.5,12,3.5,5,40)',
  'detection_defaults'' sensitivity and evidence and resolve runs are seen by the very next run');
select results_eq($$select pg_temp.rp_row_is_current('rp_score')$$, $$values (true)$$,
  'the resolved row equals metric_policy and metric_detection_policy after the defaults change');

-- A change that changes nothing (a declared direction a policy already covers inserts no row)
-- leaves the version alone; any real change bumps it.
create temp table rp_v as select version from benchwatch_private.policy_version;
insert into public.metric_policies (metric, direction) values ('rp_*', 'higher') on conflict (metric) do nothing;
select is((select version from benchwatch_private.policy_version), (select version from rp_v),
  'an insert that inserts nothing leaves policy_version alone');
update public.metric_policies set description = 'rp' where metric = 'rp_*';
select is((select version from benchwatch_private.policy_version), (select version + 1 from rp_v),
  'an update of a metric_policies row bumps policy_version');

select * from finish();
rollback;
