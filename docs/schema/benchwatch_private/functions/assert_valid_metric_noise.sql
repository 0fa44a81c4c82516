CREATE OR REPLACE FUNCTION benchwatch_private.assert_valid_metric_noise (
  p_run jsonb
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
  if coalesce(pg_catalog.jsonb_typeof(p_run -> 'metric_stderr'), 'null') not in ('null', 'object') then
    raise exception using errcode = 'BW007',
      message = 'Cannot record run: metric_stderr must be an object of metric name to standard error';
  end if;
  if coalesce(pg_catalog.jsonb_typeof(p_run -> 'metric_trials'), 'null') not in ('null', 'object') then
    raise exception using errcode = 'BW007',
      message = 'Cannot record run: metric_trials must be an object of metric name to an array of trial values';
  end if;
  for v_key, v_value in select e.key, e.value from pg_catalog.jsonb_each(coalesce(p_run -> 'metric_stderr', '{}')) as e loop
    if not (p_run -> 'metrics') ? v_key then
      raise exception using errcode = 'BW007',
        message = pg_catalog.format('Cannot record run: metric_stderr names metric "%s", which is not in metrics', v_key);
    end if;
    if pg_catalog.jsonb_typeof(v_value) <> 'number' then
      raise exception using errcode = 'BW007',
        message = pg_catalog.format('Cannot record run: metric_stderr "%s" must be a number', v_key);
    end if;
    if (v_value #>> '{}')::numeric < 0 then
      raise exception using errcode = 'BW006',
        message = pg_catalog.format('Cannot record run: metric_stderr "%s" must not be negative', v_key);
    end if;
  end loop;
  for v_key, v_value in select e.key, e.value from pg_catalog.jsonb_each(coalesce(p_run -> 'metric_trials', '{}')) as e loop
    if not (p_run -> 'metrics') ? v_key then
      raise exception using errcode = 'BW007',
        message = pg_catalog.format('Cannot record run: metric_trials names metric "%s", which is not in metrics', v_key);
    end if;
    if pg_catalog.jsonb_typeof(v_value) <> 'array'
       or pg_catalog.jsonb_array_length(v_value) not between 2 and 1000
       or exists (select 1 from pg_catalog.jsonb_array_elements(v_value) as t(x) where pg_catalog.jsonb_typeof(t.x) <> 'number') then
      raise exception using errcode = 'BW007',
        message = pg_catalog.format('Cannot record run: metric_trials "%s" must be an array of 2 to 1000 numbers', v_key);
    end if;
  end loop;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."assert_valid_metric_noise"(jsonb) TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."assert_valid_metric_noise"(jsonb) IS 'Validates the optional metric_stderr ({metric: number >= 0}) and metric_trials ({metric: [2..1000 numbers]}) of a run payload; each key must be a metric of the run. BW007 / BW006.';

REVOKE ALL ON FUNCTION "benchwatch_private"."assert_valid_metric_noise"(jsonb) FROM PUBLIC;
