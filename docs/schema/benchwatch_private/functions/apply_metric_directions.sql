CREATE OR REPLACE FUNCTION benchwatch_private.apply_metric_directions (
  p_directions jsonb,
  p_metrics    jsonb
)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_metric text;
  v_value jsonb;
  v_direction text;
  v_policy record;
begin
  if p_directions is null or pg_catalog.jsonb_typeof(p_directions) = 'null' then
    return;
  end if;
  if pg_catalog.jsonb_typeof(p_directions) <> 'object' then
    raise exception using
      errcode = 'BW007',
      message = 'Cannot record run: metric_directions must be an object of metric name to "higher" or "lower"',
      detail = pg_catalog.format('got %s', pg_catalog.jsonb_typeof(p_directions));
  end if;
  -- Sorted, so two concurrent runs take policy rows in the same order.
  for v_metric, v_value in
    select d.key, d.value from pg_catalog.jsonb_each(p_directions) as d order by d.key
  loop
    if not (p_metrics ? v_metric) then
      raise exception using
        errcode = 'BW007',
        message = pg_catalog.format(
          'Cannot record run: send metric_directions only for metrics of the run: "%s" is not in metrics', v_metric);
    end if;
    v_direction := case when pg_catalog.jsonb_typeof(v_value) = 'string' then v_value #>> '{}' end;
    if v_direction is null or v_direction not in ('higher', 'lower') then
      raise exception using
        errcode = 'BW007',
        message = pg_catalog.format(
          'Cannot record run: metric_directions."%s" must be "higher" or "lower"', v_metric),
        detail = pg_catalog.format('got %s', v_value);
    end if;

    -- A new exact-name row, unless a row already covers the metric. ON CONFLICT waits for a
    -- concurrent transaction that declared the same metric, then the check below sees its row.
    if not exists (select 1 from benchwatch_private.covering_policy(v_metric)) then
      insert into public.metric_policies (metric, direction, description)
      values (v_metric, v_direction, 'Declared by a run''s metric_directions.')
      on conflict (metric) do nothing;
    end if;

    select c.metric, c.direction into v_policy
    from benchwatch_private.covering_policy(v_metric) as c;
    if v_policy.direction is distinct from v_direction then
      raise exception using
        errcode = 'BW022',
        message = pg_catalog.format(
          'Cannot record run: metric "%s" is declared %s-is-better, but its policy%s says %s-is-better',
          v_metric, v_direction,
          case when v_policy.metric = v_metric then '' else pg_catalog.format(' (pattern %s)', v_policy.metric) end,
          v_policy.direction),
        detail = pg_catalog.format('declared: %s; policy %s: %s', v_direction, v_policy.metric, v_policy.direction),
        hint = pg_catalog.format(
          'Fix the declared direction, or change the policy on purpose: benchwatch policy set %s --direction %s',
          v_metric, v_direction);
    end if;
  end loop;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."apply_metric_directions"(jsonb, jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."apply_metric_directions"(jsonb, jsonb) IS 'Applies a run''s metric_directions: creates an exact-name policy (direction only) for a metric no policy row covers, accepts the same direction as the covering policy, and raises BW022 for a different one (never overrides). BW007 for a malformed value or a metric not in the run.';

REVOKE ALL ON FUNCTION "benchwatch_private"."apply_metric_directions"(jsonb, jsonb) FROM PUBLIC;
