-- Why: the setup guide archives runs older than a year into
-- `benchmark_transactions_archive`. This migration makes that a table (with
-- RLS, readable like the log), a function that moves the rows in one statement
-- (nothing is lost between the copy and the delete), and a nightly pg_cron job.

create extension if not exists pg_cron;

create table public.benchmark_transactions_archive (
  id uuid not null,
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
  created_at timestamptz not null,
  archived_at timestamptz not null default now(),
  constraint benchmark_transactions_archive_pkey primary key (id)
);

comment on table public.benchmark_transactions_archive is
  'Runs moved out of benchmark_transactions by archive_benchmarks() once older than the retention window; same columns plus archived_at.';

create index benchmark_transactions_archive_series_idx on public.benchmark_transactions_archive
  (model_version, model_provider, dataset_version, prompt_version, environment, created_at desc);
create index benchmark_transactions_archive_created_at_idx on public.benchmark_transactions_archive (created_at);

alter table public.benchmark_transactions_archive enable row level security;

revoke all on table public.benchmark_transactions_archive from public, anon, authenticated, service_role;
grant select on table public.benchmark_transactions_archive to anon, authenticated;
grant select, insert on table public.benchmark_transactions_archive to service_role;

create policy benchmark_transactions_archive_select_anon on public.benchmark_transactions_archive
  for select to anon using (true);
create policy benchmark_transactions_archive_select_authenticated on public.benchmark_transactions_archive
  for select to authenticated using (true);
create policy benchmark_transactions_archive_select_service_role on public.benchmark_transactions_archive
  for select to service_role using (true);
create policy benchmark_transactions_archive_insert_service_role on public.benchmark_transactions_archive
  for insert to service_role with check (true);

create or replace function public.archive_benchmarks(older_than interval default interval '1 year')
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_moved integer;
begin
  if archive_benchmarks.older_than is null or archive_benchmarks.older_than <= interval '0' then
    raise exception using
      errcode = '22023',
      message = 'Cannot archive runs: older_than must be a positive interval such as ''1 year''',
      detail = pg_catalog.format('older_than = %s', coalesce(archive_benchmarks.older_than::text, 'null'));
  end if;

  with moved as (
    delete from public.benchmark_transactions t
    where t.created_at < pg_catalog.now() - archive_benchmarks.older_than
    returning t.*
  )
  insert into public.benchmark_transactions_archive (
    id, commit_sha, branch_name, model_version, model_provider, dataset_version, dataset_size,
    prompt_version, environment, run_id, triggered_by, metrics, duration_seconds, tags, notes,
    created_at, archived_at)
  select m.id, m.commit_sha, m.branch_name, m.model_version, m.model_provider, m.dataset_version,
         m.dataset_size, m.prompt_version, m.environment, m.run_id, m.triggered_by, m.metrics,
         m.duration_seconds, m.tags, m.notes, m.created_at, pg_catalog.now()
  from moved m;

  get diagnostics v_moved = row_count;
  return v_moved;
end
$$;

comment on function public.archive_benchmarks(interval) is
  'Moves runs older than older_than (default 1 year) from benchmark_transactions into benchmark_transactions_archive; returns how many it moved.';

revoke execute on function public.archive_benchmarks(interval) from public, anon, authenticated;
grant execute on function public.archive_benchmarks(interval) to service_role;

select cron.schedule('archive-benchmarks', '30 2 * * *', 'select public.archive_benchmarks()');
