CREATE OR REPLACE FUNCTION benchwatch_private.assert_valid_metrics (
  p_metrics jsonb
)
  RETURNS void
  LANGUAGE plpgsql
  IMMUTABLE
  SET search_path TO ''
  AS $function$
declare
  v_key text;
  v_value jsonb;
begin
  if p_metrics is null or pg_catalog.jsonb_typeof(p_metrics) <> 'object' then
    raise exception using
      errcode = 'BW001',
      message = 'Cannot record run: metrics must be a JSON object of metric name to number',
      detail = pg_catalog.format('metrics is %s', coalesce(pg_catalog.jsonb_typeof(p_metrics), 'missing'));
  end if;

  if p_metrics = '{}'::jsonb then
    raise exception using
      errcode = 'BW002',
      message = 'Cannot record run: metrics must not be empty';
  end if;

  for v_key, v_value in
    select m.key, m.value from pg_catalog.jsonb_each(p_metrics) as m(key, value) order by m.key
  loop
    continue when pg_catalog.jsonb_typeof(v_value) = 'number';
    if pg_catalog.jsonb_typeof(v_value) = 'string'
       and (v_value #>> '{}') ~* '^\s*[+-]?(nan|inf|infinity)\s*$' then
      raise exception using
        errcode = 'BW004',
        message = pg_catalog.format('Cannot record run: metric "%s" is not a finite number', v_key),
        detail = pg_catalog.format('value: %s', v_value);
    end if;
    raise exception using
      errcode = 'BW003',
      message = pg_catalog.format('Cannot record run: metric "%s" is not a number', v_key),
      detail = pg_catalog.format('value: %s (JSON %s)', v_value, pg_catalog.jsonb_typeof(v_value));
  end loop;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."assert_valid_metrics"(jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."assert_valid_metrics"(jsonb) IS 'Raises BW001-BW004 unless metrics is a non-empty JSON object of finite numbers.';

REVOKE ALL ON FUNCTION "benchwatch_private"."assert_valid_metrics"(jsonb) FROM PUBLIC;
