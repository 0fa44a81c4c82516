-- detect_regression's paired columns and the paired result in each metric's verdict
-- (migrations 20261202120000 and 20261202120100), and archival that leaves no per-example rows
-- behind (20261202120200).
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(26);

-- n examples doc-0001.. (slices by parity), f1 right (1) for lo <= i <= hi, else wrong (0).
create function pg_temp.ex(p_n int, p_lo int, p_hi int)
returns jsonb
language sql
immutable
as $$
  select jsonb_agg(jsonb_build_object(
    'id', 'doc-' || lpad(i::text, 4, '0'),
    'slice', case when i % 2 = 0 then 'even' else 'odd' end,
    'scores', jsonb_build_object('f1', case when i between p_lo and p_hi then 1 else 0 end))
    order by i)
  from generate_series(1, p_n) as i
$$;

-- 1. Shape: the guide's columns first, in their order; the paired columns at the end.
select is(
  (select array_agg(a.name order by a.pos)
   from pg_proc p, unnest(p.proargnames, p.proargmodes) with ordinality as a(name, mode, pos)
   where p.oid = 'public.detect_regression(text, numeric)'::regprocedure and a.mode = 't'),
  array['model_version', 'model_provider', 'dataset_version', 'prompt_version', 'environment',
        'metric_name', 'baseline_value', 'current_value', 'relative_change', 'is_regression',
        'status', 'absolute_change', 'direction', 'threshold', 'absolute_floor', 'policy_source',
        'baseline_model_version', 'baseline_prompt_version', 'prompt_mismatch',
        'baseline_snapshot_id', 'baseline_transaction_id', 'baseline_pinned_at',
        'current_transaction_id', 'current_created_at', 'noise', 'z', 'beyond_noise',
        'within_noise', 'out_of_control', 'alert_open',
        'paired_kind', 'paired_n_both', 'paired_worse', 'paired_better', 'paired_mean_diff',
        'paired_ci_low', 'paired_ci_high', 'paired_p_value', 'paired_q_value'],
  'detect_regression keeps its 30 columns in order and adds the 9 paired columns at the end');
select is(
  (select proacl::text[] from pg_proc where oid = 'public.detect_regression(text, numeric)'::regprocedure),
  array['postgres=X/postgres', 'service_role=X/postgres'],
  'detect_regression is executable by service_role (and its owner) only, as before');

-- 2. The guide's two runs, without examples: the verdict as the guide says, no paired evidence.
select tests.run('dr26-plain', '{"precision": 0.91, "recall": 0.88, "f1": 0.895, "latency_ms": 412, "analysis_cost": 0.0042}',
                 '{"commit_sha": "dr26-a", "dataset_size": 100}');
select count(public.pin_baseline(t.id)) from benchmark_transactions t where t.model_version = 'dr26-plain';
select tests.run('dr26-plain', '{"precision": 0.85, "recall": 0.82, "f1": 0.835, "latency_ms": 420, "analysis_cost": 0.0043}',
                 '{"commit_sha": "dr26-b", "dataset_size": 100}');
select results_eq(
  $$select metric_name, is_regression from detect_regression('dr26-plain', 0.05) order by metric_name$$,
  $$values ('analysis_cost'::text, false), ('f1', true), ('latency_ms', false), ('precision', true), ('recall', true)$$,
  'the guide''s Test 3 still holds');
select is(
  (select count(*)::int from detect_regression('dr26-plain', 0.05)
   where num_nonnulls(paired_kind, paired_n_both, paired_worse, paired_better, paired_mean_diff,
                      paired_ci_low, paired_ci_high, paired_p_value, paired_q_value) > 0),
  0, 'without examples every paired column is null');

-- 3. The guide's case with 200 examples: 170 right in the baseline; the candidate loses 12 of
--    them (doc-0001..0012) and gains 2 (doc-0171, doc-0172): f1 0.85 -> 0.80.
select tests.run('dr26-ex', '{"f1": 0.85, "latency_ms": 400}',
                 jsonb_build_object('commit_sha', 'dr26-ex-a', 'dataset_version', 'dr26-ds',
                                    'examples', pg_temp.ex(200, 1, 170)));
select count(public.pin_baseline(t.id)) from benchmark_transactions t where t.commit_sha = 'dr26-ex-a';
create temp table answer as
select tests.run('dr26-ex', '{"f1": 0.80, "latency_ms": 400}',
                 jsonb_build_object('commit_sha', 'dr26-ex-b', 'dataset_version', 'dr26-ds',
                                    'examples', pg_temp.ex(200, 13, 172))) as a;
select results_eq(
  $$select paired_kind, paired_n_both, paired_worse, paired_better, round(paired_p_value::numeric, 12)
    from detect_regression('dr26-ex', 0.05) where metric_name = 'f1'$$,
  $$values ('binary'::text, 200, 12, 2, 0.012939453125::numeric)$$,
  'f1: 12 worse, 2 better of 200, p = 0.0129 (McNemar''s exact test)');
select results_eq(
  $$select paired_kind, paired_n_both, paired_worse, paired_better, paired_mean_diff, paired_ci_low,
           paired_ci_high, paired_p_value, paired_q_value
    from detect_regression('dr26-ex', 0.05) where metric_name = 'f1'$$,
  $$select pr.kind, pr.n_both, pr.worse, pr.better, pr.mean_diff, pr.ci_low, pr.ci_high, pr.p_value, pr.q_value
    from benchwatch_private.paired_results pr join benchmark_transactions t on t.id = pr.transaction_id
    where t.commit_sha = 'dr26-ex-b' and pr.metric_name = 'f1' and pr.slice is null$$,
  'the paired columns are exactly the run''s overall paired_results row');
select results_eq(
  $$select is_regression, status, baseline_value, current_value
    from detect_regression('dr26-ex', 0.05) where metric_name = 'f1'$$,
  $$values (true, 'regression'::text, 0.85::numeric, 0.80::numeric)$$,
  'the guide''s columns are unchanged by the paired ones');
select is(
  (select num_nonnulls(paired_kind, paired_n_both, paired_p_value, paired_q_value)
   from detect_regression('dr26-ex', 0.05) where metric_name = 'latency_ms'),
  0, 'a metric without per-example scores (latency_ms) has null paired columns');

-- 4. The paired result in record_run's verdict per metric, and in run_verdicts (check).
select results_eq(
  $$select m ->> 'metric_name', (m -> 'paired' ->> 'n_both')::int, (m -> 'paired' ->> 'worse')::int,
           (m -> 'paired' ->> 'better')::int, round((m -> 'paired' ->> 'p_value')::numeric, 12),
           (m -> 'paired' ->> 'q_value')::float8 = (p ->> 'q_value')::float8
    from answer, jsonb_array_elements(a -> 'metrics') as m, jsonb_array_elements(a -> 'paired') as p
    where m ? 'paired' and p ->> 'metric_name' = m ->> 'metric_name' and p ->> 'slice' is null$$,
  $$values ('f1'::text, 200, 12, 2, 0.012939453125::numeric, true)$$,
  'record_run''s verdict for f1 carries its overall paired comparison (and only f1 has one)');
select is((select a -> 'paired' from answer),
  (select v -> 'runs' -> 0 -> 'paired' from answer,
     lateral benchwatch_private.run_verdicts((a ->> 'transaction_id')::uuid) as v),
  'run_verdicts (what check reads) carries the run''s paired comparison as recorded');
select is((select r ? 'paired' from benchmark_transactions t,
             lateral benchwatch_private.run_verdicts(t.id) as v, jsonb_array_elements(v -> 'runs') as r
           where t.commit_sha = 'dr26-b'),
  false, 'a run without examples reads as before in run_verdicts (no "paired")');

-- 5. A run with examples against a baseline without them: no paired evidence.
select tests.run('dr26-half', '{"f1": 0.85}', '{"commit_sha": "dr26-h-a", "dataset_version": "dr26-ds-h"}');
select count(public.pin_baseline(t.id)) from benchmark_transactions t where t.commit_sha = 'dr26-h-a';
select tests.run('dr26-half', '{"f1": 0.80}',
                 jsonb_build_object('commit_sha', 'dr26-h-b', 'dataset_version', 'dr26-ds-h',
                                    'examples', pg_temp.ex(200, 13, 172)));
select is((select num_nonnulls(paired_kind, paired_n_both, paired_p_value) from detect_regression('dr26-half') where metric_name = 'f1'),
  0, 'a run with examples whose baseline has none has null paired columns');

-- 6. A baseline pinned after the run: its paired result was against another run, so null.
select count(public.pin_baseline(t.id)) from benchmark_transactions t where t.commit_sha = 'dr26-ex-b';
select is((select num_nonnulls(paired_kind, paired_n_both, paired_p_value) from detect_regression('dr26-ex') where metric_name = 'f1'),
  0, 'once another baseline is pinned, the old paired result is not shown against it');

-- 7. Archival. Two years back: ar-gone's baseline and a run paired with it (then unpinned),
--    and ar-kept's baseline (still pinned). Today: ar-kept's run paired with that baseline.
create temp table ar (name text primary key, id uuid);
insert into ar select 'gone-0', tests.run_id('ar-gone', '{"f1": 0.9}',
  jsonb_build_object('commit_sha', 'ar-g0', 'dataset_version', 'ar-ds-gone', 'created_at', now() - interval '2 years',
                     'examples', pg_temp.ex(40, 1, 36)));
select count(public.pin_baseline(id)) from ar where name = 'gone-0';
insert into ar select 'gone-1', tests.run_id('ar-gone', '{"f1": 0.8}',
  jsonb_build_object('commit_sha', 'ar-g1', 'dataset_version', 'ar-ds-gone', 'created_at', now() - interval '2 years' + interval '1 day',
                     'examples', pg_temp.ex(40, 5, 36)));
select unpin_baseline('ar-gone', 'ci');
insert into ar select 'kept-0', tests.run_id('ar-kept', '{"f1": 0.9}',
  jsonb_build_object('commit_sha', 'ar-k0', 'dataset_version', 'ar-ds-kept', 'created_at', now() - interval '2 years',
                     'examples', pg_temp.ex(30, 1, 27)));
select count(public.pin_baseline(id)) from ar where name = 'kept-0';
insert into ar select 'kept-1', tests.run_id('ar-kept', '{"f1": 0.8}',
  jsonb_build_object('commit_sha', 'ar-k1', 'dataset_version', 'ar-ds-kept', 'examples', pg_temp.ex(30, 4, 27)));
-- Per run: its run_examples rows and its paired_results rows.
create temp view ar_rows as
select ar.name,
       (select count(*)::int from benchwatch_private.run_examples r where r.transaction_id = ar.id) as examples,
       (select count(*)::int from benchwatch_private.paired_results p where p.transaction_id = ar.id) as paired
from ar;

select results_eq(
  $$select * from ar_rows order by name$$,
  $$values ('gone-0'::text, 1, 0), ('gone-1', 1, 3), ('kept-0', 1, 0), ('kept-1', 1, 3)$$,
  'before archival: each run has its examples, the paired runs their overall and slice rows');
create temp table kept_before as
select r.* from benchwatch_private.run_examples r join ar on ar.id = r.transaction_id where ar.name = 'kept-1';
create temp table kept_paired_before as
select p.* from benchwatch_private.paired_results p join ar on ar.id = p.transaction_id where ar.name = 'kept-1';

select tests.authenticate_as('service_role');
select is(archive_benchmarks() >= 3, true, 'service_role archives the runs older than a year (these three among them)');
reset role;
select is((select count(*)::int from ar join public.benchmark_transactions_archive a on a.id = ar.id), 3,
  'gone-0, gone-1 and kept-0 are in the archive');

select is(
  (select count(*)::int from benchwatch_private.run_examples r
   where not exists (select 1 from benchmark_transactions t where t.id = r.transaction_id)
     and not exists (select 1 from benchmark_snapshots s where s.transaction_id = r.transaction_id and s.pinned_at is not null)),
  0, 'no run_examples row is left for an archived run (other than a pinned baseline''s)');
select is(
  (select count(*)::int from benchwatch_private.paired_results p
   where not exists (select 1 from benchmark_transactions t where t.id = p.transaction_id)),
  0, 'no paired_results row is left for an archived run');
select is(
  (select count(*)::int from benchwatch_private.example_sets e
   where not exists (select 1 from benchwatch_private.run_examples r where r.example_set_id = e.id)),
  0, 'no example_sets row is left that no run points at');
select is((select count(*)::int from benchwatch_private.example_sets where dataset_version = 'ar-ds-gone'), 0,
  'the archived runs'' eval set is gone with them');
select results_eq(
  $$select * from ar_rows order by name$$,
  $$values ('gone-0'::text, 0, 0), ('gone-1', 0, 0), ('kept-0', 1, 0), ('kept-1', 1, 3)$$,
  'after archival: the archived runs have nothing left; the pinned baseline keeps its examples');
select set_eq($$select * from benchwatch_private.run_examples r where r.transaction_id = (select id from ar where name = 'kept-1')$$,
  $$select * from kept_before$$, 'the live run''s examples are untouched');
select set_eq($$select * from benchwatch_private.paired_results p where p.transaction_id = (select id from ar where name = 'kept-1')$$,
  $$select * from kept_paired_before$$, 'the live run''s paired results (against the archived baseline) are untouched');

-- The kept examples serve: a run recorded after archival is still paired with the baseline.
select is(
  (select (p ->> 'worse')::int from jsonb_array_elements(tests.run('ar-kept', '{"f1": 0.8}',
     jsonb_build_object('commit_sha', 'ar-k2', 'dataset_version', 'ar-ds-kept', 'examples', pg_temp.ex(30, 4, 27))) -> 'paired') as p
   where p ->> 'slice' is null),
  3, 'a run after archival is paired with the archived pinned baseline''s examples (3 worse)');

-- Unpinned, the baseline's examples go with the next archival; a second run changes nothing else.
select unpin_baseline('ar-kept', 'ci');
select archive_benchmarks();
select is((select count(*)::int from benchwatch_private.run_examples r where r.transaction_id = (select id from ar where name = 'kept-0')),
  0, 'once unpinned, the archived baseline''s examples go with the next archival');
select is((select count(*)::int from benchwatch_private.run_examples r join benchmark_transactions t on t.id = r.transaction_id
           where t.model_version = 'ar-kept'), 2, 'the two live runs keep their examples');

select * from finish();
rollback;
