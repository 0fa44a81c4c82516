CREATE OR REPLACE FUNCTION benchwatch_private.paired_answer (
  p_answer jsonb
)
  RETURNS jsonb
  LANGUAGE plpgsql
  STABLE
  SET search_path TO ''
  AS $function$
declare
  v_paired jsonb := benchwatch_private.paired_json((p_answer ->> 'transaction_id')::uuid);
begin
  if v_paired is null then
    return p_answer;
  end if;
  -- Each metric's verdict gains its overall paired comparison (slice null) as "paired"; the
  -- top-level "paired" keeps every metric x slice row.
  return p_answer || pg_catalog.jsonb_build_object(
    'paired', v_paired,
    'metrics', coalesce((
      select pg_catalog.jsonb_agg(
               case when o.paired is null then m.v
                    else m.v || pg_catalog.jsonb_build_object('paired', o.paired) end
               order by m.i)
      from pg_catalog.jsonb_array_elements(p_answer -> 'metrics') with ordinality as m(v, i)
      left join lateral (
        select pg_catalog.jsonb_build_object(
                 'kind', x.r -> 'kind', 'n_both', x.r -> 'n_both', 'worse', x.r -> 'worse',
                 'better', x.r -> 'better', 'mean_diff', x.r -> 'mean_diff',
                 'ci_low', x.r -> 'ci_low', 'ci_high', x.r -> 'ci_high',
                 'p_value', x.r -> 'p_value', 'q_value', x.r -> 'q_value') as paired
        from pg_catalog.jsonb_array_elements(v_paired) as x(r)
        where x.r ->> 'metric_name' = m.v ->> 'metric_name'
          and pg_catalog.jsonb_typeof(x.r -> 'slice') = 'null'
      ) as o on true), p_answer -> 'metrics'));
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."paired_answer"(jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."paired_answer"(jsonb) IS 'A run''s answer with its paired comparison added as "paired" (paired_json: every metric x slice row) and, in each compared metric''s verdict, its overall row as "paired" (kind, n_both, worse, better, mean_diff, ci_low, ci_high, p_value, q_value); unchanged when it has none.';

REVOKE ALL ON FUNCTION "benchwatch_private"."paired_answer"(jsonb) FROM PUBLIC;
