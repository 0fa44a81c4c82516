-- The paired rule, second pass: a discovery in any of a metric's comparisons, a BH family of
-- the comparisons that can be discoveries, and one confirming run since the baseline run.
--
-- Why (per-example corpus, docs/detection.md; chosen on the tuning split, seeds 1-5):
-- - Opening on the first significant run let one-run spikes page: 24 of the first rule's 25
--   false openings on the held-out split were spikes. So the opening now asks, by default
--   (paired_defaults.confirmation_runs 2), for the series' previous run to have been beyond
--   tolerance and worse too. That look-back stops at the baseline run: the first run judged
--   against a baseline (the guide's flow: pin the best model, push a new model's run) has no
--   earlier run to confirm it, and opens alone. The verdict (push, check, the PR comment,
--   --fail-on-regression) is not delayed: it gives the paired result on every run.
-- - On 100-200 examples, most misses and late openings were regressions of one slice whose
--   evidence BH diluted with comparisons that could never be discoveries: a slice with 0-5
--   examples flipped cannot reach p <= 0.05 even alone (the exact test's smallest p-value is
--   2 * 0.5^d), yet each counted in m. Such comparisons now stay out of the family (Tarone's
--   filter, as in Gilbert's BH for discrete tests, which keeps the false discovery rate
--   controlled) and get q = 1; and a discovery, worse, in any of the metric's comparisons
--   (overall or a slice) counts, not only the overall one.
-- Tuning split, <= 500 examples pooled: precision 0.926 / recall 0.875 with the confirmation
-- alone, 0.986 / 0.972 with all three (aggregate rule: 0.943 / 0.694).
--
-- What changes: paired_defaults.confirmation_runs' default (and the seeded row, when it still
-- has the old default 1) becomes 2; benchwatch_private.paired_gate is restated.

alter table benchwatch_private.paired_defaults alter column confirmation_runs set default 2;
update benchwatch_private.paired_defaults set confirmation_runs = 2 where confirmation_runs = 1;
comment on table benchwatch_private.paired_defaults is
  'Paired-comparison defaults: q_level 0.05 (a metric with examples opens an alert when its drop is beyond tolerance and one of its paired comparisons, overall or a slice, is worse with a Benjamini-Hochberg q-value below it; comparisons with too few flipped examples to reach it get q = 1), confirmation_runs 2 (that run and the series'' previous run since the baseline run, when there is one, each beyond tolerance and worse), max_examples 10,000 per run.';

CREATE OR REPLACE FUNCTION benchwatch_private.paired_gate (
  p_round benchwatch_private.run_input[],
  p_items benchwatch_private.run_metric[],
  p_runs  jsonb
)
  RETURNS benchwatch_private.run_metric[]
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_run benchwatch_private.run_input;
  v_any boolean := false;
  v_level numeric := (select d.q_level from benchwatch_private.paired_defaults d);
  v_confirm integer := (select d.confirmation_runs from benchwatch_private.paired_defaults d);
  v_row record;
  v_since record;
begin
  for v_run in select r.* from pg_catalog.unnest(p_round) as r loop
    if pg_catalog.jsonb_typeof(p_runs -> (v_run.ord - 1) -> 'examples') = 'array' then
      perform benchwatch_private.store_run_examples(
        v_run.tx_id, v_run.dataset_version, p_runs -> (v_run.ord - 1) -> 'examples');
      v_any := true;
    end if;
  end loop;
  -- Runs without examples cost nothing more.
  if not v_any then
    return p_items;
  end if;

  with cmp as (
    select i.tx_id, i.baseline_transaction_id, i.metric_name, i.direction, i.is_regression, c.*
    from pg_catalog.unnest(p_items) as i
    cross join lateral benchwatch_private.paired_compare(
      i.tx_id, i.baseline_transaction_id, i.metric_name, i.direction) as c
    where i.baseline_transaction_id is not null and i.current_value is not null
      and i.baseline_value is not null
      and exists (select 1 from benchwatch_private.run_examples r
                  where r.transaction_id = i.tx_id and r.metric_name = i.metric_name)
  ),
  numbered as (
    select c.*, pg_catalog.row_number() over (partition by c.tx_id order by c.metric_name, c.slice nulls first) as pos,
           -- Testable: with d examples flipped, the exact test's smallest p-value is 2 * 0.5^d;
           -- a comparison that cannot reach the level even alone stays out of the family
           -- (Tarone's filter, as in Gilbert's discrete BH) and gets q = 1.
           2 * pg_catalog.power(0.5::float8, c.worse + c.better) <= v_level as testable
    from cmp c
  ),
  q as (
    select g.tx_id, bh.pos, bh.q
    from (select x.tx_id, pg_catalog.array_agg(x.p_value order by x.pos) as ps,
                 pg_catalog.array_agg(x.pos order by x.pos) as poss
          from numbered x where x.testable group by x.tx_id) as g
    cross join lateral rows from (pg_catalog.unnest(benchwatch_private.bh_q_values(g.ps)), pg_catalog.unnest(g.poss)) as bh(q, pos)
  )
  insert into benchwatch_private.paired_results (
    transaction_id, baseline_transaction_id, metric_name, slice, kind, direction, n_both, worse, better,
    mean_diff, ci_low, ci_high, p_value, q_value, beyond_tolerance)
  select n.tx_id, n.baseline_transaction_id, n.metric_name, n.slice, n.kind, n.direction, n.n_both,
         n.worse, n.better, n.mean_diff, n.ci_low, n.ci_high, n.p_value, coalesce(q.q, 1),
         case when n.slice is null then n.is_regression end
  from numbered n
  left join q on q.tx_id = n.tx_id and q.pos = n.pos;

  -- For a metric compared this way, the alert opens when its drop is beyond tolerance and the
  -- paired evidence says worse (q below the level); the history rule's opening does not apply.
  for v_i in 1 .. coalesce(pg_catalog.cardinality(p_items), 0) loop
    -- worse: some comparison of the metric, overall or a slice, is a discovery (q below the
    -- level) with more examples worse than better.
    select pg_catalog.bool_or(pr.worse > pr.better and pr.q_value < v_level) as worse
      into v_row
    from benchwatch_private.paired_results pr
    where pr.transaction_id = p_items[v_i].tx_id and pr.metric_name = p_items[v_i].metric_name;
    if v_row.worse is not null then
      -- With confirmation_runs k > 1, each of the series' previous runs since the baseline run,
      -- up to k - 1 of them, must have been beyond tolerance with more examples worse than
      -- better too: a one-run spike on a series with runs since its baseline never opens. The
      -- look-back never reaches past the baseline run (the comparison is against it), so the
      -- first run judged against a baseline (the guide's flow) opens alone.
      p_items[v_i].confirmed_out := coalesce(p_items[v_i].is_regression, false) and v_row.worse;
      -- The look-back (two reads) only for a run that would open.
      if p_items[v_i].confirmed_out and v_confirm > 1 then
        select b.created_at, b.seq into v_since
        from benchwatch_private.metric_observations b
        where b.transaction_id = p_items[v_i].baseline_transaction_id
          and b.metric_name = p_items[v_i].metric_name;
        p_items[v_i].confirmed_out := (
          select coalesce(pg_catalog.bool_and(coalesce(pr.beyond_tolerance and pr.worse > pr.better, false)), true)
          from (select o.transaction_id
                from benchwatch_private.metric_observations o
                where o.model_version = p_items[v_i].model_version
                  and o.model_provider = p_items[v_i].model_provider
                  and o.dataset_version = p_items[v_i].dataset_version
                  and o.prompt_version = p_items[v_i].prompt_version
                  and o.environment = p_items[v_i].environment
                  and o.metric_name = p_items[v_i].metric_name
                  and o.created_at <= p_items[v_i].created_at
                  and (v_since.created_at is null or (o.created_at, o.seq) > (v_since.created_at, v_since.seq))
                  and o.transaction_id <> p_items[v_i].tx_id
                  and o.transaction_id <> p_items[v_i].baseline_transaction_id
                order by o.created_at desc, o.seq desc
                limit v_confirm - 1) as prev
          left join benchwatch_private.paired_results pr
            on pr.transaction_id = prev.transaction_id and pr.metric_name = p_items[v_i].metric_name
               and pr.slice is null);
      end if;
      p_items[v_i].out_of_control := coalesce(p_items[v_i].out_of_control, false) or p_items[v_i].confirmed_out;
      -- Nor does the history rule resolve an alert while the examples still say worse.
      p_items[v_i].confirmed_back := coalesce(p_items[v_i].confirmed_back, false)
        and not v_row.worse;
    end if;
  end loop;
  return p_items;
end
$function$;

revoke all on function benchwatch_private.paired_gate(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb)
  from public, anon, authenticated, service_role;
grant execute on function benchwatch_private.paired_gate(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb)
  to postgres, service_role;
COMMENT ON FUNCTION "benchwatch_private"."paired_gate"(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb) IS 'record_runs'' paired-evidence hook, called once per round after assess_runs: stores the round''s examples, compares each run that has them with its baseline run (paired_compare, per metric and slice, BH q-values over the run''s rows, kept in paired_results), and returns the run_metric rows with confirmed_out (and out_of_control) set by the paired rule for the metrics compared: beyond tolerance (is_regression), more worse than better, and a worse discovery (q below paired_defaults.q_level, BH over the run''s comparisons that can reach it, the others q = 1) in the metric''s overall or slice comparisons, confirmed (paired_defaults.confirmation_runs, 2) by the series'' previous run since the baseline run when there is one. Other rows are returned unchanged.';
