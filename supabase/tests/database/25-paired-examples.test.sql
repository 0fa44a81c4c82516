-- Per-example results: exact McNemar / sign-test p-values against fixtures computed
-- independently, Benjamini-Hochberg q-values against a hand-worked case, compact storage, the
-- paired comparison with slices, the alert rule for metrics with examples, and bad input.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(37);

-- 1. p-values. The fixtures are the output of
--    python3 supabase/tests/database/fixtures/binomial_p.py
--    (scipy.stats.binomtest's two-sided definition in exact rational arithmetic, Python's
--    standard library only), pasted here as (worse, better, p).
create temp table fixture (worse integer, better integer, p float8);
insert into fixture values
(12, 2, 0.012939453125::float8),
(0, 0, 1.0::float8),
(0, 1, 1.0::float8),
(1, 0, 1.0::float8),
(3, 3, 1.0::float8),
(5, 0, 0.0625::float8),
(2, 7, 0.1796875::float8),
(6, 1, 0.125::float8),
(9, 1, 0.021484375::float8),
(30, 10, 0.0022214337732293643::float8),
(140, 100, 0.011664092317677663::float8),
(400, 330, 0.010605994778707738::float8),
(2500, 2400, 0.15727096976576943::float8),
(1000, 0, 1.8665272370064378e-301::float8);

select is(
  (select count(*)::integer from fixture
   where abs(benchwatch_private.binomial_two_sided_p(worse, better) - p::numeric) > 1e-9 * p::numeric),
  0, 'every p-value matches the fixture to 1e-9 relative error (14 cases: n < 10, ties, none discordant, n = 4900, p = 1.9e-301)');
select is(
  (select string_agg(format('%s/%s', worse, better), ',' order by worse, better) from fixture
   where abs(benchwatch_private.binomial_two_sided_p(worse, better) - p::numeric) > 1e-9 * p::numeric),
  null, 'no fixture case is off (lists the ones that are)');
select is(benchwatch_private.binomial_two_sided_p(2, 12), benchwatch_private.binomial_two_sided_p(12, 2),
  'the test is two-sided: worse and better are symmetric');
select throws_ok($$select benchwatch_private.binomial_two_sided_p(-1, 2)$$, '22023', null,
  'a negative count is refused');

-- 2. Benjamini-Hochberg, worked by hand. p = (0.01, 0.04, 0.03, 0.005), m = 4.
--    Sorted: 0.005 (rank 1), 0.01 (2), 0.03 (3), 0.04 (4).
--    m p / rank: 0.005*4/1 = 0.02; 0.01*4/2 = 0.02; 0.03*4/3 = 0.04; 0.04*4/4 = 0.04.
--    Cumulative minimum from the largest rank down: 0.04, 0.04, 0.02, 0.02.
--    Back in input order: q = (0.02, 0.04, 0.04, 0.02).
select ok(
  (select bool_and(abs(q - e) < 1e-12) from unnest(
     benchwatch_private.bh_q_values(array[0.01, 0.04, 0.03, 0.005]::float8[]),
     array[0.02, 0.04, 0.04, 0.02]::float8[]) as x(q, e)),
  'BH q-values match the hand-worked case (0.02, 0.04, 0.04, 0.02)');
--    A case where the minimum carries down: p = (0.04, 0.041, 0.9), m = 3.
--    m p / rank: 0.12, 0.0615, 0.9 -> cumulative min from rank 3: 0.9, 0.0615, 0.0615.
select ok(
  (select bool_and(abs(q - e) < 1e-12) from unnest(
     benchwatch_private.bh_q_values(array[0.04, 0.041, 0.9]::float8[]),
     array[0.0615, 0.0615, 0.9]::float8[]) as x(q, e)),
  'a larger p-value''s smaller m p / rank carries down to the smaller p (0.0615, 0.0615, 0.9)');
select is(benchwatch_private.bh_q_values(array[0.5]::float8[]), array[0.5]::float8[],
  'one comparison is its own q-value');
select is(benchwatch_private.bh_q_values(array[0.6, 0.7]::float8[]), array[0.7, 0.7]::float8[],
  'q is capped by the larger adjusted values, never above 1');

-- 3. The guide's run with 200 examples: 170 right in the baseline; the candidate loses 12 of
--    them and gains 2 (f1 0.85 -> 0.80, beyond the 5% tolerance).
create function pg_temp.pe_run(p_commit text, p_f1 numeric, p_examples jsonb)
returns jsonb
language sql
immutable
as $$
  select jsonb_strip_nulls(jsonb_build_object(
    'commit_sha', p_commit, 'model_version', 'pe-model', 'model_provider', 'openai',
    'dataset_version', 'pe-ds', 'prompt_version', 'p1', 'environment', 'ci',
    'metrics', jsonb_build_object('f1', p_f1, 'latency_ms', 400), 'examples', p_examples))
$$;
create function pg_temp.pe_examples(p_right int[], p_graded boolean default false)
returns jsonb
language sql
immutable
as $$
  select jsonb_agg(jsonb_build_object(
    'id', 'doc-' || lpad(i::text, 4, '0'),
    'slice', case when i % 2 = 0 then 'invoices' else 'receipts' end,
    'scores', jsonb_build_object('f1', case when i = any (p_right) then 1 else 0 end
                                       + case when p_graded then 0.25 else 0 end))
    order by i)
  from generate_series(1, 200) as i
$$;

select lives_ok($$select benchwatch_private.record_run(pg_temp.pe_run('pe-base', 0.85,
  pg_temp.pe_examples(array(select generate_series(1, 170)))))$$, 'a run with 200 examples is recorded');
select count(public.pin_baseline(t.id)) from benchmark_transactions t where t.commit_sha = 'pe-base';
select results_eq(
  $$select kind, n, mean, pg_column_size(outcomes) < 40, present is null, slices is not null
    from benchwatch_private.run_examples r join benchwatch_private.example_sets s on s.id = r.example_set_id
    join benchmark_transactions t on t.id = r.transaction_id where t.commit_sha = 'pe-base'$$,
  $$values ('binary'::text, 200, 0.85::numeric, true, true, true)$$,
  'binary outcomes are stored as one bit each (200 in under 40 bytes), with the slices once in the set');

create temp table answer as
select benchwatch_private.record_run(pg_temp.pe_run('pe-cand', 0.80,
  pg_temp.pe_examples(array(select generate_series(13, 172))))) as a;
select results_eq(
  $$select p ->> 'slice', (p ->> 'n_both')::int, (p ->> 'worse')::int, (p ->> 'better')::int,
           round((p ->> 'p_value')::numeric, 12), round((p ->> 'mean_diff')::numeric, 6)
    from answer, jsonb_array_elements(a -> 'paired') as p order by p ->> 'slice' nulls first$$,
  $$values (null::text, 200, 12, 2, 0.012939453125::numeric, -0.05::numeric),
           ('invoices', 100, 6, 1, 0.125, -0.05), ('receipts', 100, 6, 1, 0.125, -0.05)$$,
  'the answer pairs the examples by id: 12 worse, 2 better of 200 (p = 0.01294), and per slice');
-- BH over the run's three comparisons: p = (0.012939453125, 0.125, 0.125):
-- 3 * 0.012939453125 / 1 = 0.038818359375; 3 * 0.125 / 2 = 0.1875; 3 * 0.125 / 3 = 0.125
-- -> q = (0.038818359375, 0.125, 0.125).
select results_eq(
  $$select round((p ->> 'q_value')::numeric, 12) from answer, jsonb_array_elements(a -> 'paired') as p
    order by p ->> 'slice' nulls first$$,
  $$values (0.038818359375::numeric), (0.125), (0.125)$$,
  'q-values are adjusted over the run''s metric x slice comparisons (0.0388, 0.125, 0.125)');
select ok((select (p ->> 'ci_low')::numeric < -0.05 and (p ->> 'ci_high')::numeric < 0
           and (p ->> 'aggregate_agrees')::boolean
           from answer, jsonb_array_elements(a -> 'paired') as p where p ->> 'slice' is null),
  'the overall row has a confidence interval around -0.05 and says the aggregate agrees with the examples');
select is(jsonb_array_length(a -> 'alerts_opened'), 1, 'the alert opens on that very run (first run after the baseline)')
from answer;
select is((select metric_name from regression_alerts where opened_transaction_id = (a ->> 'transaction_id')::uuid),
  'f1', 'the opened alert is f1 (latency_ms has no examples and keeps the history rule)') from answer;

-- 4. The same drop without significance: 8 worse, 6 better of 200 with f1 beyond tolerance is
--    not enough evidence (p = 0.79), and so opens nothing.
select is(
  (select jsonb_array_length(a -> 'alerts_opened') from (select benchwatch_private.record_run(jsonb_set(
     pg_temp.pe_run('pe-other-2', 0.80, pg_temp.pe_examples(array(select generate_series(9, 176)))),
     '{model_version}', '"pe-model-c"')) as a) as x),
  0, 'a drop beyond tolerance with 8 worse and 6 better (p = 0.79) opens no alert');

-- 4a. A comparison that cannot be a discovery stays out of the BH family (Tarone's filter):
--     with d examples flipped the exact test's smallest p-value is 2 * 0.5^d, so at q_level
--     0.05 a slice with 5 or fewer flips is untestable and gets q = 1. The candidate loses 12
--     invoices (ids 2, 4, ..., 24) and gains 2 receipts (171, 173):
--     overall 12 worse, 2 better, p = 0.012939453125; invoices 12 / 0, p = 2 * 0.5^12 =
--     0.00048828125; receipts 0 / 2 (smallest p 0.5: untestable).
--     BH over the two testable ones (m = 2): invoices 2 * 0.00048828125 / 1 = 0.0009765625;
--     overall 2 * 0.012939453125 / 2 = 0.012939453125. (With receipts in, m = 3, they would be
--     0.00146484375 and 0.0194091796875.)
select results_eq(
  $$select p ->> 'slice', (p ->> 'worse')::int, (p ->> 'better')::int, round((p ->> 'q_value')::numeric, 12)
    from jsonb_array_elements(benchwatch_private.record_run(jsonb_set(
      pg_temp.pe_run('pe-tarone', 0.80, pg_temp.pe_examples(array(
        select i from generate_series(1, 173) as i where not (i <= 24 and i % 2 = 0) and i <> 172))),
      '{model_version}', '"pe-model-t"')) -> 'paired') as p
    order by p ->> 'slice' nulls first$$,
  $$values (null::text, 12, 2, 0.012939453125::numeric), ('invoices', 12, 0, 0.0009765625),
           ('receipts', 0, 2, 1.000000000000)$$,
  'a slice with too few flips to be a discovery is left out of the BH family and gets q = 1');

--     A regression confined to one slice opens the alert on that slice's evidence: the
--     candidate loses 16 invoices and gains 7 receipts, f1 0.85 -> 0.805 (beyond tolerance).
--     Overall 16 worse, 7 better is no discovery (p = 0.093), invoices 16 / 0 is.
create temp table slice_answer as
select benchwatch_private.record_run(jsonb_set(
  pg_temp.pe_run('pe-slice', 0.805, pg_temp.pe_examples(array(
    select i from generate_series(1, 183) as i
    where not (i <= 32 and i % 2 = 0) and (i <= 170 or i % 2 = 1)))),
  '{model_version}', '"pe-model-s"')) as a;
select results_eq(
  $$select p ->> 'slice', (p ->> 'worse')::int, (p ->> 'better')::int, (p ->> 'q_value')::numeric < 0.05
    from slice_answer, jsonb_array_elements(a -> 'paired') as p order by p ->> 'slice' nulls first$$,
  $$values (null::text, 16, 7, false), ('invoices', 16, 0, true), ('receipts', 0, 7, true)$$,
  'overall 16 worse / 7 better is no discovery; invoices (worse) and receipts (better) are');
select is(jsonb_array_length(a -> 'alerts_opened'), 1,
  'a discovery in one slice, worse, with the metric beyond tolerance, opens the alert') from slice_answer;

-- 4b. confirmation_runs (2 by default) asks, on a series that has runs since its baseline run,
--     for the previous such run to be beyond tolerance and worse too: a one-run spike never
--     opens. The first run judged against the baseline (3. above) has none, and opens alone.
select is((select confirmation_runs from benchwatch_private.paired_defaults), 2,
  'paired_defaults.confirmation_runs is 2 by default');
select is(
  (select jsonb_array_length(a -> 'alerts_opened') from (select benchwatch_private.record_run(jsonb_set(
     pg_temp.pe_run('pe-k2-0', 0.85, pg_temp.pe_examples(array(select generate_series(1, 170)))),
     '{model_version}', '"pe-model-e"')) as a) as x),
  0, 'a run level with the baseline opens nothing');
select is(
  (select jsonb_array_length(a -> 'alerts_opened') from (select benchwatch_private.record_run(jsonb_set(
     pg_temp.pe_run('pe-k2-1', 0.80, pg_temp.pe_examples(array(select generate_series(13, 172)))),
     '{model_version}', '"pe-model-e"')) as a) as x),
  0, 'after a run since the baseline that was not worse, the first significant run opens nothing (a spike)');
select is(
  (select jsonb_array_length(a -> 'alerts_opened') from (select benchwatch_private.record_run(jsonb_set(
     pg_temp.pe_run('pe-k2-2', 0.80, pg_temp.pe_examples(array(select generate_series(13, 172)))),
     '{model_version}', '"pe-model-e"')) as a) as x),
  1, 'the second significant run in a row opens the alert');
--     With confirmation_runs 1, the first significant run opens even after a level run.
update benchwatch_private.paired_defaults set confirmation_runs = 1;
select lives_ok($$select benchwatch_private.record_run(jsonb_set(
  pg_temp.pe_run('pe-k1-0', 0.85, pg_temp.pe_examples(array(select generate_series(1, 170)))),
  '{model_version}', '"pe-model-f"'))$$, 'a level run on another series');
select is(
  (select jsonb_array_length(a -> 'alerts_opened') from (select benchwatch_private.record_run(jsonb_set(
     pg_temp.pe_run('pe-k1-1', 0.80, pg_temp.pe_examples(array(select generate_series(13, 172)))),
     '{model_version}', '"pe-model-f"')) as a) as x),
  1, 'confirmation_runs 1: the first significant run opens at once');
update benchwatch_private.paired_defaults set confirmation_runs = 2;

-- 5. Graded scores: the sign test on the non-zero differences, paired by id.
select lives_ok($$select benchwatch_private.record_run(jsonb_set(jsonb_set(pg_temp.pe_run('pe-g-base', 1.1,
  pg_temp.pe_examples(array(select generate_series(1, 170)), true)), '{dataset_version}', '"pe-graded"'),
  '{metrics,f1}', '1.1'))$$, 'a run with graded scores is recorded');
select count(public.pin_baseline(t.id)) from benchmark_transactions t where t.commit_sha = 'pe-g-base';
select results_eq(
  $$select p ->> 'kind', (p ->> 'worse')::int, (p ->> 'better')::int, round((p ->> 'p_value')::numeric, 12)
    from jsonb_array_elements(benchwatch_private.record_run(jsonb_set(pg_temp.pe_run('pe-g-cand', 1.05,
      pg_temp.pe_examples(array(select generate_series(13, 172)), true)), '{dataset_version}', '"pe-graded"')) -> 'paired') as p
    where p ->> 'slice' is null$$,
  $$values ('graded'::text, 12, 2, 0.012939453125::numeric)$$,
  'graded scores are compared by the sign test: 12 worse, 2 better, p = 0.01294');
select is((select kind from benchwatch_private.run_examples r join benchmark_transactions t on t.id = r.transaction_id
           where t.commit_sha = 'pe-g-base'), 'graded', 'scores other than 0 and 1 are stored as graded');

-- 6. A run without examples carries no paired rows and its answer is as before.
select ok(not (benchwatch_private.record_run(jsonb_set(pg_temp.pe_run('pe-none', 0.85, null),
  '{model_version}', '"pe-model-d"')) ? 'paired'), 'a run without examples has no "paired" in its answer');

-- 7. Bad input: a clear error and nothing stored.
select throws_ok($$select benchwatch_private.record_run(pg_temp.pe_run('pe-bad1', 0.8, '[{"id": "a", "scores": {"f1": 1}}, {"id": "a", "scores": {"f1": 0}}]'))$$,
  'BW031', 'Cannot record run: example id "a" appears 2 times', 'a duplicate example id is BW031');
select throws_ok($$select benchwatch_private.record_run(pg_temp.pe_run('pe-bad2', 0.8, '[{"id": "a", "scores": {"acc": 1}}]'))$$,
  'BW032', 'Cannot record run: examples score metric "acc", which is not in metrics', 'an unknown metric is BW032');
select throws_ok($$select benchwatch_private.record_run(pg_temp.pe_run('pe-bad3', 0.8, '[{"id": "a", "scores": {"f1": "1"}}]'))$$,
  'BW030', null, 'a score that is not a number is BW030');
select throws_ok($$select benchwatch_private.record_run(pg_temp.pe_run('pe-bad4', 0.8, '[{"id": "a", "scores": {"f1": 1}, "x": 1}]'))$$,
  'BW030', null, 'an unknown field of an example is BW030');
update benchwatch_private.paired_defaults set max_examples = 2;
select throws_ok($$select benchwatch_private.record_run(pg_temp.pe_run('pe-bad5', 0.8, '[{"id": "a", "scores": {"f1": 1}}, {"id": "b", "scores": {"f1": 1}}, {"id": "c", "scores": {"f1": 1}}]'))$$,
  'BW030', 'Cannot record run: send 1 to 2 examples per run', 'more than the maximum of examples is BW030');
select is((select count(*)::integer from benchmark_transactions where commit_sha like 'pe-bad%'), 0,
  'nothing of a refused run is stored');
-- An Idempotency-Key reused with different examples is a different request (BW009).
select lives_ok($$select benchwatch_private.record_run(jsonb_set(pg_temp.pe_run('pe-key', 0.8, '[{"id": "a", "scores": {"f1": 1}}]'), '{model_version}', '"pe-model-k"'), 'pe-key-1')$$,
  'a run with examples and an Idempotency-Key is recorded');
select throws_ok($$select benchwatch_private.record_run(jsonb_set(pg_temp.pe_run('pe-key', 0.8, '[{"id": "a", "scores": {"f1": 0}}]'), '{model_version}', '"pe-model-k"'), 'pe-key-1')$$,
  'BW009', null, 'the same Idempotency-Key with different examples is BW009');

select * from finish();
rollback;
