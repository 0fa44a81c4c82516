CREATE OR REPLACE FUNCTION benchwatch_private.maintain_transaction_partitions (
  p_months_ahead integer DEFAULT 3
)
  RETURNS integer
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_month date;
  v_created integer := 0;
begin
  if p_months_ahead is null or p_months_ahead < 0 or p_months_ahead > 120 then
    raise exception using
      errcode = '22023',
      message = 'Cannot maintain partitions: p_months_ahead must be between 0 and 120',
      detail = pg_catalog.format('p_months_ahead = %s', coalesce(p_months_ahead::text, 'null'));
  end if;

  for v_month in
    select pg_catalog.generate_series(
             pg_catalog.date_trunc('month', pg_catalog.now() at time zone 'UTC') - interval '1 month',
             pg_catalog.date_trunc('month', pg_catalog.now() at time zone 'UTC') + pg_catalog.make_interval(months => p_months_ahead),
             interval '1 month')::date
    union
    select distinct pg_catalog.date_trunc('month', d.created_at at time zone 'UTC')::date
    from benchwatch_private.benchmark_transactions_default d
    order by 1
  loop
    if benchwatch_private.create_transaction_partition(v_month) is not null then
      v_created := v_created + 1;
    end if;
  end loop;
  return v_created;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."maintain_transaction_partitions"(integer) TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."maintain_transaction_partitions"(integer) IS 'Creates monthly partitions from last month to p_months_ahead months ahead, and for every month waiting in the DEFAULT partition; returns how many it created.';

REVOKE ALL ON FUNCTION "benchwatch_private"."maintain_transaction_partitions"(integer) FROM PUBLIC;
