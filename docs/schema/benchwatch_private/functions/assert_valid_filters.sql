CREATE OR REPLACE FUNCTION benchwatch_private.assert_valid_filters (
  p_filters jsonb,
  p_allowed text[],
  p_action  text
)
  RETURNS void
  LANGUAGE plpgsql
  STABLE
  SET search_path TO ''
  AS $function$
declare
  v_key text;
  v_value jsonb;
  v_limit numeric;
begin
  if p_filters is null or pg_catalog.jsonb_typeof(p_filters) = 'null' then
    return;
  end if;
  if pg_catalog.jsonb_typeof(p_filters) <> 'object' then
    raise exception using
      errcode = 'BW020',
      message = pg_catalog.format('Cannot %s: filters must be a JSON object', p_action),
      detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(p_filters));
  end if;

  for v_key, v_value in
    select f.key, f.value from pg_catalog.jsonb_each(p_filters) as f(key, value) order by f.key
  loop
    if v_key <> all (p_allowed) then
      raise exception using
        errcode = 'BW020',
        message = pg_catalog.format('Cannot %s: unknown filter %s', p_action, v_key),
        hint = 'Known filters: ' || pg_catalog.array_to_string(p_allowed, ', ');
    end if;
    continue when pg_catalog.jsonb_typeof(v_value) = 'null';

    if v_key = 'tags' then
      if pg_catalog.jsonb_typeof(v_value) <> 'array'
         or exists (select 1 from pg_catalog.jsonb_array_elements(v_value) as t(value)
                    where pg_catalog.jsonb_typeof(t.value) <> 'string') then
        raise exception using
          errcode = 'BW020',
          message = pg_catalog.format('Cannot %s: tags must be an array of strings', p_action);
      end if;
    elsif v_key = 'limit' then
      if pg_catalog.jsonb_typeof(v_value) = 'number' then
        v_limit := (v_value #>> '{}')::numeric;
      elsif pg_catalog.jsonb_typeof(v_value) = 'string' and (v_value #>> '{}') ~ '^\s*\d{1,7}\s*$' then
        v_limit := (v_value #>> '{}')::numeric;
      end if;
      if v_limit is null or v_limit <> pg_catalog.trunc(v_limit) or v_limit < 1 or v_limit > 1000 then
        raise exception using
          errcode = 'BW020',
          message = pg_catalog.format('Cannot %s: limit must be a whole number from 1 to 1000', p_action),
          detail = pg_catalog.format('got %s', v_value);
      end if;
    elsif pg_catalog.jsonb_typeof(v_value) <> 'string' then
      raise exception using
        errcode = 'BW020',
        message = pg_catalog.format('Cannot %s: %s must be a string', p_action, v_key),
        detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(v_value));
    elsif v_key = 'state' and (v_value #>> '{}') not in ('open', 'resolved', 'all') then
      raise exception using
        errcode = 'BW020',
        message = pg_catalog.format('Cannot %s: state must be open, resolved or all', p_action),
        detail = pg_catalog.format('got %s', v_value);
    elsif v_key in ('since', 'until') then
      begin
        perform (v_value #>> '{}')::timestamptz;
      exception
        when datetime_field_overflow or invalid_datetime_format or invalid_text_representation then
          raise exception using
            errcode = 'BW020',
            message = pg_catalog.format('Cannot %s: %s must be an ISO 8601 timestamp', p_action, v_key),
            detail = pg_catalog.format('got %s', v_value);
      end;
    end if;
  end loop;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."assert_valid_filters"(jsonb, text[], text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."assert_valid_filters"(jsonb, text[], text) IS 'Raises BW020 unless p_filters is a JSON object of known filters with valid values (strings; tags an array of strings; since/until timestamps; state open/resolved/all; limit 1-1000).';

REVOKE ALL ON FUNCTION "benchwatch_private"."assert_valid_filters"(jsonb, text[], text) FROM PUBLIC;
