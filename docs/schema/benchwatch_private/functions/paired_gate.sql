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
    select c.*, pg_catalog.row_number() over (partition by c.tx_id order by c.metric_name, c.slice nulls first) as pos
    from cmp c
  ),
  q as (
    select n.tx_id, n.pos, bh.q, bh.pos as qpos
    from (select x.tx_id, pg_catalog.array_agg(x.p_value order by x.pos) as ps from numbered x group by x.tx_id) as g
    cross join lateral pg_catalog.unnest(benchwatch_private.bh_q_values(g.ps)) with ordinality as bh(q, pos)
    join numbered n on n.tx_id = g.tx_id and n.pos = bh.pos
  )
  insert into benchwatch_private.paired_results (
    transaction_id, baseline_transaction_id, metric_name, slice, kind, direction, n_both, worse, better,
    mean_diff, ci_low, ci_high, p_value, q_value, beyond_tolerance)
  select n.tx_id, n.baseline_transaction_id, n.metric_name, n.slice, n.kind, n.direction, n.n_both,
         n.worse, n.better, n.mean_diff, n.ci_low, n.ci_high, n.p_value, q.q,
         case when n.slice is null then n.is_regression end
  from numbered n
  join q on q.tx_id = n.tx_id and q.pos = n.pos;

  -- For a metric compared this way, the alert opens when its drop is beyond tolerance and the
  -- paired evidence says worse (q below the level); the history rule's opening does not apply.
  for v_i in 1 .. coalesce(pg_catalog.cardinality(p_items), 0) loop
    select pr.worse, pr.better, pr.q_value into v_row
    from benchwatch_private.paired_results pr
    where pr.transaction_id = p_items[v_i].tx_id and pr.metric_name = p_items[v_i].metric_name
      and pr.slice is null;
    if found then
      -- With confirmation_runs k > 1, the series' k - 1 previous runs must have been beyond
      -- tolerance with more examples worse than better too (a one-run spike never opens).
      p_items[v_i].confirmed_out := coalesce(p_items[v_i].is_regression, false)
        and v_row.worse > v_row.better and v_row.q_value < v_level
        and (v_confirm = 1 or (
          select pg_catalog.count(*) = v_confirm - 1
                 and pg_catalog.bool_and(coalesce(pr.beyond_tolerance and pr.worse > pr.better, false))
          from (select o.transaction_id
                from benchwatch_private.metric_observations o
                where o.model_version = p_items[v_i].model_version
                  and o.model_provider = p_items[v_i].model_provider
                  and o.dataset_version = p_items[v_i].dataset_version
                  and o.prompt_version = p_items[v_i].prompt_version
                  and o.environment = p_items[v_i].environment
                  and o.metric_name = p_items[v_i].metric_name
                  and o.created_at <= p_items[v_i].created_at
                  and o.transaction_id <> p_items[v_i].tx_id
                order by o.created_at desc, o.seq desc
                limit v_confirm - 1) as prev
          left join benchwatch_private.paired_results pr
            on pr.transaction_id = prev.transaction_id and pr.metric_name = p_items[v_i].metric_name
               and pr.slice is null));
      p_items[v_i].out_of_control := coalesce(p_items[v_i].out_of_control, false) or p_items[v_i].confirmed_out;
      -- Nor does the history rule resolve an alert while the examples still say worse.
      p_items[v_i].confirmed_back := coalesce(p_items[v_i].confirmed_back, false)
        and not (v_row.worse > v_row.better and v_row.q_value < v_level);
    end if;
  end loop;
  return p_items;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."paired_gate"(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."paired_gate"(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb) IS 'record_runs'' paired-evidence hook, called once per round after assess_runs: stores the round''s examples, compares each run that has them with its baseline run (paired_compare, per metric and slice, BH q-values over the run''s rows, kept in paired_results), and returns the run_metric rows with confirmed_out (and out_of_control) set by the paired rule for the metrics compared: beyond tolerance (is_regression), more worse than better, and q below paired_defaults.q_level. Other rows are returned unchanged.';

REVOKE ALL ON FUNCTION "benchwatch_private"."paired_gate"(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb) FROM PUBLIC;
