CREATE OR REPLACE FUNCTION benchwatch_private.create_transaction_partition (
  p_month date
)
  RETURNS text
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_from timestamptz := (pg_catalog.date_trunc('month', p_month)::timestamp) at time zone 'UTC';
  v_to timestamptz := ((pg_catalog.date_trunc('month', p_month) + interval '1 month')::timestamp) at time zone 'UTC';
  v_name text := 'benchmark_transactions_p' || pg_catalog.to_char(pg_catalog.date_trunc('month', p_month), 'YYYYMM');
begin
  if p_month is null then
    raise exception using errcode = '22023', message = 'Cannot create a partition: p_month must not be null';
  end if;

  if exists (
    select 1 from benchwatch_private.transaction_partition_bounds() b
    where b.range_from < v_to and b.range_to > v_from
  ) then
    return null;
  end if;

  -- Serialise with concurrent maintenance runs.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('benchwatch.partition_maintenance'));

  execute pg_catalog.format(
    'create table benchwatch_private.%I (like public.benchmark_transactions including defaults including constraints)',
    v_name);
  execute pg_catalog.format(
    'with moved as (delete from benchwatch_private.benchmark_transactions_default
                     where created_at >= $1 and created_at < $2 returning *)
     insert into benchwatch_private.%I select * from moved', v_name)
    using v_from, v_to;
  execute pg_catalog.format(
    'alter table public.benchmark_transactions attach partition benchwatch_private.%I for values from (%L) to (%L)',
    v_name, v_from, v_to);
  execute pg_catalog.format('alter table benchwatch_private.%I enable row level security', v_name);
  execute pg_catalog.format('revoke all on table benchwatch_private.%I from public, anon, authenticated, service_role', v_name);
  execute pg_catalog.format('comment on table benchwatch_private.%I is %L', v_name,
    'Monthly partition of benchmark_transactions for ' || pg_catalog.to_char(v_from at time zone 'UTC', 'YYYY-MM') || ' (UTC).');
  return v_name;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."create_transaction_partition"(date) TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."create_transaction_partition"(date) IS 'Creates the monthly partition of benchmark_transactions for the month of p_month (UTC) if none covers it, moving waiting rows out of the DEFAULT partition.';

REVOKE ALL ON FUNCTION "benchwatch_private"."create_transaction_partition"(date) FROM PUBLIC;
