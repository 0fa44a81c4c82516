-- Why: benchmark_transactions is partitioned by month. This migration creates
-- the monthly partitions (in benchwatch_private, never exposed), a maintenance
-- function that keeps partitions ahead of time and drains the DEFAULT partition
-- into proper monthly partitions (for backfills), and the pg_cron job that runs
-- it nightly. Because the DEFAULT partition exists, an insert never fails for
-- want of a partition, whatever its created_at.
-- It also secures partitions that someone creates by hand in `public` (the setup
-- guide's "Add Partitioning" step does exactly that): an event trigger turns on
-- row level security and revokes the Data API roles' privileges on them.

create extension if not exists pg_cron;

-- The [from, to) bounds of every non-default partition of benchmark_transactions.
create or replace function benchwatch_private.transaction_partition_bounds()
returns table (partition_oid oid, range_from timestamptz, range_to timestamptz)
language sql
stable
set search_path = ''
as $$
  select c.oid,
         (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                  'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)'))[1]::timestamptz,
         (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                  'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)'))[2]::timestamptz
  from pg_catalog.pg_inherits i
  join pg_catalog.pg_class c on c.oid = i.inhrelid
  where i.inhparent = 'public.benchmark_transactions'::regclass
    and pg_catalog.pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
$$;

comment on function benchwatch_private.transaction_partition_bounds() is
  'Lists the [from, to) range of each monthly partition of benchmark_transactions.';

revoke execute on function benchwatch_private.transaction_partition_bounds() from public, anon, authenticated, service_role;

-- Create the partition for the UTC month containing p_month, unless a partition
-- already covers any of that month. Rows of that month waiting in the DEFAULT
-- partition are moved into it. Returns the new partition's name, or null.
create or replace function benchwatch_private.create_transaction_partition(p_month date)
returns text
language plpgsql
volatile
set search_path = ''
as $$
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
$$;

comment on function benchwatch_private.create_transaction_partition(date) is
  'Creates the monthly partition of benchmark_transactions for the month of p_month (UTC) if none covers it, moving waiting rows out of the DEFAULT partition.';

revoke execute on function benchwatch_private.create_transaction_partition(date) from public, anon, authenticated, service_role;

-- Keep partitions from last month to p_months_ahead months ahead, and give every
-- month that has rows in the DEFAULT partition its own partition.
create or replace function benchwatch_private.maintain_transaction_partitions(p_months_ahead integer default 3)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
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
$$;

comment on function benchwatch_private.maintain_transaction_partitions(integer) is
  'Creates monthly partitions from last month to p_months_ahead months ahead, and for every month waiting in the DEFAULT partition; returns how many it created.';

revoke execute on function benchwatch_private.maintain_transaction_partitions(integer) from public, anon, authenticated, service_role;

select benchwatch_private.maintain_transaction_partitions(12);

select cron.schedule(
  'maintain-benchmark-partitions',
  '15 0 * * *',
  'select benchwatch_private.maintain_transaction_partitions(3)'
);

-- Partitions created by hand in public (the guide's "Add Partitioning" step)
-- would otherwise inherit Supabase's default grants to anon and authenticated
-- and be writable around the API. Lock them down the moment they appear.
create or replace function benchwatch_private.tg_secure_public_partitions()
returns event_trigger
language plpgsql
volatile
set search_path = ''
as $$
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
$$;

comment on function benchwatch_private.tg_secure_public_partitions() is
  'Event trigger function: enables RLS on, and revokes API-role privileges from, any new partition of benchmark_transactions.';

revoke execute on function benchwatch_private.tg_secure_public_partitions() from public, anon, authenticated, service_role;

-- Hosted projects let the postgres role create event triggers; should a project
-- not allow it, the migration still applies and the pgTAP RLS checks would flag
-- an unsecured hand-made partition.
do $$
begin
  drop event trigger if exists benchwatch_secure_public_partitions;
  create event trigger benchwatch_secure_public_partitions
    on ddl_command_end
    when tag in ('CREATE TABLE')
    execute function benchwatch_private.tg_secure_public_partitions();
exception
  when insufficient_privilege then
    raise warning 'benchwatch: could not create the event trigger that secures hand-made partitions: %', sqlerrm;
end
$$;
