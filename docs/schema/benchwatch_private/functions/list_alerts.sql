CREATE OR REPLACE FUNCTION benchwatch_private.list_alerts (
  p_filters jsonb
)
  RETURNS jsonb
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_filters jsonb := coalesce(p_filters, '{}'::jsonb);
  v_state text;
  v_limit integer;
  v_result jsonb;
begin
  perform benchwatch_private.assert_valid_filters(p_filters,
    array['model_version', 'model_provider', 'dataset_version', 'prompt_version', 'environment',
          'state', 'since', 'until', 'limit'],
    'list alerts');
  if pg_catalog.jsonb_typeof(v_filters) = 'null' then
    v_filters := '{}'::jsonb;
  end if;
  v_state := coalesce(v_filters ->> 'state', 'all');
  v_limit := coalesce((v_filters ->> 'limit')::integer, 100);

  select pg_catalog.jsonb_build_object(
           'alerts', coalesce(pg_catalog.jsonb_agg(
              pg_catalog.to_jsonb(a) || pg_catalog.jsonb_build_object(
                'severity', benchwatch_private.alert_severity(a.opened_relative_change, a.relative_threshold),
                'age_seconds', pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.now() - a.opened_at))::bigint,
                -- The opening run's paired evidence for the metric (all examples), or null.
                'paired', (select pg_catalog.jsonb_build_object(
                                    'n_both', pr.n_both, 'worse', pr.worse, 'better', pr.better,
                                    'p_value', pr.p_value, 'q_value', pr.q_value)
                           from benchwatch_private.paired_results pr
                           where pr.transaction_id = a.opened_transaction_id
                             and pr.metric_name = a.metric_name and pr.slice is null))
              order by a.opened_at desc, a.id), '[]'::jsonb),
           'count', pg_catalog.count(*))
  into v_result
  from (
    select r.*
    from public.regression_alerts r
    where (v_filters ->> 'model_version' is null or r.model_version = v_filters ->> 'model_version')
      and (v_filters ->> 'model_provider' is null or r.model_provider = v_filters ->> 'model_provider')
      and (v_filters ->> 'dataset_version' is null or r.dataset_version = v_filters ->> 'dataset_version')
      and (v_filters ->> 'prompt_version' is null or r.prompt_version = v_filters ->> 'prompt_version')
      and (v_filters ->> 'environment' is null or r.environment = v_filters ->> 'environment')
      and (v_state = 'all' or r.status = v_state)
      and (v_filters ->> 'since' is null or r.opened_at >= (v_filters ->> 'since')::timestamptz)
      and (v_filters ->> 'until' is null or r.opened_at <= (v_filters ->> 'until')::timestamptz)
    order by r.opened_at desc, r.id
    limit v_limit
  ) as a;

  return v_result;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."list_alerts"(jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."list_alerts"(jsonb) IS 'Regression alerts, newest first, filtered by series fields, state (open, resolved, all), since/until on opened_at and limit (default 100, at most 1000): {"alerts": [row + severity + age_seconds + paired (the opening run''s paired evidence for the metric over all examples: n_both, worse, better, p_value, q_value; null without one)], "count": n}.';

REVOKE ALL ON FUNCTION "benchwatch_private"."list_alerts"(jsonb) FROM PUBLIC;
