-- Why: `benchmark_snapshots` is the setup guide's "latest state per series"
-- table, and also where pinned baselines live.
--
-- How baselines are modelled. A series is (model_version, model_provider,
-- dataset_version, prompt_version, environment). Each series has:
--   * exactly one LATEST row (pinned_at is null, is_baseline = false), which every
--     newer run overwrites; and
--   * at most one BASELINE row (pinned_at is not null, is_baseline = true): a frozen
--     copy of the run that was pinned. Runs never touch it.
-- The guide pins with `update benchmark_snapshots set is_baseline = true where ...`.
-- That UPDATE turns the matched latest row into the frozen baseline row, and an
-- AFTER trigger then puts a fresh latest row (same data) back in its place and
-- removes the series' previous baseline, so a second pin replaces the first.
-- `set is_baseline = false` on a baseline row (or deleting it) unpins.
-- "One baseline per series" is a deferred exclusion constraint, because the
-- guide's UPDATE briefly holds two baselines until the trigger removes the old one.

create table public.benchmark_snapshots (
  id uuid not null default gen_random_uuid(),
  transaction_id uuid not null,
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
  is_active boolean not null default true,
  is_baseline boolean not null default false,
  pinned_at timestamptz,
  updated_at timestamptz not null default now(),
  constraint benchmark_snapshots_pkey primary key (id),
  constraint benchmark_snapshots_metrics_valid check (benchwatch_private.metrics_are_valid(metrics)),
  constraint benchmark_snapshots_one_baseline_per_series
    exclude using btree (model_version with =, model_provider with =, dataset_version with =,
                         prompt_version with =, environment with =)
    where (pinned_at is not null)
    deferrable initially deferred
);

comment on table public.benchmark_snapshots is
  'Latest run per series (pinned_at is null) plus at most one frozen pinned baseline per series (is_baseline = true).';
comment on column public.benchmark_snapshots.transaction_id is
  'The run (benchmark_transactions.id) this row shows; a soft reference, because archival moves old runs.';
comment on column public.benchmark_snapshots.created_at is 'When the run shown here was recorded.';
comment on column public.benchmark_snapshots.is_active is 'False hides the series from v_latest_benchmarks and detect_regression.';
comment on column public.benchmark_snapshots.is_baseline is
  'True on a pinned baseline row. Set it on a latest row to pin that run; clear it on a baseline row to unpin.';
comment on column public.benchmark_snapshots.pinned_at is 'When the baseline was pinned; null on latest rows.';

-- The latest-row slot: the arbiter of record_run's INSERT ... ON CONFLICT.
create unique index benchmark_snapshots_latest_series_key on public.benchmark_snapshots
  (model_version, model_provider, dataset_version, prompt_version, environment)
  where (pinned_at is null);
-- Baseline resolution looks up baselines by (dataset_version, environment).
create index benchmark_snapshots_baseline_scope_idx on public.benchmark_snapshots
  (dataset_version, environment, pinned_at desc)
  where (pinned_at is not null);
create index benchmark_snapshots_transaction_id_idx on public.benchmark_snapshots (transaction_id);

-- BEFORE: classify the row and keep baselines frozen.
create or replace function benchwatch_private.tg_benchmark_snapshots__classify()
returns trigger
language plpgsql
volatile
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    new.pinned_at := case when new.is_baseline then coalesce(new.pinned_at, pg_catalog.now()) end;
    return new;
  end if;

  if old.pinned_at is not null then
    -- A pinned baseline is frozen: only is_active may change, and is_baseline
    -- may be cleared to unpin it.
    if (new.transaction_id, new.commit_sha, new.branch_name, new.model_version, new.model_provider,
        new.dataset_version, new.dataset_size, new.prompt_version, new.environment, new.run_id,
        new.triggered_by, new.metrics, new.duration_seconds, new.tags, new.notes, new.created_at)
       is distinct from
       (old.transaction_id, old.commit_sha, old.branch_name, old.model_version, old.model_provider,
        old.dataset_version, old.dataset_size, old.prompt_version, old.environment, old.run_id,
        old.triggered_by, old.metrics, old.duration_seconds, old.tags, old.notes, old.created_at)
    then
      raise exception using
        errcode = 'BW011',
        message = 'Cannot change a pinned baseline: its metrics and series are frozen',
        detail = pg_catalog.format('baseline snapshot %s of model_version %s', old.id, old.model_version),
        hint = 'Unpin it (set is_baseline = false, or unpin_baseline()) and pin another run.';
    end if;
    new.pinned_at := old.pinned_at;
    return new;
  end if;

  -- A latest row: setting is_baseline pins it (the AFTER trigger does the rest).
  new.pinned_at := case when new.is_baseline then pg_catalog.now() end;
  return new;
end
$$;

comment on function benchwatch_private.tg_benchmark_snapshots__classify() is
  'Trigger function: sets pinned_at when a row is pinned, and rejects changes to a pinned baseline (BW011).';

revoke execute on function benchwatch_private.tg_benchmark_snapshots__classify() from public, anon, authenticated, service_role;

create trigger benchmark_snapshots_classify
  before insert or update on public.benchmark_snapshots
  for each row execute function benchwatch_private.tg_benchmark_snapshots__classify();

-- AFTER: complete a pin or an unpin. Runs after the whole statement has
-- scanned its rows, so it may add and remove other rows of the table.
create or replace function benchwatch_private.tg_benchmark_snapshots__pin()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and old.pinned_at is not null and old.is_baseline = new.is_baseline then
    -- A baseline row touched without a pin change (e.g. is_active) needs nothing.
    return null;
  end if;

  if not new.is_baseline then
    -- Unpin: the series keeps its latest row; the baseline row goes.
    delete from public.benchmark_snapshots where id = new.id;
    return null;
  end if;

  -- A second pin replaces the first.
  delete from public.benchmark_snapshots s
  where s.pinned_at is not null
    and s.id <> new.id
    and s.model_version = new.model_version
    and s.model_provider = new.model_provider
    and s.dataset_version = new.dataset_version
    and s.prompt_version = new.prompt_version
    and s.environment = new.environment;

  if tg_op = 'UPDATE' and old.pinned_at is null then
    -- The pinned row was the series' latest row: put a latest row back.
    insert into public.benchmark_snapshots (
      transaction_id, commit_sha, branch_name, model_version, model_provider, dataset_version,
      dataset_size, prompt_version, environment, run_id, triggered_by, metrics, duration_seconds,
      tags, notes, created_at, is_active, is_baseline, updated_at)
    values (
      new.transaction_id, new.commit_sha, new.branch_name, new.model_version, new.model_provider,
      new.dataset_version, new.dataset_size, new.prompt_version, new.environment, new.run_id,
      new.triggered_by, new.metrics, new.duration_seconds, new.tags, new.notes, new.created_at,
      old.is_active, false, pg_catalog.now());
  end if;
  return null;
end
$$;

comment on function benchwatch_private.tg_benchmark_snapshots__pin() is
  'Trigger function: completes a pin (restores the latest row, replaces the previous baseline) or an unpin (removes the baseline row).';

revoke execute on function benchwatch_private.tg_benchmark_snapshots__pin() from public, anon, authenticated, service_role;

create trigger benchmark_snapshots_pin
  after insert or update on public.benchmark_snapshots
  for each row
  when (new.pinned_at is not null)
  execute function benchwatch_private.tg_benchmark_snapshots__pin();

-- The latest active snapshot per series, as the setup guide's Test 2 reads it.
create view public.v_latest_benchmarks
with (security_invoker = true)
as
select s.id,
       s.transaction_id,
       s.commit_sha,
       s.branch_name,
       s.model_version,
       s.model_provider,
       s.dataset_version,
       s.dataset_size,
       s.prompt_version,
       s.environment,
       s.run_id,
       s.triggered_by,
       s.metrics,
       s.duration_seconds,
       s.tags,
       s.notes,
       s.created_at,
       s.updated_at,
       s.is_active,
       s.is_baseline,
       exists (
         select 1 from public.benchmark_snapshots b
         where b.pinned_at is not null
           and b.model_version = s.model_version
           and b.model_provider = s.model_provider
           and b.dataset_version = s.dataset_version
           and b.prompt_version = s.prompt_version
           and b.environment = s.environment
       ) as has_pinned_baseline
from public.benchmark_snapshots s
where s.pinned_at is null
  and s.is_active;

comment on view public.v_latest_benchmarks is
  'Latest active run per series (model_version, model_provider, dataset_version, prompt_version, environment), with whether the series has a pinned baseline.';

-- Row level security and explicit privileges.
alter table public.benchmark_snapshots enable row level security;

revoke all on table public.benchmark_snapshots from public, anon, authenticated, service_role;
revoke all on table public.v_latest_benchmarks from public, anon, authenticated, service_role;

grant select on table public.benchmark_snapshots to anon, authenticated;
grant select on table public.v_latest_benchmarks to anon, authenticated, service_role;
-- service_role pins and unpins (UPDATE/DELETE); rows are created by record_run.
grant select, update, delete on table public.benchmark_snapshots to service_role;

create policy benchmark_snapshots_select_anon on public.benchmark_snapshots
  for select to anon using (true);
create policy benchmark_snapshots_select_authenticated on public.benchmark_snapshots
  for select to authenticated using (true);
create policy benchmark_snapshots_select_service_role on public.benchmark_snapshots
  for select to service_role using (true);
create policy benchmark_snapshots_update_service_role on public.benchmark_snapshots
  for update to service_role using (true) with check (true);
create policy benchmark_snapshots_delete_service_role on public.benchmark_snapshots
  for delete to service_role using (true);
