CREATE OR REPLACE FUNCTION benchwatch_private.send_alert_webhook (
  p_record jsonb,
  p_reason text
)
  RETURNS bigint
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_url text;
  v_secret text;
  v_body jsonb;
  v_webhook_id text;
  v_timestamp text;
  v_signature text;
  v_headers jsonb;
  v_request_id bigint;
begin
  if p_reason is null or p_reason not in ('run', 'sweep') then
    raise exception using
      errcode = '22023',
      message = 'Cannot send the alert webhook: p_reason must be run or sweep',
      detail = pg_catalog.format('p_reason = %s', coalesce(p_reason, 'null'));
  end if;

  select s.decrypted_secret into v_url
  from vault.decrypted_secrets s where s.name = 'benchwatch_functions_url' limit 1;
  select s.decrypted_secret into v_secret
  from vault.decrypted_secrets s where s.name = 'benchwatch_webhook_secret' limit 1;
  if coalesce(v_url, '') = '' or coalesce(v_secret, '') = '' then
    -- Not configured: nothing to send; the alerts stay pending.
    return null;
  end if;

  v_body := case p_reason
    when 'run' then pg_catalog.jsonb_build_object(
      'type', 'INSERT', 'table', 'benchmark_transactions', 'schema', 'public',
      'record', p_record, 'old_record', null)
    else pg_catalog.jsonb_build_object(
      'type', 'SWEEP', 'table', 'regression_alerts', 'schema', 'public',
      'record', null, 'old_record', null)
  end;

  v_webhook_id := gen_random_uuid()::text;
  v_timestamp := pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()))::bigint::text;
  -- The signed content is exactly what pg_net sends: v_body::text as UTF-8.
  v_signature := benchwatch_private.webhook_signature(v_webhook_id, v_timestamp, v_body::text, v_secret);
  v_headers := pg_catalog.jsonb_build_object(
    'Content-Type', 'application/json',
    'webhook-id', v_webhook_id,
    'webhook-timestamp', v_timestamp,
    'webhook-signature', v_signature);

  v_request_id := net.http_post(
    url := v_url || '/notify-slack',
    body := v_body,
    headers := v_headers,
    timeout_milliseconds := 5000);

  insert into benchwatch_private.webhook_requests (net_request_id, webhook_id, reason, record)
  values (v_request_id, v_webhook_id, p_reason, p_record);

  return v_request_id;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."send_alert_webhook"(jsonb, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."send_alert_webhook"(jsonb, text) IS 'Queues one Standard Webhooks-signed POST to <functions_url>/notify-slack with pg_net (reason run: an INSERT of benchmark_transactions naming p_record; sweep: a SWEEP of regression_alerts). Returns the pg_net request id, or null when the webhook is not configured.';

REVOKE ALL ON FUNCTION "benchwatch_private"."send_alert_webhook"(jsonb, text) FROM PUBLIC;
