CREATE OR REPLACE FUNCTION benchwatch_private.tg_benchmark_transactions__append_only()
  RETURNS TRIGGER
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
begin
  raise exception using
    errcode = 'BW012',
    message = 'Cannot update a benchmark run: benchmark_transactions is append-only',
    hint = 'Record a new run with upsert_benchmark_result instead.';
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."tg_benchmark_transactions__append_only"() TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."tg_benchmark_transactions__append_only"() IS 'Trigger function that rejects every UPDATE of benchmark_transactions (BW012).';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_benchmark_transactions__append_only"() FROM PUBLIC;
