CREATE OR REPLACE FUNCTION benchwatch_private.run_number (
  p_run     jsonb,
  p_field   text,
  p_integer boolean
)
  RETURNS numeric
  LANGUAGE plpgsql
  IMMUTABLE
  SET search_path TO ''
  AS $function$
declare
  v_value jsonb := p_run -> p_field;
  v_number numeric;
begin
  if v_value is null or pg_catalog.jsonb_typeof(v_value) = 'null' then
    return null;
  end if;

  if pg_catalog.jsonb_typeof(v_value) <> 'number' then
    raise exception using
      errcode = 'BW007',
      message = pg_catalog.format('Cannot record run: %s must be a number', p_field),
      detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(v_value));
  end if;

  v_number := (v_value #>> '{}')::numeric;
  if p_integer and (v_number <> pg_catalog.trunc(v_number) or v_number > 2147483647) then
    raise exception using
      errcode = 'BW007',
      message = pg_catalog.format('Cannot record run: %s must be a whole number', p_field),
      detail = pg_catalog.format('got %s', v_number);
  end if;

  if v_number < 0 then
    raise exception using
      errcode = 'BW006',
      message = pg_catalog.format('Cannot record run: %s must not be negative', p_field),
      detail = pg_catalog.format('got %s', v_number);
  end if;
  return v_number;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."run_number"(jsonb, text, boolean) TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."run_number"(jsonb, text, boolean) IS 'Reads a non-negative number field of a run payload, raising BW007 (not a number / not whole) or BW006 (negative).';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_number"(jsonb, text, boolean) FROM PUBLIC;
