CREATE OR REPLACE FUNCTION benchwatch_private.record_webhook_receipt (
  p_webhook_id text
)
  RETURNS boolean
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
begin
  insert into benchwatch_private.webhook_receipts (webhook_id)
  values (p_webhook_id)
  on conflict (webhook_id) do nothing;
  return found;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."record_webhook_receipt"(text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."record_webhook_receipt"(text) IS 'Remembers a webhook-id notify-slack accepted; true the first time, false for a replay.';

REVOKE ALL ON FUNCTION "benchwatch_private"."record_webhook_receipt"(text) FROM PUBLIC;
