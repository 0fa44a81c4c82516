-- Why: notify-slack turns alert events into Slack messages, and must post each
-- one once even when it is called twice, crashes half way, or Slack fails.
--   * claim_alert_events takes the due events (pending, or failed and past
--     their backoff) with FOR UPDATE SKIP LOCKED and leases them, so concurrent
--     deliverers never share an event, and a crashed one's events come back
--     when the lease ends. Events come grouped per run and kind (regressed or
--     recovered): one group is one Slack message.
--   * complete_alert_events records the outcome: sent, skipped (no Slack URL),
--     permanent failure (not retried), or transient failure (retried with
--     exponential backoff, 30 s doubling up to 1 hour). Every attempt is kept
--     in alert_delivery_attempts.
--   * record_webhook_receipt de-duplicates webhook deliveries by webhook-id.
--   * acknowledge_alert lets a person say "seen".

create table benchwatch_private.alert_delivery_attempts (
  id bigserial,
  alert_id uuid not null,
  event text not null,
  outcome text not null,
  http_status integer,
  error text,
  attempted_at timestamptz not null default now(),
  constraint alert_delivery_attempts_pkey primary key (id),
  constraint alert_delivery_attempts_alert_fkey foreign key (alert_id)
    references public.regression_alerts (id) on delete cascade,
  constraint alert_delivery_attempts_event_valid check (event in ('opened', 'resolved')),
  constraint alert_delivery_attempts_outcome_valid check (outcome in ('sent', 'skipped', 'permanent', 'transient'))
);

comment on table benchwatch_private.alert_delivery_attempts is
  'One row per attempt to deliver an alert event (opened or resolved) to Slack, with its outcome, HTTP status and error.';

create index alert_delivery_attempts_alert_id_idx on benchwatch_private.alert_delivery_attempts (alert_id, attempted_at);

alter table benchwatch_private.alert_delivery_attempts enable row level security;
revoke all on table benchwatch_private.alert_delivery_attempts from public, anon, authenticated, service_role;
revoke all on sequence benchwatch_private.alert_delivery_attempts_id_seq from public, anon, authenticated, service_role;
grant select on table benchwatch_private.alert_delivery_attempts to service_role;

create policy alert_delivery_attempts_select_service_role on benchwatch_private.alert_delivery_attempts
  for select to service_role using (true);

create table benchwatch_private.webhook_receipts (
  webhook_id text not null,
  received_at timestamptz not null default now(),
  constraint webhook_receipts_pkey primary key (webhook_id)
);

comment on table benchwatch_private.webhook_receipts is
  'webhook-ids notify-slack has already accepted, so a replayed webhook does nothing; kept for a day (the signature window is 5 minutes).';

create index webhook_receipts_received_at_idx on benchwatch_private.webhook_receipts (received_at);

alter table benchwatch_private.webhook_receipts enable row level security;
revoke all on table benchwatch_private.webhook_receipts from public, anon, authenticated, service_role;

-- Severity of a regression from how far past its threshold it went.
create or replace function benchwatch_private.alert_severity(p_relative_change numeric, p_relative_threshold numeric)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case
    -- A change from a zero baseline is unbounded.
    when p_relative_change is null then 'critical'
    when abs(p_relative_change) >= 4 * p_relative_threshold then 'critical'
    when abs(p_relative_change) >= 2 * p_relative_threshold then 'major'
    else 'minor'
  end
$$;

comment on function benchwatch_private.alert_severity(numeric, numeric) is
  'critical if |relative change| >= 4x the relative threshold (or the baseline was 0), major if >= 2x, else minor.';

revoke execute on function benchwatch_private.alert_severity(numeric, numeric) from public, anon, authenticated;
grant execute on function benchwatch_private.alert_severity(numeric, numeric) to service_role;

create or replace function benchwatch_private.claim_alert_events(p_limit integer default 100, p_lease_seconds integer default 60)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 100), 1), 1000);
  v_lease interval := pg_catalog.make_interval(secs => least(greatest(coalesce(p_lease_seconds, 60), 1), 3600));
  v_opened_tx uuid[];
  v_resolved_tx uuid[];
  v_opened uuid[];
  v_resolved uuid[];
begin
  -- Choose the oldest due groups (one per run and kind), up to p_limit of them.
  select coalesce(pg_catalog.array_agg(g.tx) filter (where g.kind = 'regressed'), '{}'),
         coalesce(pg_catalog.array_agg(g.tx) filter (where g.kind = 'recovered'), '{}')
  into v_opened_tx, v_resolved_tx
  from (
    select e.kind, e.tx
    from (
      select 'regressed' as kind, a.opened_transaction_id as tx, pg_catalog.min(a.opened_at) as at
      from public.regression_alerts a
      where a.opened_delivery_status in ('pending', 'failed')
        and (a.opened_next_attempt_at is null or a.opened_next_attempt_at <= pg_catalog.now())
        and (a.opened_claimed_until is null or a.opened_claimed_until < pg_catalog.now())
      group by a.opened_transaction_id
      union all
      select 'recovered', a.resolved_transaction_id, pg_catalog.min(a.resolved_at)
      from public.regression_alerts a
      where a.resolved_delivery_status in ('pending', 'failed')
        and (a.resolved_next_attempt_at is null or a.resolved_next_attempt_at <= pg_catalog.now())
        and (a.resolved_claimed_until is null or a.resolved_claimed_until < pg_catalog.now())
      group by a.resolved_transaction_id
    ) as e
    order by e.at, e.kind desc, e.tx
    limit v_limit
  ) as g;

  -- Lease every due event of those groups; rows another deliverer holds are skipped,
  -- and the due conditions are checked again on the locked rows.
  with locked as (
    select a.id
    from public.regression_alerts a
    where a.opened_transaction_id = any (v_opened_tx)
      and a.opened_delivery_status in ('pending', 'failed')
      and (a.opened_next_attempt_at is null or a.opened_next_attempt_at <= pg_catalog.now())
      and (a.opened_claimed_until is null or a.opened_claimed_until < pg_catalog.now())
    for update skip locked
  ),
  leased as (
    update public.regression_alerts a
    set opened_claimed_until = pg_catalog.now() + v_lease
    from locked
    where a.id = locked.id
    returning a.id
  )
  select coalesce(pg_catalog.array_agg(leased.id), '{}') into v_opened from leased;

  with locked as (
    select a.id
    from public.regression_alerts a
    where a.resolved_transaction_id = any (v_resolved_tx)
      and a.resolved_delivery_status in ('pending', 'failed')
      and (a.resolved_next_attempt_at is null or a.resolved_next_attempt_at <= pg_catalog.now())
      and (a.resolved_claimed_until is null or a.resolved_claimed_until < pg_catalog.now())
    for update skip locked
  ),
  leased as (
    update public.regression_alerts a
    set resolved_claimed_until = pg_catalog.now() + v_lease
    from locked
    where a.id = locked.id
    returning a.id
  )
  select coalesce(pg_catalog.array_agg(leased.id), '{}') into v_resolved from leased;

  return (
    with events as (
      select 'regressed' as kind, a.opened_transaction_id as tx, a.opened_at as at, a.opened_value as current_value,
             a.opened_relative_change as relative_change, a.*
      from public.regression_alerts a
      where a.id = any (v_opened)
      union all
      select 'recovered', a.resolved_transaction_id, a.resolved_at, a.resolved_value,
             case when a.baseline_value <> 0
                  then pg_catalog.round((a.resolved_value - a.baseline_value) / abs(a.baseline_value), 6) end,
             a.*
      from public.regression_alerts a
      where a.id = any (v_resolved)
    ),
    groups as (
      select e.kind, e.tx,
             pg_catalog.min(e.at) as at,
             pg_catalog.min(e.model_version) as model_version,
             pg_catalog.min(e.model_provider) as model_provider,
             pg_catalog.min(e.dataset_version) as dataset_version,
             pg_catalog.min(e.prompt_version) as prompt_version,
             pg_catalog.min(e.environment) as environment,
             pg_catalog.min(e.baseline_model_version) as baseline_model_version,
             pg_catalog.array_agg(e.id order by e.metric_name) as alert_ids,
             pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'metric', e.metric_name,
               'direction', case e.direction when 'higher' then 'higher_is_better' else 'lower_is_better' end,
               'baseline', e.baseline_value,
               'current', e.current_value,
               'relative_change', e.relative_change,
               'severity', benchwatch_private.alert_severity(e.opened_relative_change, e.relative_threshold))
               order by e.metric_name) as metrics
      from events e
      group by e.kind, e.tx
    )
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'kind', g.kind,
             'transaction_id', g.tx,
             'series', pg_catalog.jsonb_build_object(
               'model_version', g.model_version,
               'model_provider', g.model_provider,
               'dataset_version', g.dataset_version,
               'prompt_version', g.prompt_version,
               'environment', g.environment),
             'baseline_model_version', g.baseline_model_version,
             'commit_sha', r.commit_sha,
             'branch_name', r.branch_name,
             'run_id', r.run_id,
             'created_at', r.created_at,
             'alert_ids', pg_catalog.to_jsonb(g.alert_ids),
             'metrics', g.metrics)
           order by g.at, g.kind desc, g.tx), '[]'::jsonb)
    from groups g
    left join lateral (
      select x.commit_sha, x.branch_name, x.run_id, x.created_at
      from (
        select t.commit_sha, t.branch_name, t.run_id, t.created_at
        from public.benchmark_transactions t where t.id = g.tx
        union all
        select ar.commit_sha, ar.branch_name, ar.run_id, ar.created_at
        from public.benchmark_transactions_archive ar where ar.id = g.tx
      ) as x
      limit 1
    ) as r on true
  );
end
$$;

comment on function benchwatch_private.claim_alert_events(integer, integer) is
  'Leases due alert events (pending, or failed and past their backoff; not leased) for p_lease_seconds and returns them as one group per run and kind (regressed / recovered), oldest first, at most p_limit groups, each with its series, run, alert ids and per-metric baseline, current, change and severity.';

revoke execute on function benchwatch_private.claim_alert_events(integer, integer) from public, anon, authenticated;
grant execute on function benchwatch_private.claim_alert_events(integer, integer) to service_role;

create or replace function benchwatch_private.complete_alert_events(
  p_alert_ids uuid[],
  p_kind text,
  p_outcome text,
  p_error text default null,
  p_http_status integer default null
)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_status text;
begin
  if p_kind is null or p_kind not in ('regressed', 'recovered') then
    raise exception using
      errcode = 'BW017',
      message = 'Cannot complete alert events: kind must be regressed or recovered',
      detail = pg_catalog.format('kind = %s', coalesce(p_kind, 'null'));
  end if;
  v_status := case p_outcome
    when 'sent' then 'sent'
    when 'skipped' then 'skipped'
    when 'permanent' then 'permanent_failure'
    when 'transient' then 'failed'
  end;
  if v_status is null then
    raise exception using
      errcode = 'BW017',
      message = 'Cannot complete alert events: outcome must be sent, skipped, permanent or transient',
      detail = pg_catalog.format('outcome = %s', coalesce(p_outcome, 'null'));
  end if;

  -- Only undelivered events change: a late or repeated completion never turns a
  -- delivered (or given-up) event back into one that would be posted again.
  if p_kind = 'regressed' then
    update public.regression_alerts a
    set opened_delivery_status = v_status,
        opened_delivery_attempts = a.opened_delivery_attempts + 1,
        opened_last_attempt_at = pg_catalog.now(),
        opened_claimed_until = null,
        opened_notified_at = case when v_status = 'sent' then pg_catalog.now() else a.opened_notified_at end,
        opened_last_error = case when v_status = 'sent' then a.opened_last_error else p_error end,
        opened_next_attempt_at = case
          when v_status = 'failed' then pg_catalog.now() + least(
            interval '30 seconds' * pg_catalog.power(2, least(a.opened_delivery_attempts, 20))::integer,
            interval '1 hour')
        end
    where a.id = any (p_alert_ids)
      and a.opened_delivery_status in ('pending', 'failed');
  else
    update public.regression_alerts a
    set resolved_delivery_status = v_status,
        resolved_delivery_attempts = a.resolved_delivery_attempts + 1,
        resolved_last_attempt_at = pg_catalog.now(),
        resolved_claimed_until = null,
        resolved_notified_at = case when v_status = 'sent' then pg_catalog.now() else a.resolved_notified_at end,
        resolved_last_error = case when v_status = 'sent' then a.resolved_last_error else p_error end,
        resolved_next_attempt_at = case
          when v_status = 'failed' then pg_catalog.now() + least(
            interval '30 seconds' * pg_catalog.power(2, least(a.resolved_delivery_attempts, 20))::integer,
            interval '1 hour')
        end
    where a.id = any (p_alert_ids)
      and a.resolved_delivery_status in ('pending', 'failed');
  end if;

  insert into benchwatch_private.alert_delivery_attempts (alert_id, event, outcome, http_status, error)
  select a.id, case p_kind when 'regressed' then 'opened' else 'resolved' end, p_outcome, p_http_status, p_error
  from public.regression_alerts a
  where a.id = any (p_alert_ids)
    and (p_kind = 'regressed' or a.resolved_delivery_status is not null);
end
$$;

comment on function benchwatch_private.complete_alert_events(uuid[], text, text, text, integer) is
  'Records the outcome of delivering alert events (kind regressed = opened, recovered = resolved): sent, skipped, permanent (not retried) or transient (retried after 30 s x 2^(attempts-1), at most 1 hour); releases the lease and logs each attempt.';

revoke execute on function benchwatch_private.complete_alert_events(uuid[], text, text, text, integer) from public, anon, authenticated;
grant execute on function benchwatch_private.complete_alert_events(uuid[], text, text, text, integer) to service_role;

create or replace function benchwatch_private.record_webhook_receipt(p_webhook_id text)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  insert into benchwatch_private.webhook_receipts (webhook_id)
  values (p_webhook_id)
  on conflict (webhook_id) do nothing;
  return found;
end
$$;

comment on function benchwatch_private.record_webhook_receipt(text) is
  'Remembers a webhook-id notify-slack accepted; true the first time, false for a replay.';

revoke execute on function benchwatch_private.record_webhook_receipt(text) from public, anon, authenticated;
grant execute on function benchwatch_private.record_webhook_receipt(text) to service_role;

create or replace function benchwatch_private.acknowledge_alert(p_alert_id uuid, p_by text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_alert public.regression_alerts%rowtype;
begin
  -- The first acknowledgement stands; repeating it changes nothing.
  update public.regression_alerts a
  set acknowledged_at = coalesce(a.acknowledged_at, pg_catalog.now()),
      acknowledged_by = case when a.acknowledged_at is null
                             then nullif(pg_catalog.btrim(p_by), '') else a.acknowledged_by end
  where a.id = p_alert_id
  returning a.* into v_alert;

  if v_alert.id is null then
    raise exception using
      errcode = 'BW018',
      message = 'Cannot acknowledge alert: no alert with this id',
      detail = pg_catalog.format('alert id %s', coalesce(p_alert_id::text, 'null'));
  end if;
  return pg_catalog.to_jsonb(v_alert);
end
$$;

comment on function benchwatch_private.acknowledge_alert(uuid, text) is
  'Marks an alert acknowledged by p_by (the first acknowledgement stands) and returns the alert row as jsonb; BW018 if there is no such alert.';

revoke execute on function benchwatch_private.acknowledge_alert(uuid, text) from public, anon, authenticated;
grant execute on function benchwatch_private.acknowledge_alert(uuid, text) to service_role;
