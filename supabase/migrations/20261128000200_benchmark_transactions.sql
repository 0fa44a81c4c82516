-- Why: `benchmark_transactions` is the setup guide's append-only log of every
-- benchmark run. It is range-partitioned by month on created_at so old months
-- can be archived cheaply; the primary key therefore includes created_at.
-- Partitions live in benchwatch_private, so they are never exposed by the Data
-- API on their own. A DEFAULT partition catches any created_at that has no
-- monthly partition yet, so an insert never fails for want of one.
-- Rows are written only through benchwatch_private.record_run (the guide's
-- upsert_benchmark_result and the ingest Edge Function call it), which keeps the
-- snapshots and alerts in step with the log; hence no INSERT grant for the API roles.

-- The table-level safety net for metrics: a non-empty object of JSON numbers.
-- (JSON numbers are always finite; NaN/Infinity can only arrive as strings.)
create or replace function benchwatch_private.metrics_are_valid(p_metrics jsonb)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select p_metrics is not null
     and pg_catalog.jsonb_typeof(p_metrics) = 'object'
     and p_metrics <> '{}'::jsonb
     and not exists (
       select 1
       from pg_catalog.jsonb_each(p_metrics) as m(key, value)
       where pg_catalog.jsonb_typeof(m.value) <> 'number'
     )
$$;

comment on function benchwatch_private.metrics_are_valid(jsonb) is
  'True when metrics is a non-empty JSON object whose every value is a JSON number; used by a CHECK constraint.';

revoke execute on function benchwatch_private.metrics_are_valid(jsonb) from public, anon, authenticated;
grant execute on function benchwatch_private.metrics_are_valid(jsonb) to service_role;

create table public.benchmark_transactions (
  id uuid not null default gen_random_uuid(),
  commit_sha text not null,
  branch_name text,
  model_version text not null,
  model_provider text not null,
  dataset_version text not null,
  dataset_size integer,
  prompt_version text not null,
  environment text not null,
  run_id text,
  triggered_by text,
  metrics jsonb not null,
  duration_seconds numeric,
  tags text[] not null default '{}',
  notes text,
  created_at timestamptz not null default now(),
  constraint benchmark_transactions_pkey primary key (id, created_at),
  constraint benchmark_transactions_metrics_valid check (benchwatch_private.metrics_are_valid(metrics)),
  constraint benchmark_transactions_dataset_size_nonnegative check (dataset_size is null or dataset_size >= 0),
  constraint benchmark_transactions_duration_nonnegative check (duration_seconds is null or duration_seconds >= 0)
) partition by range (created_at);

comment on table public.benchmark_transactions is
  'Append-only log of every benchmark run, partitioned by month on created_at; written only through upsert_benchmark_result / the ingest function.';
comment on column public.benchmark_transactions.metrics is
  'Metric name to finite number, e.g. {"f1": 0.895, "latency_ms": 412}.';

create table benchwatch_private.benchmark_transactions_default
  partition of public.benchmark_transactions default;

comment on table benchwatch_private.benchmark_transactions_default is
  'Catch-all partition for runs whose month has no partition yet; the partition-maintenance job moves them out.';

-- A series is (model_version, model_provider, dataset_version, prompt_version, environment).
create index benchmark_transactions_series_idx on public.benchmark_transactions
  (model_version, model_provider, dataset_version, prompt_version, environment, created_at desc);
create index benchmark_transactions_created_at_idx on public.benchmark_transactions (created_at);
create index benchmark_transactions_id_idx on public.benchmark_transactions (id);
create index benchmark_transactions_run_id_idx on public.benchmark_transactions (run_id) where run_id is not null;

-- Append-only: an UPDATE of a run is always a mistake, whoever makes it.
create or replace function benchwatch_private.tg_benchmark_transactions__append_only()
returns trigger
language plpgsql
volatile
set search_path = ''
as $$
begin
  raise exception using
    errcode = 'BW012',
    message = 'Cannot update a benchmark run: benchmark_transactions is append-only',
    hint = 'Record a new run with upsert_benchmark_result instead.';
end
$$;

comment on function benchwatch_private.tg_benchmark_transactions__append_only() is
  'Trigger function that rejects every UPDATE of benchmark_transactions (BW012).';

revoke execute on function benchwatch_private.tg_benchmark_transactions__append_only() from public, anon, authenticated;

create trigger benchmark_transactions_append_only
  before update on public.benchmark_transactions
  for each row execute function benchwatch_private.tg_benchmark_transactions__append_only();

-- Row level security and explicit privileges.
alter table public.benchmark_transactions enable row level security;
alter table benchwatch_private.benchmark_transactions_default enable row level security;

revoke all on table public.benchmark_transactions from public, anon, authenticated, service_role;
revoke all on table benchwatch_private.benchmark_transactions_default from public, anon, authenticated, service_role;

grant select on table public.benchmark_transactions to anon, authenticated;
-- service_role reads, and may delete a bad run; inserts go through record_run.
grant select, delete on table public.benchmark_transactions to service_role;

create policy benchmark_transactions_select_anon on public.benchmark_transactions
  for select to anon using (true);
create policy benchmark_transactions_select_authenticated on public.benchmark_transactions
  for select to authenticated using (true);
create policy benchmark_transactions_select_service_role on public.benchmark_transactions
  for select to service_role using (true);
create policy benchmark_transactions_delete_service_role on public.benchmark_transactions
  for delete to service_role using (true);
