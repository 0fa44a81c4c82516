CREATE OR REPLACE FUNCTION benchwatch_private.paired_compare (
  p_tx_id      uuid,
  p_base_tx_id uuid,
  p_metric     text,
  p_direction  text
)
  RETURNS TABLE (
    slice     text,
    kind      text,
    n_both    integer,
    worse     integer,
    better    integer,
    mean_diff numeric,
    ci_low    numeric,
    ci_high   numeric,
    p_value   double precision
  )
  LANGUAGE plpgsql
  STABLE
  ROWS 10
  SET search_path TO ''
  AS $function$
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
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."paired_compare"(uuid, uuid, text, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."paired_compare"(uuid, uuid, text, text) IS 'Paired comparison of one metric of a run with a baseline run on the examples both scored (joined by id), overall (slice null) and per slice of the run ('''' for unlabelled examples): n_both, worse and better by the direction, mean difference run - baseline with a 95% Wald interval, and the exact two-sided binomial p-value on worse vs better (McNemar''s exact test for binary outcomes, the sign test for graded ones).';

REVOKE ALL ON FUNCTION "benchwatch_private"."paired_compare"(uuid, uuid, text, text) FROM PUBLIC;
