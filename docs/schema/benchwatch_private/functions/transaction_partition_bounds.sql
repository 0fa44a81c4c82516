CREATE OR REPLACE FUNCTION benchwatch_private.transaction_partition_bounds()
  RETURNS TABLE (
    partition_oid oid,
    range_from    timestamp with time zone,
    range_to      timestamp with time zone
  )
  LANGUAGE sql
  STABLE
  SET search_path TO ''
  AS $function$
  select c.oid,
         (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                  'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)'))[1]::timestamptz,
         (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                  'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)'))[2]::timestamptz
  from pg_catalog.pg_inherits i
  join pg_catalog.pg_class c on c.oid = i.inhrelid
  where i.inhparent = 'public.benchmark_transactions'::regclass
    and pg_catalog.pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."transaction_partition_bounds"() TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."transaction_partition_bounds"() IS 'Lists the [from, to) range of each monthly partition of benchmark_transactions.';

REVOKE ALL ON FUNCTION "benchwatch_private"."transaction_partition_bounds"() FROM PUBLIC;
