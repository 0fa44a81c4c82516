CREATE OR REPLACE FUNCTION benchwatch_private.webhook_config()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  select pg_catalog.jsonb_build_object(
    'functions_url', (select s.decrypted_secret from vault.decrypted_secrets s
                      where s.name = 'benchwatch_functions_url' limit 1),
    'secret', (select s.decrypted_secret from vault.decrypted_secrets s
               where s.name = 'benchwatch_webhook_secret' limit 1))
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."webhook_config"() TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."webhook_config"() IS 'The database webhook settings from vault: {functions_url, secret}, each null when not configured. For notify-slack''s signature check.';

REVOKE ALL ON FUNCTION "benchwatch_private"."webhook_config"() FROM PUBLIC;
