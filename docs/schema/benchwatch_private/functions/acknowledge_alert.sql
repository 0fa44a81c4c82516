CREATE OR REPLACE FUNCTION benchwatch_private.acknowledge_alert (
  p_alert_id uuid,
  p_by       text
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_alert public.regression_alerts%rowtype;
begin
  -- The first acknowledgement stands; repeating it changes nothing.
  update public.regression_alerts a
  set acknowledged_at = coalesce(a.acknowledged_at, pg_catalog.now()),
      acknowledged_by = case when a.acknowledged_at is null
                             then nullif(pg_catalog.btrim(p_by), '') else a.acknowledged_by end
  where a.id = p_alert_id
  returning a.* into v_alert;

  if v_alert.id is null then
    raise exception using
      errcode = 'BW018',
      message = 'Cannot acknowledge alert: no alert with this id',
      detail = pg_catalog.format('alert id %s', coalesce(p_alert_id::text, 'null'));
  end if;
  return pg_catalog.to_jsonb(v_alert);
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."acknowledge_alert"(uuid, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."acknowledge_alert"(uuid, text) IS 'Marks an alert acknowledged by p_by (the first acknowledgement stands) and returns the alert row as jsonb; BW018 if there is no such alert.';

REVOKE ALL ON FUNCTION "benchwatch_private"."acknowledge_alert"(uuid, text) FROM PUBLIC;
