CREATE OR REPLACE FUNCTION benchwatch_private.webhook_signature (
  p_webhook_id text,
  p_timestamp  text,
  p_body       text,
  p_secret     text
)
  RETURNS text
  LANGUAGE sql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
  select 'v1,' || pg_catalog.encode(
    extensions.hmac(
      pg_catalog.convert_to(p_webhook_id || '.' || p_timestamp || '.' || p_body, 'UTF8'),
      pg_catalog.decode(pg_catalog.regexp_replace(p_secret, '^whsec_', ''), 'base64'),
      'sha256'),
    'base64')
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."webhook_signature"(text, text, text, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."webhook_signature"(text, text, text, text) IS 'Standard Webhooks v1 signature of <id>.<timestamp>.<body> with a whsec_<base64> secret: v1,base64(HMAC-SHA256).';

REVOKE ALL ON FUNCTION "benchwatch_private"."webhook_signature"(text, text, text, text) FROM PUBLIC;
