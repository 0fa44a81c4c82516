-- metric_directions and metric policies: a run's declared direction creates a
-- policy for a metric none covers, the same direction changes nothing, a different one is
-- BW022 and stores nothing; set_metric_policy / list_metric_policies; seeded directions.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(20);

create function pg_temp.md_run(p_commit text, p_metrics jsonb, p_directions jsonb)
returns jsonb
language sql
immutable
as $$
  select jsonb_strip_nulls(jsonb_build_object(
    'commit_sha', p_commit, 'model_version', 'md-model', 'model_provider', 'openai',
    'dataset_version', 'md-ds', 'prompt_version', 'p1', 'environment', 'ci',
    'metrics', p_metrics, 'metric_directions', p_directions))
$$;

-- Seeded directions.
select results_eq(
  $$select metric, direction from metric_policies
    where metric in ('acc', 'acc_norm', 'exact_match', 'bleu', 'rouge*', 'pass_*',
                     'wer', 'cer', 'rmse', 'mae', 'mse', 'brier_score', 'bits_per_byte',
                     'toxicity', 'hallucination_rate') order by metric$$,
  $$values ('acc', 'higher'), ('acc_norm', 'higher'), ('bits_per_byte', 'lower'), ('bleu', 'higher'),
           ('brier_score', 'lower'), ('cer', 'lower'), ('exact_match', 'higher'),
           ('hallucination_rate', 'lower'), ('mae', 'lower'), ('mse', 'lower'), ('pass_*', 'higher'),
           ('rmse', 'lower'), ('rouge*', 'higher'), ('toxicity', 'lower'), ('wer', 'lower')$$,
  'the eval tools'' common metrics are seeded with their documented direction');
select results_eq(
  $$select m, (benchwatch_private.metric_policy(m, 0.05)).direction
    from unnest(array['rougeLsum', 'rouge1', 'pass_1', 'pass_10', 'exact_match/strict-match']) as m$$,
  $$values ('rougeLsum', 'higher'), ('rouge1', 'higher'), ('pass_1', 'higher'), ('pass_10', 'higher'),
           ('exact_match/strict-match', 'higher')$$,
  'rouge*, pass@k (written pass_k) and filtered exact_match are higher-is-better');
select is((benchwatch_private.metric_policy('latency_ms', 0.05)).direction, 'lower',
  'the existing defaults are untouched (latency_ms is lower-is-better)');

-- A declared direction for a metric no policy covers creates one.
select is((benchwatch_private.metric_policy('md_score', 0.05)).source, 'none',
  'md_score has no policy (and no direction) before');
select is(
  (benchwatch_private.ingest_runs(jsonb_build_array(
     pg_temp.md_run('md-1', '{"md_score": 10, "acc": 0.5}', '{"md_score": "lower", "acc": "higher"}')))
   #>> '{runs,0,replayed}'), 'false', 'a run with metric_directions is recorded');
select results_eq(
  $$select direction, relative_threshold, absolute_floor from metric_policies where metric = 'md_score'$$,
  $$values ('lower'::text, null::numeric, 0::numeric)$$,
  'the declared direction created an exact-name policy with the default threshold and floor');
select is((select count(*)::integer from metric_policies where metric = 'acc'), 1,
  'the same direction as a seeded policy adds nothing');

-- The declared direction decides the verdict: a rise of md_score is a regression.
select count(public.pin_baseline(t.id)) from benchmark_transactions t where t.commit_sha = 'md-1';
select is(
  (select m ->> 'is_regression' from jsonb_array_elements(
     benchwatch_private.ingest_runs(jsonb_build_array(
       pg_temp.md_run('md-2', '{"md_score": 20, "acc": 0.5}', null))) #> '{runs,0,metrics}') as m
   where m ->> 'metric_name' = 'md_score'),
  'true', 'a rise of a declared lower-is-better metric is a regression');

-- The same direction again is a no-op.
select lives_ok(
  $$select benchwatch_private.ingest_runs(jsonb_build_array(
      pg_temp.md_run('md-3', '{"md_score": 20}', '{"md_score": "lower"}')))$$,
  'the same direction as the policy is accepted');
select is((select count(*)::integer from metric_policies where metric = 'md_score' and direction = 'lower'), 1,
  'and changes nothing');

-- A conflict is BW022 and stores nothing.
create temp table md_before on commit drop as
select (select count(*) from benchmark_transactions) as runs, (select count(*) from metric_policies) as policies;
select throws_ok(
  $$select benchwatch_private.ingest_runs(jsonb_build_array(
      pg_temp.md_run('md-4', '{"md_new": 1}', '{"md_new": "higher"}'),
      pg_temp.md_run('md-5', '{"md_score": 5}', '{"md_score": "higher"}')))$$,
  'BW022',
  'runs[1]: Cannot record run: metric "md_score" is declared higher-is-better, but its policy says lower-is-better',
  'a direction that conflicts with an explicit policy is BW022, naming both');
select results_eq(
  $$select (select count(*) from benchmark_transactions), (select count(*) from metric_policies)$$,
  $$select runs, policies from md_before$$,
  'the conflicting batch stored no run and no policy (not even the first run''s md_new)');
select throws_ok(
  $$select benchwatch_private.ingest_runs(jsonb_build_array(
      pg_temp.md_run('md-6', '{"rougeL": 0.3}', '{"rougeL": "lower"}')))$$,
  'BW022',
  'Cannot record run: metric "rougeL" is declared lower-is-better, but its policy (pattern rouge*) says higher-is-better',
  'a conflict with a pattern policy is BW022 and names the pattern');
select is((benchwatch_private.metric_policy('md_score', 0.05)).direction, 'lower',
  'the policy was not overridden');

-- Malformed declarations are BW007.
select throws_ok(
  $$select benchwatch_private.ingest_runs(jsonb_build_array(
      pg_temp.md_run('md-7', '{"md_x": 1}', '{"md_x": "down"}')))$$,
  'BW007', null, 'a direction other than higher or lower is BW007');
select throws_ok(
  $$select benchwatch_private.ingest_runs(jsonb_build_array(
      pg_temp.md_run('md-8', '{"md_x": 1}', '{"md_y": "lower"}')))$$,
  'BW007', null, 'a direction for a metric not in the run is BW007');

-- set_metric_policy changes a direction on purpose; list_metric_policies lists it.
select is(benchwatch_private.set_metric_policy('md_score', 'higher', 0.02, 0.5) - 'updated_at',
  '{"metric": "md_score", "direction": "higher", "relative_threshold": 0.02, "absolute_floor": 0.5,
    "description": "Set with benchwatch policy set."}'::jsonb,
  'set_metric_policy replaces the direction and sets the threshold and floor');
select is(
  (select p - 'updated_at' from jsonb_array_elements(benchwatch_private.list_metric_policies()) as p
   where p ->> 'metric' = 'md_score'),
  '{"metric": "md_score", "direction": "higher", "relative_threshold": 0.02, "absolute_floor": 0.5,
    "description": "Set with benchwatch policy set."}'::jsonb,
  'list_metric_policies lists it');
select throws_ok($$select benchwatch_private.set_metric_policy('md score', 'lower')$$, 'BW023', null,
  'a metric name with a space is BW023');
select throws_ok($$select benchwatch_private.set_metric_policy('md_score', 'down')$$, 'BW023',
  'Cannot set the metric policy: direction must be higher or lower',
  'a direction other than higher or lower is BW023');

select * from finish();
rollback;
