CREATE OR REPLACE FUNCTION benchwatch_private.sweep_alert_deliveries (
  p_min_age interval DEFAULT '00:00:30'::interval
)
  RETURNS integer
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."sweep_alert_deliveries"(interval) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."sweep_alert_deliveries"(interval) IS 'Counts alert events that are due and overdue (pending for longer than p_min_age, or failed and past their backoff; not leased); if any, sends one SWEEP webhook to notify-slack. Also prunes old webhook receipts and request logs. Returns the count.';

REVOKE ALL ON FUNCTION "benchwatch_private"."sweep_alert_deliveries"(interval) FROM PUBLIC;
