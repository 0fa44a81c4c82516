-- Schema and partitions: the foundation every other domain builds on.
--
-- * `benchwatch_private`, the schema for internals (helpers, security definer functions,
--   idempotency records, partitions). The Data API does not expose it; anon and authenticated
--   get nothing in it, service_role only the functions granted to it one by one.
-- * `public.benchmark_transactions`, the append-only log of every run, partitioned by month on
--   created_at: its monthly partitions and DEFAULT partition live in `benchwatch_private`, so
--   an insert never fails for want of a partition, whatever its created_at. UPDATE is refused
--   by a trigger; metrics must be an object of finite numbers. Every index on a table a run
--   writes serves a query: a lookup by id uses the primary key (id, created_at), and nothing
--   looks a run up by run_id (its identity is kept in run_identities), so neither has an
--   index of its own.
-- * Partition maintenance: a function that keeps partitions from last month to N months ahead
--   and drains the DEFAULT partition into monthly ones (for backfills), run nightly by the
--   pg_cron job `maintain-benchmark-partitions`.
-- * An event trigger that secures partitions created by hand in `public` (the setup guide's
--   "Add Partitioning" step): RLS on, the API roles' privileges revoked.
--
-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and ALTER DEFAULT PRIVILEGES
-- cannot take that back per schema. So every function and table in these migrations is
-- followed by its own REVOKE from PUBLIC and the API roles, and only then its explicit grants.

CREATE SCHEMA IF NOT EXISTS "benchwatch_private";

COMMENT ON SCHEMA "benchwatch_private" IS 'benchwatch internals: helpers, security definer functions, idempotency records and partitions. Never exposed by the Data API.';

REVOKE ALL ON SCHEMA "benchwatch_private" FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT USAGE ON SCHEMA "benchwatch_private" TO "service_role";

CREATE EXTENSION IF NOT EXISTS "pg_cron";

-- Tables --------------------------------------------------------------------------------------

CREATE TABLE "public"."benchmark_transactions" (
  "id"               uuid                     NOT NULL,
  "commit_sha"       text                     NOT NULL,
  "branch_name"      text,
  "model_version"    text                     NOT NULL,
  "model_provider"   text                     NOT NULL,
  "dataset_version"  text                     NOT NULL,
  "dataset_size"     integer,
  "prompt_version"   text                     NOT NULL,
  "environment"      text                     NOT NULL,
  "run_id"           text,
  "triggered_by"     text,
  "metrics"          jsonb                    NOT NULL,
  "duration_seconds" numeric,
  "tags"             text[]                   NOT NULL,
  "notes"            text,
  "created_at"       timestamp with time zone NOT NULL
) PARTITION BY RANGE (created_at);

ALTER TABLE "public"."benchmark_transactions"
  ENABLE ROW LEVEL SECURITY;

ALTER TABLE "public"."benchmark_transactions"
  ALTER COLUMN "created_at" SET DEFAULT now();

ALTER TABLE "public"."benchmark_transactions"
  ALTER COLUMN "id" SET DEFAULT gen_random_uuid();

ALTER TABLE "public"."benchmark_transactions"
  ALTER COLUMN "tags" SET DEFAULT '{}'::text[];

ALTER TABLE "public"."benchmark_transactions"
  ADD CONSTRAINT "benchmark_transactions_dataset_size_nonnegative" CHECK (((dataset_size IS NULL) OR (dataset_size >= 0)));

ALTER TABLE "public"."benchmark_transactions"
  ADD CONSTRAINT "benchmark_transactions_duration_nonnegative" CHECK (((duration_seconds IS NULL) OR (duration_seconds >= (0)::numeric)));

ALTER TABLE "public"."benchmark_transactions"
  ADD CONSTRAINT "benchmark_transactions_pkey" PRIMARY KEY (id, created_at);

CREATE INDEX benchmark_transactions_commit_sha_idx ON ONLY public.benchmark_transactions USING btree (commit_sha);

CREATE INDEX benchmark_transactions_created_at_idx ON ONLY public.benchmark_transactions USING btree (created_at);

CREATE INDEX benchmark_transactions_series_idx ON ONLY public.benchmark_transactions
  USING btree (model_version, model_provider, dataset_version, prompt_version, environment, created_at DESC);

COMMENT ON COLUMN "public"."benchmark_transactions"."metrics" IS 'Metric name to finite number, e.g. {"f1": 0.895, "latency_ms": 412}.';

COMMENT ON TABLE "public"."benchmark_transactions" IS 'Append-only log of every benchmark run, partitioned by month on created_at; written only through upsert_benchmark_result / the ingest function.';

CREATE TABLE "benchwatch_private"."benchmark_transactions_default" PARTITION OF "public"."benchmark_transactions" DEFAULT;

ALTER TABLE "benchwatch_private"."benchmark_transactions_default"
  ENABLE ROW LEVEL SECURITY;

COMMENT ON TABLE "benchwatch_private"."benchmark_transactions_default" IS 'Catch-all partition for runs whose month has no partition yet; the partition-maintenance job moves them out.';

-- Functions -----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benchwatch_private.metrics_are_valid (
  p_metrics jsonb
)
  RETURNS boolean
  LANGUAGE plpgsql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
begin
  if p_metrics is null or pg_catalog.jsonb_typeof(p_metrics) <> 'object' or p_metrics = '{}'::jsonb then
    return false;
  end if;
  return not exists (
    select 1
    from pg_catalog.jsonb_each(p_metrics) as m(key, value)
    where pg_catalog.jsonb_typeof(m.value) <> 'number');
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."metrics_are_valid"(jsonb) IS 'True when metrics is a non-empty JSON object whose every value is a JSON number; used by a CHECK constraint.';

REVOKE ALL ON FUNCTION "benchwatch_private"."metrics_are_valid"(jsonb) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metrics_are_valid"(jsonb) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.assert_valid_metrics (
  p_metrics jsonb
)
  RETURNS void
  LANGUAGE plpgsql
  IMMUTABLE
  SET search_path TO ''
  AS $function$
declare
  v_key text;
  v_value jsonb;
begin
  if p_metrics is null or pg_catalog.jsonb_typeof(p_metrics) <> 'object' then
    raise exception using
      errcode = 'BW001',
      message = 'Cannot record run: metrics must be a JSON object of metric name to number',
      detail = pg_catalog.format('metrics is %s', coalesce(pg_catalog.jsonb_typeof(p_metrics), 'missing'));
  end if;

  if p_metrics = '{}'::jsonb then
    raise exception using
      errcode = 'BW002',
      message = 'Cannot record run: metrics must not be empty';
  end if;

  for v_key, v_value in
    select m.key, m.value from pg_catalog.jsonb_each(p_metrics) as m(key, value) order by m.key
  loop
    continue when pg_catalog.jsonb_typeof(v_value) = 'number';
    if pg_catalog.jsonb_typeof(v_value) = 'string'
       and (v_value #>> '{}') ~* '^\s*[+-]?(nan|inf|infinity)\s*$' then
      raise exception using
        errcode = 'BW004',
        message = pg_catalog.format('Cannot record run: metric "%s" is not a finite number', v_key),
        detail = pg_catalog.format('value: %s', v_value);
    end if;
    raise exception using
      errcode = 'BW003',
      message = pg_catalog.format('Cannot record run: metric "%s" is not a number', v_key),
      detail = pg_catalog.format('value: %s (JSON %s)', v_value, pg_catalog.jsonb_typeof(v_value));
  end loop;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."assert_valid_metrics"(jsonb) IS 'Raises BW001-BW004 unless metrics is a non-empty JSON object of finite numbers.';

REVOKE ALL ON FUNCTION "benchwatch_private"."assert_valid_metrics"(jsonb) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."assert_valid_metrics"(jsonb) TO "service_role";

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

COMMENT ON FUNCTION "benchwatch_private"."transaction_partition_bounds"() IS 'Lists the [from, to) range of each monthly partition of benchmark_transactions.';

REVOKE ALL ON FUNCTION "benchwatch_private"."transaction_partition_bounds"() FROM PUBLIC, "anon", "authenticated", "service_role";

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

COMMENT ON FUNCTION "benchwatch_private"."create_transaction_partition"(date) IS 'Creates the monthly partition of benchmark_transactions for the month of p_month (UTC) if none covers it, moving waiting rows out of the DEFAULT partition.';

REVOKE ALL ON FUNCTION "benchwatch_private"."create_transaction_partition"(date) FROM PUBLIC, "anon", "authenticated", "service_role";

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

COMMENT ON FUNCTION "benchwatch_private"."maintain_transaction_partitions"(integer) IS 'Creates monthly partitions from last month to p_months_ahead months ahead, and for every month waiting in the DEFAULT partition; returns how many it created.';

REVOKE ALL ON FUNCTION "benchwatch_private"."maintain_transaction_partitions"(integer) FROM PUBLIC, "anon", "authenticated", "service_role";

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

COMMENT ON FUNCTION "benchwatch_private"."tg_secure_public_partitions"() IS 'Event trigger function: enables RLS on, and revokes API-role privileges from, any new partition of benchmark_transactions.';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_secure_public_partitions"() FROM PUBLIC, "anon", "authenticated", "service_role";

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

COMMENT ON FUNCTION "benchwatch_private"."tg_benchmark_transactions__append_only"() IS 'Trigger function that rejects every UPDATE of benchmark_transactions (BW012).';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_benchmark_transactions__append_only"() FROM PUBLIC, "anon", "authenticated", "service_role";

-- Triggers, row level security policies and grants --------------------------------------------

REVOKE ALL ON TABLE "public"."benchmark_transactions" FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE TRIGGER benchmark_transactions_append_only
  BEFORE UPDATE ON public.benchmark_transactions
  FOR EACH ROW
  EXECUTE FUNCTION benchwatch_private.tg_benchmark_transactions__append_only();

CREATE POLICY "benchmark_transactions_delete_service_role" ON "public"."benchmark_transactions"
  FOR DELETE
  TO "service_role"
  USING (true);

CREATE POLICY "benchmark_transactions_select_anon" ON "public"."benchmark_transactions"
  FOR SELECT
  TO "anon"
  USING (true);

CREATE POLICY "benchmark_transactions_select_authenticated" ON "public"."benchmark_transactions"
  FOR SELECT
  TO "authenticated"
  USING (true);

CREATE POLICY "benchmark_transactions_select_service_role" ON "public"."benchmark_transactions"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT SELECT ON TABLE "public"."benchmark_transactions" TO "anon", "authenticated";

GRANT DELETE, SELECT ON TABLE "public"."benchmark_transactions" TO "service_role";

ALTER TABLE "public"."benchmark_transactions"
  ADD CONSTRAINT "benchmark_transactions_metrics_valid" CHECK (benchwatch_private.metrics_are_valid(metrics));

REVOKE ALL ON TABLE "benchwatch_private"."benchmark_transactions_default" FROM PUBLIC, "anon", "authenticated", "service_role";

-- Partitions, job and event trigger -----------------------------------------------------------

SELECT benchwatch_private.maintain_transaction_partitions(12);

SELECT cron.schedule(
  'maintain-benchmark-partitions',
  '15 0 * * *',
  'select benchwatch_private.maintain_transaction_partitions(3)'
);

-- Hosted projects let the postgres role create event triggers (supautils); should a project
-- not allow it, the migration still applies, with a warning, and the pgTAP RLS checks would
-- flag an unsecured hand-made partition.
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
