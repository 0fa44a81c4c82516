CREATE OR REPLACE FUNCTION benchwatch_private.bh_q_values (
  p_values double precision[]
)
  RETURNS double precision[]
  LANGUAGE sql
  IMMUTABLE
  STRICT
  SET search_path TO ''
  AS $function$
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
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."bh_q_values"(double precision[]) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."bh_q_values"(double precision[]) IS 'Benjamini-Hochberg adjusted p-values (q-values), in input order: q_(i) = min over j >= i of min(1, m p_(j) / j) with p ascending (R''s p.adjust(p, "BH")).';

REVOKE ALL ON FUNCTION "benchwatch_private"."bh_q_values"(double precision[]) FROM PUBLIC;
