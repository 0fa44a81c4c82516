-- Per-example results: a run may carry its outcome on each example of its eval set, and a run
-- and its baseline scored on the same examples are compared pair by pair.
--
-- * A run's `examples: [{id, slice?, scores: {metric: n}}]` (at most
--   paired_defaults.max_examples, 10,000 by default; ids unique; score keys must be metrics of
--   the run) are validated by `assert_valid_examples` (BW030-BW032; parse_run calls it and
--   folds the examples into the request hash, not the run's identity) and stored compactly by
--   `store_run_examples`: the eval set's sorted id list (and slice labels) once per distinct
--   list in `benchwatch_private.example_sets`, then one `benchwatch_private.run_examples` row
--   per run and metric holding a bit string for binary (0/1) outcomes or a float8 array for
--   graded ones, aligned to that list. A metric scored on only some examples has a presence
--   bit string.
-- * `paired_compare` compares a run with its baseline run, paired by example id, per metric
--   and per slice: binary outcomes by McNemar's exact test (two-sided binomial test on the
--   discordant pairs), graded outcomes by the exact sign test on the non-zero differences
--   (the same binomial test, `binomial_two_sided_p`, in exact numeric arithmetic); both report
--   n_both, worse, better, the mean difference (run - baseline) and a 95% Wald interval.
--   Within one run every metric x slice comparison gets a Benjamini-Hochberg q-value
--   (`bh_q_values`). The results are kept in `benchwatch_private.paired_results`.
-- * The alert rule for a metric that carries examples in the run and in its baseline
--   (`paired_gate`, called by record_runs on the rows assess_runs produced): the alert opens
--   on the run whose drop is beyond tolerance (compare_runs' is_regression) and whose overall
--   paired comparison is worse with q below `benchwatch_private.paired_defaults.q_level`
--   (0.05); with paired_defaults.confirmation_runs k > 1 (default 1), the series' k - 1
--   previous runs must also have been beyond tolerance with more examples worse than better.
--   For those metrics this replaces the noise-aware history rule's opening, and the history
--   rule does not resolve their alert while the paired comparison still says worse; metrics
--   without examples (latency, cost, runs without examples) keep the history rule alone. A
--   run's answer carries its paired rows as "paired" (`paired_answer`, `paired_json`).
-- * `run_examples_json`: the Examples view of a run against its baseline (the read API).

create table benchwatch_private.paired_defaults (
  id           boolean not null default true primary key,
  q_level      numeric not null default 0.05,
  max_examples integer not null default 10000,
  confirmation_runs integer not null default 1,
  constraint paired_defaults_one_row check (id),
  constraint paired_defaults_confirmation_runs_valid check (confirmation_runs between 1 and 10),
  constraint paired_defaults_q_level_valid check (q_level > 0 and q_level < 1),
  constraint paired_defaults_max_examples_valid check (max_examples between 1 and 100000)
);
insert into benchwatch_private.paired_defaults default values;
alter table benchwatch_private.paired_defaults enable row level security;
create policy paired_defaults_select_service_role on benchwatch_private.paired_defaults
  for select to service_role using (true);
grant select on table benchwatch_private.paired_defaults to service_role;
comment on table benchwatch_private.paired_defaults is
  'Paired-comparison defaults: q_level 0.05 (a metric with examples opens an alert when its drop is beyond tolerance and its overall paired comparison is worse with a Benjamini-Hochberg q-value below it), max_examples 10,000 per run.';

create table benchwatch_private.example_sets (
  id              bigint generated always as identity primary key,
  ids_hash        bytea  not null unique,
  dataset_version text   not null,
  example_ids     text[] not null,
  slices          text[]
);
alter table benchwatch_private.example_sets enable row level security;
create policy example_sets_select_service_role on benchwatch_private.example_sets
  for select to service_role using (true);
grant select on table benchwatch_private.example_sets to service_role;
comment on table benchwatch_private.example_sets is
  'An eval set''s example ids (sorted, collation C) and their slice labels (aligned; null when no example has one), stored once per distinct list; run_examples rows point here.';

create table benchwatch_private.run_examples (
  transaction_id uuid    not null,
  metric_name    text    not null,
  example_set_id bigint  not null references benchwatch_private.example_sets (id),
  kind           text    not null,
  outcomes       bit varying,
  present        bit varying,
  scores         float8[],
  n              integer not null,
  mean           numeric not null,
  constraint run_examples_pkey primary key (transaction_id, metric_name),
  constraint run_examples_kind_valid check (
    (kind = 'binary' and outcomes is not null and scores is null)
    or (kind = 'graded' and scores is not null and outcomes is null and present is null))
);
create index run_examples_set_idx on benchwatch_private.run_examples (example_set_id);
alter table benchwatch_private.run_examples enable row level security;
create policy run_examples_select_service_role on benchwatch_private.run_examples
  for select to service_role using (true);
grant select on table benchwatch_private.run_examples to service_role;
comment on table benchwatch_private.run_examples is
  'Per-example outcomes of one run and metric, aligned to example_sets.example_ids: a bit per example for binary (0/1) outcomes (present marks the scored ones when not all are), else float8 scores (null where unscored). n and mean are over the scored examples.';

create table benchwatch_private.paired_results (
  transaction_id          uuid    not null,
  baseline_transaction_id uuid    not null,
  metric_name             text    not null,
  slice                   text,
  kind                    text    not null,
  direction               text    not null,
  n_both                  integer not null,
  worse                   integer not null,
  better                  integer not null,
  mean_diff               numeric,
  ci_low                  numeric,
  ci_high                 numeric,
  p_value                 float8  not null,
  q_value                 float8  not null,
  beyond_tolerance        boolean,
  id                      bigint  generated always as identity primary key,
  constraint paired_results_key unique nulls not distinct (transaction_id, metric_name, slice)
);
alter table benchwatch_private.paired_results enable row level security;
create policy paired_results_select_service_role on benchwatch_private.paired_results
  for select to service_role using (true);
grant select on table benchwatch_private.paired_results to service_role;
comment on table benchwatch_private.paired_results is
  'A run''s paired comparison with its baseline run, per metric and slice (null = all examples): n_both examples scored in both, worse / better by the metric''s direction, mean difference (run - baseline) with a 95% Wald interval, the exact two-sided p-value (McNemar for binary outcomes, sign test for graded) and the Benjamini-Hochberg q-value over all of the run''s rows.';

-- Exact two-sided binomial test at 1/2 on the discordant pairs ------------------------------
create function benchwatch_private.binomial_two_sided_p(p_worse integer, p_better integer)
  returns numeric
  language plpgsql
  immutable
  strict
  set search_path = ''
as $$
declare
  v_n integer := p_worse + p_better;
  v_k integer := least(p_worse, p_better);
  v_term numeric := 1;
  v_sum numeric := 1;
begin
  if p_worse < 0 or p_better < 0 then
    raise exception using errcode = '22023',
      message = 'Cannot compute the binomial p-value: counts must not be negative';
  end if;
  if 2 * v_k = v_n then
    return 1;
  end if;
  -- sum_{i<=k} C(n, i), each term exact: C(n, i+1) = C(n, i) * (n - i) / (i + 1) divides.
  for v_i in 0 .. v_k - 1 loop
    v_term := pg_catalog.div(v_term * (v_n - v_i), v_i + 1);
    v_sum := v_sum + v_term;
  end loop;
  return least(1::numeric, 2 * v_sum / (2::numeric ^ v_n));
end
$$;
revoke all on function benchwatch_private.binomial_two_sided_p(integer, integer) from public;
grant execute on function benchwatch_private.binomial_two_sided_p(integer, integer) to postgres, service_role;
comment on function benchwatch_private.binomial_two_sided_p(integer, integer) is
  'Exact two-sided binomial test at p = 1/2 on worse vs better discordant pairs (McNemar''s exact test; the sign test): min(1, 2 * sum_{i<=min} C(n, i) / 2^n), 1 when they are equal. Exact numeric arithmetic; scipy.stats.binomtest(k, n, 0.5) gives the same.';

-- Benjamini-Hochberg q-values ----------------------------------------------------------------
create function benchwatch_private.bh_q_values(p_values float8[])
  returns float8[]
  language sql
  immutable
  strict
  set search_path = ''
as $$
  -- q_(i) = min over j >= i of min(1, m * p_(j) / j), p sorted ascending; returned in input order.
  select coalesce(pg_catalog.array_agg(q.q order by q.pos), '{}')
  from (
    select s.pos,
           least(1::float8, pg_catalog.min(s.p * s.m / s.rnk) over (
             order by s.rnk desc rows between unbounded preceding and current row)) as q
    from (
      select u.pos, u.p, pg_catalog.count(*) over () as m,
             pg_catalog.row_number() over (order by u.p, u.pos) as rnk
      from pg_catalog.unnest(p_values) with ordinality as u(p, pos)
    ) as s
  ) as q
$$;
revoke all on function benchwatch_private.bh_q_values(float8[]) from public;
grant execute on function benchwatch_private.bh_q_values(float8[]) to postgres, service_role;
comment on function benchwatch_private.bh_q_values(float8[]) is
  'Benjamini-Hochberg adjusted p-values (q-values), in input order: q_(i) = min over j >= i of min(1, m p_(j) / j) with p ascending (R''s p.adjust(p, "BH")).';

-- Validation -----------------------------------------------------------------------------------
create function benchwatch_private.assert_valid_examples(p_examples jsonb, p_metrics jsonb)
  returns void
  language plpgsql
  stable
  set search_path = ''
as $$
declare
  v_max integer := (select d.max_examples from benchwatch_private.paired_defaults d);
  v_n integer;
  v_bad record;
begin
  if p_examples is null or pg_catalog.jsonb_typeof(p_examples) = 'null' then
    return;
  end if;
  if pg_catalog.jsonb_typeof(p_examples) <> 'array' then
    raise exception using
      errcode = 'BW030',
      message = 'Cannot record run: examples must be an array of {id, slice, scores} objects',
      detail = pg_catalog.format('got %s', pg_catalog.jsonb_typeof(p_examples));
  end if;
  v_n := pg_catalog.jsonb_array_length(p_examples);
  if v_n < 1 or v_n > v_max then
    raise exception using
      errcode = 'BW030',
      message = pg_catalog.format('Cannot record run: send 1 to %s examples per run', v_max),
      detail = pg_catalog.format('got %s', v_n),
      hint = 'Leave examples out, or record the eval set in several datasets.';
  end if;

  select e.i - 1 as idx, e.v into v_bad
  from pg_catalog.jsonb_array_elements(p_examples) with ordinality as e(v, i)
  where pg_catalog.jsonb_typeof(e.v) <> 'object'
     or pg_catalog.jsonb_typeof(e.v -> 'id') is distinct from 'string'
     or pg_catalog.length(pg_catalog.btrim(e.v ->> 'id')) not between 1 and 200
     or coalesce(pg_catalog.jsonb_typeof(e.v -> 'slice'), 'null') not in ('null', 'string')
     or pg_catalog.length(e.v ->> 'slice') > 200
     or pg_catalog.jsonb_typeof(e.v -> 'scores') is distinct from 'object'
     or e.v -> 'scores' = '{}'::jsonb
     or exists (select 1 from pg_catalog.jsonb_object_keys(e.v) as k(key)
                where k.key not in ('id', 'slice', 'scores'))
     or exists (select 1 from pg_catalog.jsonb_each(e.v -> 'scores') as s(key, value)
                where pg_catalog.jsonb_typeof(s.value) <> 'number')
  order by e.i
  limit 1;
  if found then
    raise exception using
      errcode = 'BW030',
      message = pg_catalog.format(
        'Cannot record run: examples[%s] must be {"id": text of 1 to 200 characters, "slice": optional text, "scores": {metric: number, ...}}',
        v_bad.idx),
      detail = pg_catalog.format('got %s', pg_catalog.left(v_bad.v::text, 200));
  end if;

  select e.v ->> 'id' as id, pg_catalog.count(*) as n into v_bad
  from pg_catalog.jsonb_array_elements(p_examples) as e(v)
  group by e.v ->> 'id'
  having pg_catalog.count(*) > 1
  order by 1
  limit 1;
  if found then
    raise exception using
      errcode = 'BW031',
      message = pg_catalog.format('Cannot record run: example id "%s" appears %s times', v_bad.id, v_bad.n),
      hint = 'Give every example of a run its own id.';
  end if;

  select s.key into v_bad
  from pg_catalog.jsonb_array_elements(p_examples) as e(v)
  cross join lateral pg_catalog.jsonb_object_keys(e.v -> 'scores') as s(key)
  where not (p_metrics ? s.key)
  order by 1
  limit 1;
  if found then
    raise exception using
      errcode = 'BW032',
      message = pg_catalog.format('Cannot record run: examples score metric "%s", which is not in metrics', v_bad.key),
      hint = 'Score examples only on metrics the run reports, or add the metric''s aggregate to metrics.';
  end if;
end
$$;
revoke all on function benchwatch_private.assert_valid_examples(jsonb, jsonb) from public;
grant execute on function benchwatch_private.assert_valid_examples(jsonb, jsonb) to postgres, service_role;
comment on function benchwatch_private.assert_valid_examples(jsonb, jsonb) is
  'Validates a run''s examples against its metrics: an array of 1 to paired_defaults.max_examples {id, slice?, scores} objects (BW030), unique ids (BW031), score keys that are metrics of the run (BW032). JSON numbers are always finite.';

-- Storage ------------------------------------------------------------------------------------
create function benchwatch_private.store_run_examples(p_tx_id uuid, p_dataset_version text, p_examples jsonb)
  returns void
  language plpgsql
  volatile
  set search_path = ''
as $$
declare
  v_ids text[];
  v_slices text[];
  v_hash bytea;
  v_set bigint;
begin
  select pg_catalog.array_agg(e.v ->> 'id' order by (e.v ->> 'id') collate "C"),
         case when pg_catalog.bool_or(e.v ->> 'slice' is not null)
              then pg_catalog.array_agg(e.v ->> 'slice' order by (e.v ->> 'id') collate "C") end
  into v_ids, v_slices
  from pg_catalog.jsonb_array_elements(p_examples) as e(v);

  v_hash := pg_catalog.sha256(pg_catalog.convert_to(
    pg_catalog.jsonb_build_array(p_dataset_version, v_ids, v_slices)::text, 'UTF8'));
  insert into benchwatch_private.example_sets (ids_hash, dataset_version, example_ids, slices)
  values (v_hash, p_dataset_version, v_ids, v_slices)
  on conflict (ids_hash) do nothing
  returning id into v_set;
  if v_set is null then
    select s.id into v_set from benchwatch_private.example_sets s where s.ids_hash = v_hash;
  end if;

  insert into benchwatch_private.run_examples (
    transaction_id, metric_name, example_set_id, kind, outcomes, present, scores, n, mean)
  select p_tx_id, m.metric, v_set,
         case when m.is_binary then 'binary' else 'graded' end,
         case when m.is_binary then m.bits::bit varying end,
         case when m.is_binary and m.n < pg_catalog.cardinality(v_ids) then m.present::bit varying end,
         case when not m.is_binary then m.vals end,
         m.n, m.mean
  from (
    select k.metric,
           pg_catalog.bool_and(x.val in (0, 1)) as is_binary,
           pg_catalog.string_agg(case when x.val = 1 then '1' else '0' end, '' order by x.id collate "C") as bits,
           pg_catalog.string_agg(case when x.val is null then '0' else '1' end, '' order by x.id collate "C") as present,
           pg_catalog.array_agg(x.val order by x.id collate "C") as vals,
           pg_catalog.count(x.val)::integer as n,
           pg_catalog.avg(x.num) as mean
    from (select distinct s.key as metric
          from pg_catalog.jsonb_array_elements(p_examples) as e(v)
          cross join lateral pg_catalog.jsonb_object_keys(e.v -> 'scores') as s(key)) as k
    cross join lateral (
      select e.v ->> 'id' as id, (e.v -> 'scores' ->> k.metric)::float8 as val,
             (e.v -> 'scores' ->> k.metric)::numeric as num
      from pg_catalog.jsonb_array_elements(p_examples) as e(v)
    ) as x
    group by k.metric
  ) as m;
end
$$;
revoke all on function benchwatch_private.store_run_examples(uuid, text, jsonb) from public;
grant execute on function benchwatch_private.store_run_examples(uuid, text, jsonb) to postgres, service_role;
comment on function benchwatch_private.store_run_examples(uuid, text, jsonb) is
  'Stores a validated run''s examples: the sorted id list (and slices) in example_sets once per distinct list, then one run_examples row per scored metric (a bit string when every score is 0 or 1, else float8 scores), aligned to that list.';

create function benchwatch_private.example_values(p_tx_id uuid, p_metric text)
  returns table (example_id text, slice text, value float8)
  language sql
  stable
  set search_path = ''
as $$
  -- One unnest over the arrays: a subscript per row would detoast them once per example.
  select u.id, u.slice, case when r.kind = 'binary' then u.bit::float8 else u.score end
  from benchwatch_private.run_examples r
  join benchwatch_private.example_sets s on s.id = r.example_set_id
  cross join lateral rows from (
    pg_catalog.unnest(s.example_ids), pg_catalog.unnest(s.slices), pg_catalog.unnest(r.scores),
    pg_catalog.unnest(pg_catalog.string_to_array(r.outcomes::text, null)),
    pg_catalog.unnest(pg_catalog.string_to_array(r.present::text, null))) as u(id, slice, score, bit, present)
  where r.transaction_id = p_tx_id and r.metric_name = p_metric
    and case when r.kind = 'binary' then coalesce(u.present, '1') = '1' else u.score is not null end
$$;
revoke all on function benchwatch_private.example_values(uuid, text) from public;
grant execute on function benchwatch_private.example_values(uuid, text) to postgres, service_role;
comment on function benchwatch_private.example_values(uuid, text) is
  'The scored examples of one run and metric, unpacked from run_examples: id, slice, value.';

-- The paired comparison ---------------------------------------------------------------------
create function benchwatch_private.paired_compare(p_tx_id uuid, p_base_tx_id uuid, p_metric text, p_direction text)
  returns table (
    slice     text,
    kind      text,
    n_both    integer,
    worse     integer,
    better    integer,
    mean_diff numeric,
    ci_low    numeric,
    ci_high   numeric,
    p_value   float8
  )
  language plpgsql
  stable
  rows 10
  set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  with pairs as (
    select c.slice, c.value - b.value as d,
           case when p_direction = 'lower' then b.value - c.value else c.value - b.value end as gain
    from benchwatch_private.example_values(p_tx_id, p_metric) as c
    join benchwatch_private.example_values(p_base_tx_id, p_metric) as b on b.example_id = c.example_id
  ),
  kinds as (
    select case when pg_catalog.count(*) filter (where r.kind = 'graded') > 0 then 'graded' else 'binary' end as kind
    from benchwatch_private.run_examples r
    where r.metric_name = p_metric and r.transaction_id in (p_tx_id, p_base_tx_id)
  ),
  agg as (
    select case when grouping(p.slice) = 1 then null else coalesce(p.slice, '') end as slice,
           grouping(p.slice) = 1 as overall,
           pg_catalog.count(*)::integer as n,
           (pg_catalog.count(*) filter (where p.gain < 0))::integer as worse,
           (pg_catalog.count(*) filter (where p.gain > 0))::integer as better,
           pg_catalog.avg(p.d) as mean_diff,
           pg_catalog.stddev_samp(p.d) as sd
    from pairs p
    group by grouping sets ((), (p.slice))
  )
  select a.slice, k.kind, a.n, a.worse, a.better,
         pg_catalog.round(a.mean_diff::numeric, 10),
         pg_catalog.round((a.mean_diff - 1.959963984540054 * coalesce(a.sd, 0) / pg_catalog.sqrt(a.n))::numeric, 10),
         pg_catalog.round((a.mean_diff + 1.959963984540054 * coalesce(a.sd, 0) / pg_catalog.sqrt(a.n))::numeric, 10),
         benchwatch_private.binomial_two_sided_p(a.worse, a.better)::float8
  from agg a
  cross join kinds k
  -- Slices only when the run has any labels; the overall row always (when any pair exists).
  where a.n > 0 and (a.overall or exists (select 1 from pairs x where x.slice is not null))
  order by a.overall desc, a.slice;
end
$$;
revoke all on function benchwatch_private.paired_compare(uuid, uuid, text, text) from public;
grant execute on function benchwatch_private.paired_compare(uuid, uuid, text, text) to postgres, service_role;
comment on function benchwatch_private.paired_compare(uuid, uuid, text, text) is
  'Paired comparison of one metric of a run with a baseline run on the examples both scored (joined by id), overall (slice null) and per slice of the run ('''' for unlabelled examples): n_both, worse and better by the direction, mean difference run - baseline with a 95% Wald interval, and the exact two-sided binomial p-value on worse vs better (McNemar''s exact test for binary outcomes, the sign test for graded ones).';

-- The detection hook ------------------------------------------------------------------------
create function benchwatch_private.paired_gate(
  p_round benchwatch_private.run_input[],
  p_items benchwatch_private.run_metric[],
  p_runs  jsonb
)
  returns benchwatch_private.run_metric[]
  language plpgsql
  volatile
  set search_path = ''
as $$
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
$$;
revoke all on function benchwatch_private.paired_gate(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb) from public;
grant execute on function benchwatch_private.paired_gate(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb) to postgres, service_role;
comment on function benchwatch_private.paired_gate(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb) is
  'record_runs'' paired-evidence hook, called once per round after assess_runs: stores the round''s examples, compares each run that has them with its baseline run (paired_compare, per metric and slice, BH q-values over the run''s rows, kept in paired_results), and returns the run_metric rows with confirmed_out (and out_of_control) set by the paired rule for the metrics compared: beyond tolerance (is_regression), more worse than better, and q below paired_defaults.q_level. Other rows are returned unchanged.';

create function benchwatch_private.paired_json(p_tx_id uuid)
  returns jsonb
  language sql
  stable
  set search_path = ''
as $$
  select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'metric_name', pr.metric_name, 'slice', pr.slice, 'kind', pr.kind,
           'direction', pr.direction, 'n_both', pr.n_both, 'worse', pr.worse, 'better', pr.better,
           'mean_diff', pr.mean_diff, 'ci_low', pr.ci_low, 'ci_high', pr.ci_high,
           'p_value', pr.p_value, 'q_value', pr.q_value,
           'examples_mean', case when pr.slice is null then re.mean end,
           'examples_n', case when pr.slice is null then re.n end,
           'aggregate_agrees', case when pr.slice is null then
             pg_catalog.abs(re.mean - (t.metrics ->> pr.metric_name)::numeric) <= 0.0005 end)
           order by pr.metric_name, pr.slice nulls first)
  from benchwatch_private.paired_results pr
  left join benchwatch_private.run_examples re
    on re.transaction_id = pr.transaction_id and re.metric_name = pr.metric_name
  left join public.benchmark_transactions t on t.id = pr.transaction_id
  where pr.transaction_id = p_tx_id
$$;
revoke all on function benchwatch_private.paired_json(uuid) from public;
grant execute on function benchwatch_private.paired_json(uuid) to postgres, service_role;
comment on function benchwatch_private.paired_json(uuid) is
  'A run''s paired_results as a JSON array (null when it has none), each overall row with the mean of the run''s example scores and whether it agrees (within 0.0005) with the aggregate the run sent.';

create function benchwatch_private.paired_answer(p_answer jsonb)
  returns jsonb
  language plpgsql
  stable
  set search_path = ''
as $$
declare
  v_paired jsonb := benchwatch_private.paired_json((p_answer ->> 'transaction_id')::uuid);
begin
  if v_paired is null then
    return p_answer;
  end if;
  return p_answer || pg_catalog.jsonb_build_object('paired', v_paired);
end
$$;
revoke all on function benchwatch_private.paired_answer(jsonb) from public;
grant execute on function benchwatch_private.paired_answer(jsonb) to postgres, service_role;
comment on function benchwatch_private.paired_answer(jsonb) is
  'A run''s answer with its paired comparison added as "paired" (paired_json), unchanged when it has none.';


-- The Examples view's read API ----------------------------------------------------------------
create function benchwatch_private.run_examples_json(p_transaction_id uuid, p_filters jsonb)
  returns jsonb
  language plpgsql
  stable
  set search_path = ''
as $$
declare
  v_metric text := nullif(p_filters ->> 'metric', '');
  v_slice text := p_filters ->> 'slice';
  v_change text := coalesce(nullif(p_filters ->> 'change', ''), 'all');
  v_limit integer := coalesce((p_filters ->> 'limit')::integer, 200);
  v_offset integer := coalesce((p_filters ->> 'offset')::integer, 0);
  v_run public.benchmark_transactions;
  v_base uuid;
  v_flipped jsonb;
  v_total integer;
begin
  if v_change not in ('all', 'worse', 'better') or v_limit not between 1 and 1000 or v_offset < 0 then
    raise exception using
      errcode = 'BW020',
      message = 'Cannot read examples: change must be all, worse or better; limit 1 to 1000; offset not negative';
  end if;
  select t.* into v_run from public.benchmark_transactions t where t.id = p_transaction_id;
  if not found then
    return null;
  end if;
  select pr.baseline_transaction_id into v_base
  from benchwatch_private.paired_results pr
  where pr.transaction_id = p_transaction_id
  limit 1;

  with flips as (
    select pr.metric_name, c.example_id, c.slice, b.value as baseline_value, c.value as current_value,
           case when (case when pr.direction = 'lower' then b.value - c.value else c.value - b.value end) < 0
                then 'worse' else 'better' end as change
    from benchwatch_private.paired_results pr
    cross join lateral benchwatch_private.example_values(pr.transaction_id, pr.metric_name) as c
    join benchwatch_private.example_values(pr.baseline_transaction_id, pr.metric_name) as b
      on b.example_id = c.example_id
    where pr.transaction_id = p_transaction_id and pr.slice is null
      and (v_metric is null or pr.metric_name = v_metric)
      and (v_slice is null or coalesce(c.slice, '') = v_slice)
      and c.value <> b.value
  ),
  picked as (
    select f.* from flips f where v_change = 'all' or f.change = v_change
  )
  select (select pg_catalog.count(*)::integer from picked),
         coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                     'metric_name', p.metric_name, 'example_id', p.example_id, 'slice', p.slice,
                     'baseline_value', p.baseline_value, 'current_value', p.current_value,
                     'change', p.change) order by p.change desc, p.metric_name, p.slice, p.example_id)
                   from (select x.* from picked x
                         order by x.change desc, x.metric_name, x.slice, x.example_id
                         limit v_limit offset v_offset) as p), '[]'::jsonb)
  into v_total, v_flipped;

  return pg_catalog.jsonb_build_object(
    'transaction_id', v_run.id,
    'created_at', v_run.created_at,
    'commit_sha', v_run.commit_sha,
    'series', pg_catalog.jsonb_build_object(
      'model_version', v_run.model_version, 'model_provider', v_run.model_provider,
      'dataset_version', v_run.dataset_version, 'prompt_version', v_run.prompt_version,
      'environment', v_run.environment),
    'baseline_transaction_id', v_base,
    'q_level', (select d.q_level from benchwatch_private.paired_defaults d),
    'paired', coalesce(benchwatch_private.paired_json(p_transaction_id), '[]'::jsonb),
    'flipped', v_flipped,
    'total_flipped', v_total,
    'limit', v_limit,
    'offset', v_offset);
end
$$;
revoke all on function benchwatch_private.run_examples_json(uuid, jsonb) from public;
grant execute on function benchwatch_private.run_examples_json(uuid, jsonb) to postgres, service_role;
comment on function benchwatch_private.run_examples_json(uuid, jsonb) is
  'The Examples view of a run against its baseline (GET /benchmarks?view=examples): its paired rows per metric and slice (q-values) and the examples that flipped, filtered by metric, slice ('''' = unlabelled) and change (all, worse, better), limit (200) and offset; null when no run has that id. BW020 on a bad filter.';
