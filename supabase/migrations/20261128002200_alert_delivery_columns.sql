-- Why: delivering alerts to Slack needs more state than the SQL core keeps.
-- notify-slack claims undelivered events with a lease (so two deliverers never
-- post the same event, and a crashed one's events come back when the lease
-- ends), a failed delivery waits for its next attempt (exponential backoff),
-- and people can acknowledge an alert from the dashboard or the API.
-- The table-wide SELECT grant to anon and authenticated already covers the new
-- columns, so the dashboard shows them too.

alter table public.regression_alerts
  add column opened_next_attempt_at timestamptz,
  add column resolved_next_attempt_at timestamptz,
  add column opened_claimed_until timestamptz,
  add column resolved_claimed_until timestamptz,
  add column acknowledged_at timestamptz,
  add column acknowledged_by text;

comment on column public.regression_alerts.opened_next_attempt_at is
  'When a failed "opened" delivery may be tried again (exponential backoff); null means now.';
comment on column public.regression_alerts.resolved_next_attempt_at is
  'When a failed "resolved" delivery may be tried again (exponential backoff); null means now.';
comment on column public.regression_alerts.opened_claimed_until is
  'A deliverer holds the "opened" event until then; after it, the event may be claimed again.';
comment on column public.regression_alerts.resolved_claimed_until is
  'A deliverer holds the "resolved" event until then; after it, the event may be claimed again.';
comment on column public.regression_alerts.acknowledged_at is 'When someone acknowledged the alert; null if nobody has.';
comment on column public.regression_alerts.acknowledged_by is 'Who acknowledged the alert, as they named themselves.';

-- Keep the existing read grant table-wide, explicitly, so the new columns are readable.
grant select on table public.regression_alerts to anon, authenticated;
