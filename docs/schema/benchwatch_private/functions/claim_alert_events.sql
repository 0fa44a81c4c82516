CREATE OR REPLACE FUNCTION benchwatch_private.claim_alert_events (
  p_limit         integer DEFAULT 100,
  p_lease_seconds integer DEFAULT 60
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 100), 1), 1000);
  v_lease interval := pg_catalog.make_interval(secs => least(greatest(coalesce(p_lease_seconds, 60), 1), 3600));
  v_opened_tx uuid[];
  v_resolved_tx uuid[];
  v_opened uuid[];
  v_resolved uuid[];
begin
  -- Choose the oldest due groups (one per run and kind), up to p_limit of them.
  select coalesce(pg_catalog.array_agg(g.tx) filter (where g.kind = 'regressed'), '{}'),
         coalesce(pg_catalog.array_agg(g.tx) filter (where g.kind = 'recovered'), '{}')
  into v_opened_tx, v_resolved_tx
  from (
    select e.kind, e.tx
    from (
      select 'regressed' as kind, a.opened_transaction_id as tx, pg_catalog.min(a.opened_at) as at
      from public.regression_alerts a
      where a.opened_delivery_status in ('pending', 'failed')
        and (a.opened_next_attempt_at is null or a.opened_next_attempt_at <= pg_catalog.now())
        and (a.opened_claimed_until is null or a.opened_claimed_until < pg_catalog.now())
      group by a.opened_transaction_id
      union all
      select 'recovered', a.resolved_transaction_id, pg_catalog.min(a.resolved_at)
      from public.regression_alerts a
      where a.resolved_delivery_status in ('pending', 'failed')
        and (a.resolved_next_attempt_at is null or a.resolved_next_attempt_at <= pg_catalog.now())
        and (a.resolved_claimed_until is null or a.resolved_claimed_until < pg_catalog.now())
      group by a.resolved_transaction_id
    ) as e
    order by e.at, e.kind desc, e.tx
    limit v_limit
  ) as g;

  -- Lease every due event of those groups; rows another deliverer holds are skipped,
  -- and the due conditions are checked again on the locked rows.
  with locked as (
    select a.id
    from public.regression_alerts a
    where a.opened_transaction_id = any (v_opened_tx)
      and a.opened_delivery_status in ('pending', 'failed')
      and (a.opened_next_attempt_at is null or a.opened_next_attempt_at <= pg_catalog.now())
      and (a.opened_claimed_until is null or a.opened_claimed_until < pg_catalog.now())
    for update skip locked
  ),
  leased as (
    update public.regression_alerts a
    set opened_claimed_until = pg_catalog.now() + v_lease
    from locked
    where a.id = locked.id
    returning a.id
  )
  select coalesce(pg_catalog.array_agg(leased.id), '{}') into v_opened from leased;

  with locked as (
    select a.id
    from public.regression_alerts a
    where a.resolved_transaction_id = any (v_resolved_tx)
      and a.resolved_delivery_status in ('pending', 'failed')
      and (a.resolved_next_attempt_at is null or a.resolved_next_attempt_at <= pg_catalog.now())
      and (a.resolved_claimed_until is null or a.resolved_claimed_until < pg_catalog.now())
    for update skip locked
  ),
  leased as (
    update public.regression_alerts a
    set resolved_claimed_until = pg_catalog.now() + v_lease
    from locked
    where a.id = locked.id
    returning a.id
  )
  select coalesce(pg_catalog.array_agg(leased.id), '{}') into v_resolved from leased;

  return (
    with events as (
      select 'regressed' as kind, a.opened_transaction_id as tx, a.opened_at as at, a.opened_value as current_value,
             a.opened_relative_change as relative_change,
             benchwatch_private.paired_alert_evidence(a.opened_transaction_id, a.metric_name) as paired, a.*
      from public.regression_alerts a
      where a.id = any (v_opened)
      union all
      select 'recovered', a.resolved_transaction_id, a.resolved_at, a.resolved_value,
             case when a.baseline_value <> 0
                  then pg_catalog.round((a.resolved_value - a.baseline_value) / abs(a.baseline_value), 6) end,
             null::jsonb,
             a.*
      from public.regression_alerts a
      where a.id = any (v_resolved)
    ),
    groups as (
      select e.kind, e.tx,
             pg_catalog.min(e.at) as at,
             pg_catalog.min(e.model_version) as model_version,
             pg_catalog.min(e.model_provider) as model_provider,
             pg_catalog.min(e.dataset_version) as dataset_version,
             pg_catalog.min(e.prompt_version) as prompt_version,
             pg_catalog.min(e.environment) as environment,
             pg_catalog.min(e.baseline_model_version) as baseline_model_version,
             pg_catalog.array_agg(e.id order by e.metric_name) as alert_ids,
             pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'metric', e.metric_name,
               'direction', case e.direction when 'higher' then 'higher_is_better' else 'lower_is_better' end,
               'baseline', e.baseline_value,
               'current', e.current_value,
               'relative_change', e.relative_change,
               'severity', benchwatch_private.alert_severity(e.opened_relative_change, e.relative_threshold))
               -- The opening run's paired evidence, only when it has some (an additive key).
               || case when e.paired is null then '{}'::jsonb
                       else pg_catalog.jsonb_build_object('paired', e.paired) end
               order by e.metric_name) as metrics
      from events e
      group by e.kind, e.tx
    )
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'kind', g.kind,
             'transaction_id', g.tx,
             'series', pg_catalog.jsonb_build_object(
               'model_version', g.model_version,
               'model_provider', g.model_provider,
               'dataset_version', g.dataset_version,
               'prompt_version', g.prompt_version,
               'environment', g.environment),
             'baseline_model_version', g.baseline_model_version,
             'commit_sha', r.commit_sha,
             'branch_name', r.branch_name,
             'run_id', r.run_id,
             'created_at', r.created_at,
             'alert_ids', pg_catalog.to_jsonb(g.alert_ids),
             'metrics', g.metrics)
           order by g.at, g.kind desc, g.tx), '[]'::jsonb)
    from groups g
    left join lateral (
      select x.commit_sha, x.branch_name, x.run_id, x.created_at
      from (
        select t.commit_sha, t.branch_name, t.run_id, t.created_at
        from public.benchmark_transactions t where t.id = g.tx
        union all
        select ar.commit_sha, ar.branch_name, ar.run_id, ar.created_at
        from public.benchmark_transactions_archive ar where ar.id = g.tx
      ) as x
      limit 1
    ) as r on true
  );
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."claim_alert_events"(integer, integer) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."claim_alert_events"(integer, integer) IS 'Leases due alert events (pending, or failed and past their backoff; not leased) for p_lease_seconds and returns them as one group per run and kind (regressed / recovered), oldest first, at most p_limit groups, each with its series, run, alert ids and per-metric baseline, current, change and severity; a regressed group''s metric also carries "paired" (paired_alert_evidence) when its opening run has paired evidence for it.';

REVOKE ALL ON FUNCTION "benchwatch_private"."claim_alert_events"(integer, integer) FROM PUBLIC;
