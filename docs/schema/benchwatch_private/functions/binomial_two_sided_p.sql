CREATE OR REPLACE FUNCTION benchwatch_private.binomial_two_sided_p (
  p_worse  integer,
  p_better integer
)
  RETURNS numeric
  LANGUAGE plpgsql
  IMMUTABLE
  STRICT
  SET search_path TO ''
  AS $function$
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
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."binomial_two_sided_p"(integer, integer) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."binomial_two_sided_p"(integer, integer) IS 'Exact two-sided binomial test at p = 1/2 on worse vs better discordant pairs (McNemar''s exact test; the sign test): min(1, 2 * sum_{i<=min} C(n, i) / 2^n), 1 when they are equal. Exact numeric arithmetic; scipy.stats.binomtest(k, n, 0.5) gives the same.';

REVOKE ALL ON FUNCTION "benchwatch_private"."binomial_two_sided_p"(integer, integer) FROM PUBLIC;
