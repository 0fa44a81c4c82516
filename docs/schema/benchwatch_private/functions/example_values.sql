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
  select s.example_ids[i.i], s.slices[i.i],
         case when r.kind = 'binary' then pg_catalog.get_bit(r.outcomes, i.i - 1)::float8 else r.scores[i.i] end
  from benchwatch_private.run_examples r
  join benchwatch_private.example_sets s on s.id = r.example_set_id
  cross join lateral pg_catalog.generate_series(1, pg_catalog.cardinality(s.example_ids)) as i(i)
  where r.transaction_id = p_tx_id and r.metric_name = p_metric
    and case when r.kind = 'binary' then r.present is null or pg_catalog.get_bit(r.present, i.i - 1) = 1
             else r.scores[i.i] is not null end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."example_values"(uuid, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."example_values"(uuid, text) IS 'The scored examples of one run and metric, unpacked from run_examples: id, slice, value.';

REVOKE ALL ON FUNCTION "benchwatch_private"."example_values"(uuid, text) FROM PUBLIC;
