CREATE OR REPLACE FUNCTION benchwatch_private.run_text (
  p_run      jsonb,
  p_field    text,
  p_required boolean
)
  RETURNS text
  LANGUAGE plpgsql
  IMMUTABLE
  SET search_path TO ''
  AS $function$
declare
  v_value jsonb := p_run -> p_field;
begin
  if v_value is null or pg_catalog.jsonb_typeof(v_value) = 'null' then
    if p_required then
      raise exception using
        errcode = 'BW005',
        message = pg_catalog.format('Cannot record run: %s is required', p_field);
    end if;
    return null;
  end if;

  if pg_catalog.jsonb_typeof(v_value) <> 'string' then
    raise exception using
      errcode = 'BW007',
      message = pg_catalog.format('Cannot record run: %s must be a string', p_field),
      detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(v_value));
  end if;

  if p_required and pg_catalog.btrim(v_value #>> '{}') = '' then
    raise exception using
      errcode = 'BW005',
      message = pg_catalog.format('Cannot record run: %s is required', p_field);
  end if;
  return v_value #>> '{}';
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."run_text"(jsonb, text, boolean) TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."run_text"(jsonb, text, boolean) IS 'Reads a text field of a run payload, raising BW005 (required, missing) or BW007 (not a string).';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_text"(jsonb, text, boolean) FROM PUBLIC;
