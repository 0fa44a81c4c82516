-- record_runs (batch ingest): a batch is recorded round by round (the k-th run
-- of each series in round k), and every answer, observation and alert is the one that
-- recording the same runs one by one with record_run, in batch order, gives.
--
-- Two families of three series get the same runs in the same order: "bat" in one
-- ingest_runs call, "seq" through record_run one run at a time. Each series has a pinned
-- baseline, 8 in-control runs, 4 regressing ones and 4 recovered ones (an alert resolves after 4
-- runs back: resolve_runs); series 2's latency
-- regresses too. The batch also holds a duplicate run (a replay) and a run older than
-- its series' latest (recorded, not latest).
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(11);

select has_function('benchwatch_private', 'record_runs', array['jsonb', 'text[]', 'boolean'],
  'benchwatch_private.record_runs(p_runs jsonb, p_idempotency_keys text[], p_name_runs boolean) exists');

create function pg_temp.rr_run(p_family text, p_s integer, p_t numeric, p_f1 numeric, p_latency numeric)
returns jsonb
language sql
immutable
as $$
  select jsonb_build_object(
    'commit_sha', 'rr-' || p_t, 'model_version', 'rr-' || p_family || '-m' || p_s, 'model_provider', 'openai',
    'dataset_version', 'ds-rr', 'prompt_version', 'p1', 'environment', 'ci', 'dataset_size', 1000,
    'created_at', timestamptz '2026-10-01 00:00:00+00' + p_t * interval '1 minute',
    'metrics', jsonb_build_object('f1', p_f1, 'latency_ms', p_latency))
$$;

-- Baselines, one by one in both families, then pinned.
select count(benchwatch_private.record_run(pg_temp.rr_run(f, s, 0, 0.90, 400)))
from unnest(array['bat', 'seq']) as f, generate_series(1, 3) as s;
select count(public.pin_baseline(t.id))
from benchmark_transactions t where t.model_version like 'rr-%' and t.commit_sha = 'rr-0';

-- The runs, in batch order: t = 1..16 for series 1, 2, 3, with the duplicate after
-- series 1's t = 4 and the older run (t = 5.5 of series 3) at the end.
create temp table rr_runs on commit drop as
with plain as (
  select (t * 10 + s)::numeric as pos, s, t::numeric as t,
         case when t between 9 and 12 then 0.80 else 0.90 end + ((s * 7 + t * 13) % 9 - 4) / 1000.0 as f1,
         case when s = 2 and t between 9 and 12 then 600 else 400 + ((s * 5 + t * 3) % 7) - 3 end as latency
  from generate_series(1, 3) as s, generate_series(1, 16) as t
)
select pos, s, t, f1, latency from plain
union all
select 41.5, 1, 4, f1, latency from plain where s = 1 and t = 4
union all
select 1000, 3, 5.5, 0.901, 401;

-- "bat": one batch.
create temp table rr_bat on commit drop as
select r.n::integer as n, r.answer
from jsonb_array_elements(benchwatch_private.ingest_runs(
       (select jsonb_agg(pg_temp.rr_run('bat', x.s, x.t, x.f1, x.latency) order by x.pos) from rr_runs as x)) -> 'runs')
     with ordinality as r(answer, n);

-- "seq": the same runs one by one.
create temp table rr_seq (n integer primary key, answer jsonb) on commit drop;
do $$
declare
  x record;
  i integer := 0;
begin
  for x in select * from rr_runs order by pos loop
    i := i + 1;
    insert into rr_seq values (i, benchwatch_private.record_run(pg_temp.rr_run('seq', x.s, x.t, x.f1, x.latency)));
  end loop;
end
$$;

-- An answer without what differs between the families: ids, times, model names.
create function pg_temp.rr_norm(p_answer jsonb)
returns jsonb
language sql
immutable
as $$
  select (p_answer - array['transaction_id', 'created_at', 'snapshot_id', 'series', 'baseline',
                           'alerts_opened', 'alerts_continued', 'alerts_resolved'])
         || jsonb_build_object(
              'series', (p_answer -> 'series') - 'model_version',
              'baseline', (p_answer -> 'baseline') - array['snapshot_id', 'transaction_id', 'model_version', 'pinned_at'],
              'alerts', jsonb_build_array(jsonb_array_length(p_answer -> 'alerts_opened'),
                                          jsonb_array_length(p_answer -> 'alerts_continued'),
                                          jsonb_array_length(p_answer -> 'alerts_resolved')))
$$;

select is((select count(*)::integer from rr_bat), (select count(*)::integer from rr_runs),
  'the batch answers every run');
select is(
  (select jsonb_agg(pg_temp.rr_norm(b.answer) order by b.n) from rr_bat as b),
  (select jsonb_agg(pg_temp.rr_norm(s.answer) order by s.n) from rr_seq as s),
  'each run''s answer in the batch is the one recording the runs one by one gives');

select is(
  (select jsonb_agg(jsonb_build_array(right(o.model_version, 3), o.metric_name, o.created_at, o.value,
                                      o.reference_value, o.noise, o.z, o.out_of_control, o.back_in_control)
                    order by right(o.model_version, 3), o.metric_name, o.created_at, o.seq)
   from benchwatch_private.metric_observations o where o.model_version like 'rr-bat-%'),
  (select jsonb_agg(jsonb_build_array(right(o.model_version, 3), o.metric_name, o.created_at, o.value,
                                      o.reference_value, o.noise, o.z, o.out_of_control, o.back_in_control)
                    order by right(o.model_version, 3), o.metric_name, o.created_at, o.seq)
   from benchwatch_private.metric_observations o where o.model_version like 'rr-seq-%'),
  'the observations (reference, noise, z, verdicts) are the same');

select is(
  (select jsonb_agg(jsonb_build_array(right(a.model_version, 3), a.metric_name, a.status, a.opened_value,
                                      a.last_value, a.resolved_value, a.regressing_run_count)
                    order by right(a.model_version, 3), a.metric_name, a.opened_value)
   from regression_alerts a where a.model_version like 'rr-bat-%'),
  (select jsonb_agg(jsonb_build_array(right(a.model_version, 3), a.metric_name, a.status, a.opened_value,
                                      a.last_value, a.resolved_value, a.regressing_run_count)
                    order by right(a.model_version, 3), a.metric_name, a.opened_value)
   from regression_alerts a where a.model_version like 'rr-seq-%'),
  'the alerts (opened, continued, resolved) are the same');

select ok(
  (select count(*) from regression_alerts a where a.model_version like 'rr-bat-%' and a.status = 'resolved') >= 3
  and (select count(*) from regression_alerts a where a.model_version = 'rr-bat-m2' and a.metric_name = 'latency_ms') = 1,
  'the scenario opens and resolves alerts (f1 in each series, latency in series 2)');

select is(
  (select jsonb_build_array(b.answer -> 'replayed', b.answer -> 'transaction_id') from rr_bat as b
   where b.n = (select count(*) from rr_runs where pos <= 41.5)),
  (select jsonb_build_array(to_jsonb(true), b.answer -> 'transaction_id') from rr_bat as b
   where b.n = (select count(*) from rr_runs where pos <= 41)),
  'a run repeated in the batch replays the first one''s answer');

select is(
  (select (b.answer ->> 'is_latest')::boolean from rr_bat as b where b.n = (select count(*) from rr_runs)),
  false, 'a run older than its series'' latest is recorded but is not the latest');

select is(
  (select count(*)::integer from benchmark_transactions where model_version like 'rr-bat-%'),
  (select count(*)::integer from benchmark_transactions where model_version like 'rr-seq-%'),
  'both families wrote the same number of runs (the duplicate once)');

-- The same batch again: every run replays its first answer, nothing is written twice.
select is(
  (select jsonb_agg(jsonb_build_array(r.answer -> 'replayed', r.answer -> 'transaction_id') order by r.n)
   from jsonb_array_elements(benchwatch_private.ingest_runs(
          (select jsonb_agg(pg_temp.rr_run('bat', x.s, x.t, x.f1, x.latency) order by x.pos) from rr_runs as x)) -> 'runs')
        with ordinality as r(answer, n)),
  (select jsonb_agg(jsonb_build_array(to_jsonb(true), b.answer -> 'transaction_id') order by b.n) from rr_bat as b),
  'the same batch sent again replays every answer');
select is((select count(*)::integer from benchmark_transactions where model_version like 'rr-bat-%'), 3 + 48 + 1,
  'and writes nothing new');

select * from finish();
rollback;
