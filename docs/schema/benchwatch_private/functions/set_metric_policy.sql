CREATE OR REPLACE FUNCTION benchwatch_private.set_metric_policy (
  p_metric             text,
  p_direction          text,
  p_relative_threshold numeric DEFAULT NULL::numeric,
  p_absolute_floor     numeric DEFAULT NULL::numeric
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_metric text := pg_catalog.btrim(p_metric);
  v_row public.metric_policies;
begin
  if v_metric is null or v_metric = '' or pg_catalog.length(v_metric) > 128
     or v_metric !~ '^[A-Za-z0-9_.:/*-]+$' then
    raise exception using
      errcode = 'BW023',
      message = 'Cannot set the metric policy: metric must be 1 to 128 of A-Z a-z 0-9 _ . : - / (and * for a pattern)',
      detail = pg_catalog.format('got %s', coalesce(pg_catalog.quote_literal(p_metric), 'null'));
  end if;
  if p_direction is null or p_direction not in ('higher', 'lower') then
    raise exception using
      errcode = 'BW023',
      message = 'Cannot set the metric policy: direction must be higher or lower',
      detail = pg_catalog.format('got %s', coalesce(pg_catalog.quote_literal(p_direction), 'null'));
  end if;
  if p_relative_threshold < 0 or p_absolute_floor < 0 then
    raise exception using
      errcode = 'BW023',
      message = 'Cannot set the metric policy: threshold and floor must not be negative';
  end if;
  insert into public.metric_policies as mp (metric, direction, relative_threshold, absolute_floor, description)
  values (v_metric, p_direction, p_relative_threshold, coalesce(p_absolute_floor, 0), 'Set with benchwatch policy set.')
  on conflict (metric) do update set
    direction = excluded.direction,
    relative_threshold = coalesce(p_relative_threshold, mp.relative_threshold),
    absolute_floor = coalesce(p_absolute_floor, mp.absolute_floor),
    description = excluded.description,
    updated_at = pg_catalog.now()
  returning * into v_row;
  return pg_catalog.jsonb_build_object(
    'metric', v_row.metric, 'direction', v_row.direction,
    'relative_threshold', v_row.relative_threshold, 'absolute_floor', v_row.absolute_floor,
    'description', v_row.description, 'updated_at', v_row.updated_at);
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."set_metric_policy"(text, text, numeric, numeric) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."set_metric_policy"(text, text, numeric, numeric) IS 'Creates or replaces a metric''s policy (exact name or * pattern): its direction, and its relative threshold and absolute floor when given (else kept, or the defaults for a new row). BW023 for a bad argument. The deliberate way to change a direction; a run''s metric_directions never does.';

REVOKE ALL ON FUNCTION "benchwatch_private"."set_metric_policy"(text, text, numeric, numeric) FROM PUBLIC;
