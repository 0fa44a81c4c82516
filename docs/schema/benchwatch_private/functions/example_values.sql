CREATE OR REPLACE FUNCTION benchwatch_private.example_values (
  p_tx_id  uuid,
  p_metric text
)
  RETURNS TABLE (
    example_id text,
    slice      text,
    value      double precision
  )
  LANGUAGE sql
  STABLE
  SET search_path TO ''
  AS $function$
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
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."example_values"(uuid, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."example_values"(uuid, text) IS 'The scored examples of one run and metric, unpacked from run_examples: id, slice, value.';

REVOKE ALL ON FUNCTION "benchwatch_private"."example_values"(uuid, text) FROM PUBLIC;
