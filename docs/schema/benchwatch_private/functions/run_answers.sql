CREATE OR REPLACE FUNCTION benchwatch_private.run_answers (
  p_runs   benchwatch_private.run_input[],
  p_items  benchwatch_private.run_metric[],
  p_alerts jsonb,
  p_latest uuid[]
)
  RETURNS TABLE (
    ord           integer,
    identity_hash bytea,
    answer        jsonb
  )
  LANGUAGE plpgsql
  STABLE
  ROWS 100
  SET search_path TO ''
  SET plan_cache_mode TO 'force_generic_plan'
  AS $function$
#variable_conflict use_column
begin
  return query
  with per_run as (
    select x.ord,
           coalesce(pg_catalog.bool_or(x.is_regression), false) as regression,
           (pg_catalog.array_agg(pg_catalog.jsonb_build_object(
              'snapshot_id', x.baseline_snapshot_id,
              'transaction_id', x.baseline_transaction_id,
              'model_version', x.baseline_model_version,
              'prompt_version', x.baseline_prompt_version,
              'pinned_at', x.baseline_pinned_at,
              'prompt_mismatch', x.prompt_mismatch) order by x.metric_name)
              filter (where x.baseline_snapshot_id is not null))[1] as baseline,
           pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'metric_name', x.metric_name,
             'status', x.status,
             'is_regression', x.is_regression,
             'baseline_value', x.baseline_value,
             'current_value', x.current_value,
             'absolute_change', x.absolute_change,
             'relative_change', x.relative_change,
             'direction', x.direction,
             'relative_threshold', x.relative_threshold,
             'absolute_floor', x.absolute_floor,
             'policy_source', x.policy_source)
             order by x.metric_name) as metrics
    from pg_catalog.unnest(p_items) as x
    group by x.ord
  ),
  alerts as (
    select (e.v ->> 'tx_id')::uuid as tx_id, e.v ->> 'kind' as kind,
           pg_catalog.jsonb_agg(e.v -> 'id' order by e.v ->> 'metric_name') as ids
    from pg_catalog.jsonb_array_elements(p_alerts) as e(v)
    group by 1, 2
  ),
  answers as (
    select r.ord, r.identity_hash, pg_catalog.jsonb_build_object(
      'transaction_id', r.tx_id,
      'replayed', false,
      'created_at', r.created_at,
      'series', pg_catalog.jsonb_build_object(
        'model_version', r.model_version, 'model_provider', r.model_provider,
        'dataset_version', r.dataset_version, 'prompt_version', r.prompt_version,
        'environment', r.environment),
      'is_latest', r.tx_id = any (p_latest),
      'regression', coalesce(p.regression, false),
      'baseline', p.baseline,
      'metrics', coalesce(p.metrics, '[]'::jsonb),
      'alerts_opened', coalesce((select a.ids from alerts as a where a.tx_id = r.tx_id and a.kind = 'opened'), '[]'::jsonb),
      'alerts_continued', coalesce((select a.ids from alerts as a where a.tx_id = r.tx_id and a.kind = 'continued'), '[]'::jsonb),
      'alerts_resolved', coalesce((select a.ids from alerts as a where a.tx_id = r.tx_id and a.kind = 'resolved'), '[]'::jsonb)) as answer
    from pg_catalog.unnest(p_runs) as r
    left join per_run as p on p.ord = r.ord
  )
  select a.ord, a.identity_hash, a.answer from answers as a;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."run_answers"(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb, uuid[]) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."run_answers"(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb, uuid[]) IS 'The answers of one round of record_runs (the runs, their run_metric rows, the alert ids opened, continued and resolved, the runs that became their series'' latest).';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_answers"(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb, uuid[]) FROM PUBLIC;
