CREATE OR REPLACE FUNCTION benchwatch_private.webhook_status()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  select pg_catalog.jsonb_build_object(
    'functions_url_set', exists (select 1 from vault.decrypted_secrets s
                                 where s.name = 'benchwatch_functions_url'
                                   and coalesce(s.decrypted_secret, '') <> ''),
    'secret_set', exists (select 1 from vault.decrypted_secrets s
                          where s.name = 'benchwatch_webhook_secret'
                            and coalesce(s.decrypted_secret, '') <> ''),
    'pending_events',
      (select count(*) filter (where a.opened_delivery_status = 'pending')
            + count(*) filter (where a.resolved_delivery_status = 'pending')
       from public.regression_alerts a
       where a.opened_delivery_status in ('pending', 'failed')
          or a.resolved_delivery_status in ('pending', 'failed'))::integer,
    'failed_events',
      (select count(*) filter (where a.opened_delivery_status = 'failed')
            + count(*) filter (where a.resolved_delivery_status = 'failed')
       from public.regression_alerts a
       where a.opened_delivery_status in ('pending', 'failed')
          or a.resolved_delivery_status in ('pending', 'failed'))::integer)
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."webhook_status"() TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."webhook_status"() IS 'Whether the database webhook is configured, and how many alert events (opened or resolved) are pending or failed.';

REVOKE ALL ON FUNCTION "benchwatch_private"."webhook_status"() FROM PUBLIC;
