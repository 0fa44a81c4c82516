-- Why: a regression must be remembered, not just computed. `regression_alerts`
-- holds one row per regressed (series, metric): opened in the same transaction
-- as the run that regressed, updated (never duplicated) while later runs keep
-- regressing, and resolved by the first later run of the series that no longer
-- regresses. "Opened" and "resolved" are two deliverable events, so each has
-- its own delivery state for notify-slack (pending, sent, skipped, failed,
-- permanent_failure; attempts, last error, last attempt, notified at).

create table public.regression_alerts (
  id uuid not null default gen_random_uuid(),
  model_version text not null,
  model_provider text not null,
  dataset_version text not null,
  prompt_version text not null,
  environment text not null,
  metric_name text not null,
  status text not null default 'open',
  direction text not null,
  relative_threshold numeric not null,
  absolute_floor numeric not null,
  baseline_snapshot_id uuid,
  baseline_transaction_id uuid,
  baseline_model_version text,
  baseline_prompt_version text,
  baseline_value numeric not null,
  opened_transaction_id uuid not null,
  opened_value numeric not null,
  opened_relative_change numeric,
  opened_at timestamptz not null default now(),
  last_transaction_id uuid not null,
  last_value numeric not null,
  last_relative_change numeric,
  last_seen_at timestamptz not null default now(),
  regressing_run_count integer not null default 1,
  resolved_transaction_id uuid,
  resolved_value numeric,
  resolved_at timestamptz,
  opened_delivery_status text not null default 'pending',
  opened_delivery_attempts integer not null default 0,
  opened_last_error text,
  opened_last_attempt_at timestamptz,
  opened_notified_at timestamptz,
  resolved_delivery_status text,
  resolved_delivery_attempts integer not null default 0,
  resolved_last_error text,
  resolved_last_attempt_at timestamptz,
  resolved_notified_at timestamptz,
  constraint regression_alerts_pkey primary key (id),
  constraint regression_alerts_status_valid check (status in ('open', 'resolved')),
  constraint regression_alerts_direction_valid check (direction in ('higher', 'lower')),
  constraint regression_alerts_resolution_consistent check (
    (status = 'open' and resolved_at is null and resolved_transaction_id is null and resolved_delivery_status is null)
    or (status = 'resolved' and resolved_at is not null and resolved_transaction_id is not null and resolved_delivery_status is not null)),
  constraint regression_alerts_opened_delivery_valid check (
    opened_delivery_status in ('pending', 'sent', 'skipped', 'failed', 'permanent_failure')),
  constraint regression_alerts_resolved_delivery_valid check (
    resolved_delivery_status is null
    or resolved_delivery_status in ('pending', 'sent', 'skipped', 'failed', 'permanent_failure')),
  constraint regression_alerts_attempts_nonnegative check (opened_delivery_attempts >= 0 and resolved_delivery_attempts >= 0)
);

comment on table public.regression_alerts is
  'One alert per regressed (series, metric): open until a later run of the series no longer regresses. Opening and resolving are separate Slack deliveries, each with its own delivery state.';
comment on column public.regression_alerts.regressing_run_count is 'How many runs in a row regressed while this alert was open.';
comment on column public.regression_alerts.opened_delivery_status is 'Delivery of the "opened" event: pending, sent, skipped, failed (will retry) or permanent_failure.';
comment on column public.regression_alerts.resolved_delivery_status is 'Delivery of the "resolved" event; null while the alert is open.';

-- Not duplicated while open.
create unique index regression_alerts_one_open_per_series_metric on public.regression_alerts
  (model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
  where (status = 'open');
create index regression_alerts_opened_transaction_idx on public.regression_alerts (opened_transaction_id);
create index regression_alerts_resolved_transaction_idx on public.regression_alerts (resolved_transaction_id)
  where (resolved_transaction_id is not null);
create index regression_alerts_status_opened_at_idx on public.regression_alerts (status, opened_at desc);
-- What a delivery sweeper looks for.
create index regression_alerts_opened_undelivered_idx on public.regression_alerts (opened_at)
  where (opened_delivery_status in ('pending', 'failed'));
create index regression_alerts_resolved_undelivered_idx on public.regression_alerts (resolved_at)
  where (resolved_delivery_status in ('pending', 'failed'));

alter table public.regression_alerts enable row level security;

revoke all on table public.regression_alerts from public, anon, authenticated, service_role;
grant select on table public.regression_alerts to anon, authenticated;
-- service_role updates delivery state; alerts are opened and resolved by record_run.
grant select, update on table public.regression_alerts to service_role;

create policy regression_alerts_select_anon on public.regression_alerts
  for select to anon using (true);
create policy regression_alerts_select_authenticated on public.regression_alerts
  for select to authenticated using (true);
create policy regression_alerts_select_service_role on public.regression_alerts
  for select to service_role using (true);
create policy regression_alerts_update_service_role on public.regression_alerts
  for update to service_role using (true) with check (true);
