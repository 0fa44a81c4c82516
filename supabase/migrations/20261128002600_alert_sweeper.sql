-- Why: pg_net never retries and its queue is unlogged, so a webhook can be lost
-- (notify-slack down, Slack failing, a crash, a restart). The alert events stay
-- pending or failed in regression_alerts, so nothing is lost for good: every
-- minute, a pg_cron job counts the events that are due and overdue, and if any
-- are, sends one SWEEP webhook; notify-slack then claims and delivers them.
-- The same job forgets webhook receipts older than a day (the signature window
-- is 5 minutes, so older ids can never be replayed) and webhook request logs
-- older than 30 days.

create extension if not exists pg_cron;

create or replace function benchwatch_private.sweep_alert_deliveries(p_min_age interval default interval '30 seconds')
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_min_age interval := coalesce(p_min_age, interval '30 seconds');
  v_due integer;
begin
  select
    (select count(*)
     from public.regression_alerts a
     where ((a.opened_delivery_status = 'pending' and a.opened_at < pg_catalog.now() - v_min_age)
            or (a.opened_delivery_status = 'failed'
                and (a.opened_next_attempt_at is null or a.opened_next_attempt_at <= pg_catalog.now())))
       and (a.opened_claimed_until is null or a.opened_claimed_until < pg_catalog.now()))
    +
    (select count(*)
     from public.regression_alerts a
     where ((a.resolved_delivery_status = 'pending' and a.resolved_at < pg_catalog.now() - v_min_age)
            or (a.resolved_delivery_status = 'failed'
                and (a.resolved_next_attempt_at is null or a.resolved_next_attempt_at <= pg_catalog.now())))
       and (a.resolved_claimed_until is null or a.resolved_claimed_until < pg_catalog.now()))
  into v_due;

  if v_due > 0 then
    perform benchwatch_private.send_alert_webhook(null, 'sweep');
  end if;

  delete from benchwatch_private.webhook_receipts r
  where r.received_at < pg_catalog.now() - interval '1 day';
  delete from benchwatch_private.webhook_requests w
  where w.created_at < pg_catalog.now() - interval '30 days';

  return v_due;
end
$$;

comment on function benchwatch_private.sweep_alert_deliveries(interval) is
  'Counts alert events that are due and overdue (pending for longer than p_min_age, or failed and past their backoff; not leased); if any, sends one SWEEP webhook to notify-slack. Also prunes old webhook receipts and request logs. Returns the count.';

revoke execute on function benchwatch_private.sweep_alert_deliveries(interval) from public, anon, authenticated;
grant execute on function benchwatch_private.sweep_alert_deliveries(interval) to service_role;

select cron.schedule(
  'sweep-alert-deliveries',
  '* * * * *',
  'select benchwatch_private.sweep_alert_deliveries()'
);
