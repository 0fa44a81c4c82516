-- The paired evidence a Slack alert names (migration 20261202110000_slack_paired_evidence):
-- paired_alert_evidence picks the overall comparison and the worst slice, and
-- claim_alert_events adds it as "paired" to a regressed event's metric when the opening run
-- has it, and to nothing else (other metrics, recovered events, runs without examples).
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(16);

-- 1. Declaration.
select has_function('benchwatch_private', 'paired_alert_evidence', array['uuid', 'text'],
  'benchwatch_private.paired_alert_evidence(uuid, text) exists');
select ok(not has_function_privilege('anon', 'benchwatch_private.paired_alert_evidence(uuid, text)', 'execute')
          and not has_function_privilege('authenticated', 'benchwatch_private.paired_alert_evidence(uuid, text)', 'execute')
          and not has_function_privilege('service_role', 'benchwatch_private.paired_alert_evidence(uuid, text)', 'execute'),
  'paired_alert_evidence is executable only by its owner (claim_alert_events, a security definer, calls it)');

-- 2. Which slice is the worst, on paired_results rows written by hand for runs that do not
--    exist (the table has no foreign key; only the rows matter here).
create temp table fake (name text primary key, tx uuid not null default gen_random_uuid());
insert into fake (name) values ('slices'), ('ties'), ('overall only'), ('unlabelled');
create function pg_temp.pr(p_fake text, p_slice text, p_worse int, p_better int, p_q float8, p_n int default 50)
returns void language sql as $$
  insert into benchwatch_private.paired_results (transaction_id, baseline_transaction_id, metric_name, slice,
    kind, direction, n_both, worse, better, p_value, q_value)
  select f.tx, gen_random_uuid(), 'f1', p_slice, 'binary', 'higher', p_n, p_worse, p_better, p_q / 2, p_q
  from fake f where f.name = p_fake
$$;
select pg_temp.pr('slices', null, 20, 8, 0.02, 200);
select pg_temp.pr('slices', 'a-big', 10, 6, 0.6);      -- most examples worse, but weak evidence
select pg_temp.pr('slices', 'm-better', 1, 5, 0.01);   -- smallest q, but more examples better
select pg_temp.pr('slices', 'z-small', 6, 0, 0.09);    -- the smallest q among the worse ones
select pg_temp.pr('ties', null, 20, 8, 0.02, 200);
select pg_temp.pr('ties', 'a', 4, 1, 0.3);
select pg_temp.pr('ties', 'b', 6, 1, 0.3);             -- same q, larger worse - better
select pg_temp.pr('overall only', null, 12, 2, 0.04, 200);
select pg_temp.pr('unlabelled', null, 12, 2, 0.04, 200);
select pg_temp.pr('unlabelled', '', 9, 0, 0.05);
select pg_temp.pr('unlabelled', 'receipts', 3, 2, 0.9);

select is(
  (select benchwatch_private.paired_alert_evidence(tx, 'f1') -> 'worst_slice' ->> 'slice' from fake where name = 'slices'),
  'z-small',
  'the worst slice has the smallest q among slices with more examples worse than better (not the most worse, not one mostly better)');
select is(
  (select benchwatch_private.paired_alert_evidence(tx, 'f1') -> 'worst_slice' ->> 'slice' from fake where name = 'ties'),
  'b', 'on equal q, the slice with the larger worse - better is the worst');
select is(
  (select benchwatch_private.paired_alert_evidence(tx, 'f1') from fake where name = 'overall only'),
  '{"n_both": 200, "worse": 12, "better": 2, "p_value": 0.02, "q_value": 0.04, "worst_slice": null}'::jsonb,
  'without slices: the overall comparison and worst_slice null');
select is(
  (select benchwatch_private.paired_alert_evidence(tx, 'f1') -> 'worst_slice' from fake where name = 'unlabelled'),
  '{"slice": "", "n_both": 50, "worse": 9, "better": 0, "p_value": 0.025, "q_value": 0.05}'::jsonb,
  'the unlabelled examples ('''') can be the worst slice');
select ok(
  (select benchwatch_private.paired_alert_evidence(tx, 'precision') is null
          and benchwatch_private.paired_alert_evidence(gen_random_uuid(), 'f1') is null
   from fake where name = 'slices'),
  'null for a metric or a run without paired rows');

-- 3. Through record_run and claim_alert_events. Only this file's events are due.
update regression_alerts set opened_delivery_status = 'sent' where opened_delivery_status in ('pending', 'failed');
update regression_alerts set resolved_delivery_status = 'sent' where resolved_delivery_status in ('pending', 'failed');
-- The immediate policy lets precision (no examples) open by the history rule in the same run,
-- and one run back resolve; f1's opening is the paired rule's either way.
select tests.use_immediate_alert_policy();

-- 200 examples: 1-60 are invoices, 61-200 receipts. The baseline gets 21 wrong (f1 0.895);
-- the candidate loses 1-9 (invoices) and 61-63 (receipts) and gains 10 and 64: 12 worse,
-- 2 better of 200 (f1 0.845); invoices 9 worse, 1 better of 60; receipts 3 worse, 1 better.
create function pg_temp.examples(p_wrong int[]) returns jsonb language sql immutable as $$
  select jsonb_agg(jsonb_build_object(
    'id', 'doc-' || lpad(i::text, 4, '0'),
    'slice', case when i <= 60 then 'invoices' else 'receipts' end,
    'scores', jsonb_build_object('f1', case when i = any (p_wrong) then 0 else 1 end)) order by i)
  from generate_series(1, 200) as i
$$;
create function pg_temp.pa_run(p_model text, p_commit text, p_f1 numeric, p_precision numeric, p_examples jsonb)
returns uuid language sql as $$
  select tests.run_id(p_model, jsonb_build_object('f1', p_f1, 'precision', p_precision),
    jsonb_strip_nulls(jsonb_build_object('commit_sha', p_commit, 'environment', 'pa-env', 'examples', p_examples)))
$$;
create temp table base_wrong as
  select array[10, 64] || array(select generate_series(181, 199)) as w;
create temp table cand_wrong as
  select array(select generate_series(1, 9)) || array[61, 62, 63] || array(select generate_series(181, 199)) as w;

select public.pin_baseline(pg_temp.pa_run('pa-model', 'pa-base', 0.895, 0.91, pg_temp.examples(w))) from base_wrong;
select pg_temp.pa_run('pa-model', 'pa-cand', 0.845, 0.85, pg_temp.examples(w)) as cand from cand_wrong \gset

create temp table claims (step text primary key, answer jsonb);
insert into claims select 'opened', g from jsonb_array_elements(benchwatch_private.claim_alert_events()) as g
  where g ->> 'transaction_id' = :'cand';

-- BH over the run's comparisons that can be discoveries: receipts' 4 flips cannot reach
-- p <= 0.05 (2 * 0.5^4 = 0.125), so it stays out (q = 1). p = (0.012939453125 overall,
-- 0.021484375 invoices), m = 2: 2p/rank = 0.02587890625, 0.021484375 -> cumulative minimum
-- from the largest rank down: q = 0.021484375 for both.
select is(
  (select m -> 'paired' from claims, jsonb_array_elements(answer -> 'metrics') as m
   where step = 'opened' and m ->> 'metric' = 'f1'),
  '{"n_both": 200, "worse": 12, "better": 2, "p_value": 0.012939453125, "q_value": 0.021484375,
    "worst_slice": {"slice": "invoices", "n_both": 60, "worse": 9, "better": 1,
                    "p_value": 0.021484375, "q_value": 0.021484375}}'::jsonb,
  'the opened f1 event carries the paired evidence: 12 worse, 2 better of 200 (p 0.0129, q 0.0215), worst slice invoices');
select is(
  (select (m - 'paired') from claims, jsonb_array_elements(answer -> 'metrics') as m
   where step = 'opened' and m ->> 'metric' = 'f1'),
  '{"metric": "f1", "direction": "higher_is_better", "baseline": 0.895, "current": 0.845,
    "relative_change": -0.055866, "severity": "minor"}'::jsonb,
  'the other keys of the f1 event are as before');
select is(
  (select m from claims, jsonb_array_elements(answer -> 'metrics') as m
   where step = 'opened' and m ->> 'metric' = 'precision'),
  '{"metric": "precision", "direction": "higher_is_better", "baseline": 0.91, "current": 0.85,
    "relative_change": -0.065934, "severity": "minor"}'::jsonb,
  'precision (no examples) opened in the same run and its event has no "paired" key');
select is((select jsonb_array_length(answer -> 'metrics') from claims where step = 'opened'), 2,
  'one group for the run, with f1 and precision');

-- The alert list (the dashboard's Regressions view) names the same evidence, by alert.
select results_eq(
  $$select a ->> 'metric_name', a -> 'paired', a ->> 'opened_transaction_id'
    from jsonb_array_elements(benchwatch_private.list_alerts('{"model_version": "pa-model"}') -> 'alerts') as a
    order by 1$$,
  format($$values ('f1'::text, '{"n_both": 200, "worse": 12, "better": 2, "p_value": 0.012939453125,
                             "q_value": 0.021484375}'::jsonb, %L::text),
                  ('precision', 'null'::jsonb, %L)$$, :'cand', :'cand'),
  'list_alerts gives f1''s alert its opening run''s paired evidence, and precision''s null');

-- The recovery: the candidate's examples back to the baseline's.
select benchwatch_private.complete_alert_events(
  (select array_agg(x::uuid) from claims, jsonb_array_elements_text(answer -> 'alert_ids') as x where step = 'opened'),
  'regressed', 'sent');
select pg_temp.pa_run('pa-model', 'pa-back', 0.895, 0.91, pg_temp.examples(w)) as back from base_wrong \gset
select is((select count(*)::int from benchwatch_private.paired_results where transaction_id = :'back'::uuid and slice is null), 1,
  'the recovering run has paired rows of its own (0 worse, 0 better)');
insert into claims select 'recovered', g from jsonb_array_elements(benchwatch_private.claim_alert_events()) as g
  where g ->> 'transaction_id' = :'back';
select is((select answer ->> 'kind' from claims where step = 'recovered'), 'recovered', 'f1 and precision recovered on that run');
select is(
  (select count(*)::int from claims, jsonb_array_elements(answer -> 'metrics') as m where step = 'recovered' and m ? 'paired'),
  0, 'a recovered event names no paired evidence');

-- A series without examples: its opened events are as before, without "paired".
select public.pin_baseline(pg_temp.pa_run('pa-plain', 'pl-base', 0.895, 0.91, null));
select pg_temp.pa_run('pa-plain', 'pl-cand', 0.845, 0.85, null) as plain \gset
insert into claims select 'plain', g from jsonb_array_elements(benchwatch_private.claim_alert_events()) as g
  where g ->> 'transaction_id' = :'plain';
select is(
  (select array_agg(m ->> 'metric' order by m ->> 'metric') from claims, jsonb_array_elements(answer -> 'metrics') as m
   where step = 'plain' and not m ? 'paired'),
  array['f1', 'precision'], 'a run without examples: every opened event is without "paired"');

select * from finish();
rollback;
