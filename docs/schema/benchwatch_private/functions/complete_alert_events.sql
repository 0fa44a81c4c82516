CREATE OR REPLACE FUNCTION benchwatch_private.complete_alert_events (
  p_alert_ids   uuid[],
  p_kind        text,
  p_outcome     text,
  p_error       text    DEFAULT NULL::text,
  p_http_status integer DEFAULT NULL::integer
)
  RETURNS void
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."complete_alert_events"(uuid[], text, text, text, integer) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."complete_alert_events"(uuid[], text, text, text, integer) IS 'Records the outcome of delivering alert events (kind regressed = opened, recovered = resolved): sent, skipped, permanent (not retried) or transient (retried after 30 s x 2^(attempts-1), at most 1 hour); releases the lease and logs each attempt.';

REVOKE ALL ON FUNCTION "benchwatch_private"."complete_alert_events"(uuid[], text, text, text, integer) FROM PUBLIC;
