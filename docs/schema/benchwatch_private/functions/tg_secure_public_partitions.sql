CREATE OR REPLACE FUNCTION benchwatch_private.tg_secure_public_partitions()
  RETURNS event_trigger
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_obj record;
begin
  for v_obj in
    select c.objid
    from pg_catalog.pg_event_trigger_ddl_commands() c
    join pg_catalog.pg_class r on r.oid = c.objid
    join pg_catalog.pg_inherits i on i.inhrelid = r.oid
    where c.classid = 'pg_catalog.pg_class'::regclass
      and c.command_tag = 'CREATE TABLE'
      and r.relkind in ('r', 'p')
      and i.inhparent = 'public.benchmark_transactions'::regclass
  loop
    execute pg_catalog.format('alter table %s enable row level security', v_obj.objid::regclass);
    execute pg_catalog.format('revoke all on table %s from public, anon, authenticated, service_role', v_obj.objid::regclass);
  end loop;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."tg_secure_public_partitions"() TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."tg_secure_public_partitions"() IS 'Event trigger function: enables RLS on, and revokes API-role privileges from, any new partition of benchmark_transactions.';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_secure_public_partitions"() FROM PUBLIC;
