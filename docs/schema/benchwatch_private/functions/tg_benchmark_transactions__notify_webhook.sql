CREATE OR REPLACE FUNCTION benchwatch_private.tg_benchmark_transactions__notify_webhook()
  RETURNS TRIGGER
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_txid text := pg_catalog.pg_current_xact_id()::text;
begin
  if pg_catalog.current_setting('benchwatch.webhook_sent', true) is not distinct from v_txid then
    return null;
  end if;

  if exists (select 1 from public.regression_alerts a
             where a.opened_transaction_id = new.id and a.opened_delivery_status = 'pending')
     or exists (select 1 from public.regression_alerts a
                where a.resolved_transaction_id = new.id and a.resolved_delivery_status = 'pending')
  then
    perform pg_catalog.set_config('benchwatch.webhook_sent', v_txid, true);
    begin
      perform benchwatch_private.send_alert_webhook(pg_catalog.jsonb_build_object('id', new.id), 'run');
    exception
      when others then
        -- Never fail the run over a notification: the sweeper re-sends.
        raise warning 'benchwatch: could not queue the alert webhook: %', sqlerrm;
    end;
  end if;
  return null;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."tg_benchmark_transactions__notify_webhook"() TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."tg_benchmark_transactions__notify_webhook"() IS 'Deferred trigger function: at commit, sends one alert webhook per transaction if the new run opened or resolved alerts whose delivery is pending.';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_benchmark_transactions__notify_webhook"() FROM PUBLIC;
