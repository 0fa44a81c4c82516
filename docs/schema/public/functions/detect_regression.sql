CREATE OR REPLACE FUNCTION public.detect_regression (
  p_model_version text,
  p_threshold     numeric DEFAULT 0.05
)
  RETURNS TABLE (
    model_version           text,
    model_provider          text,
    dataset_version         text,
    prompt_version          text,
    environment             text,
    metric_name             text,
    baseline_value          numeric,
    current_value           numeric,
    relative_change         numeric,
    is_regression           boolean,
    status                  text,
    absolute_change         numeric,
    direction               text,
    threshold               numeric,
    absolute_floor          numeric,
    policy_source           text,
    baseline_model_version  text,
    baseline_prompt_version text,
    prompt_mismatch         boolean,
    baseline_snapshot_id    uuid,
    baseline_transaction_id uuid,
    baseline_pinned_at      timestamp with time zone,
    current_transaction_id  uuid,
    current_created_at      timestamp with time zone,
    noise                   numeric,
    z                       numeric,
    beyond_noise            boolean,
    within_noise            boolean,
    out_of_control          boolean,
    alert_open              boolean,
    paired_kind             text,
    paired_n_both           integer,
    paired_worse            integer,
    paired_better           integer,
    paired_mean_diff        numeric,
    paired_ci_low           numeric,
    paired_ci_high          numeric,
    paired_p_value          double precision,
    paired_q_value          double precision
  )
  LANGUAGE plpgsql
  STABLE
  ROWS 50
  SET search_path TO ''
  AS $function$
begin
  if p_threshold is null or p_threshold < 0 then
    raise exception using
      errcode = '22023',
      message = 'Cannot detect regressions: p_threshold must be a non-negative fraction such as 0.05',
      detail = pg_catalog.format('p_threshold = %s', coalesce(p_threshold::text, 'null'));
  end if;

  return query
  with s as materialized (
    select x.*,
           (pg_catalog.row_number() over (
              order by x.model_provider, x.dataset_version, x.prompt_version, x.environment))::integer as pos
    from public.benchmark_snapshots x
    where x.model_version = p_model_version
      and x.pinned_at is null
      and x.is_active
  ),
  c as materialized (
    select r.*
    from (select pg_catalog.array_agg(s.model_version order by s.pos) as mv,
                 pg_catalog.array_agg(s.model_provider order by s.pos) as mp,
                 pg_catalog.array_agg(s.dataset_version order by s.pos) as dv,
                 pg_catalog.array_agg(s.prompt_version order by s.pos) as pv,
                 pg_catalog.array_agg(s.environment order by s.pos) as env,
                 pg_catalog.array_agg(s.metrics order by s.pos) as m
          from s) as agg
    cross join lateral benchwatch_private.compare_runs(
      agg.mv, agg.mp, agg.dv, agg.pv, agg.env, agg.m, p_threshold) as r
  ),
  dpol as materialized (
    select d.metric_name, pol.proportion
    from (select distinct c.metric_name from c) as d
    cross join lateral benchwatch_private.metric_detection_policy(d.metric_name) as pol
  ),
  j as materialized (
    select s.pos, s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
           s.transaction_id, s.created_at, s.dataset_size, c.*, o.out_of_control,
           coalesce(o.own_stderr,
                    benchwatch_private.own_stderr(c.current_value, d.proportion, s.dataset_size, null, null)) as own
    from c
    join s on s.pos = c.ord
    join dpol as d on d.metric_name = c.metric_name
    left join benchwatch_private.metric_observations o
      on o.transaction_id = s.transaction_id and o.metric_name = c.metric_name
  ),
  a as (
    select x.*
    from benchwatch_private.assess_runs(array(
      select row(j.pos, j.model_version, j.model_provider, j.dataset_version, j.prompt_version,
                 j.environment, j.transaction_id, j.created_at, j.baseline_transaction_id,
                 j.baseline_snapshot_id, j.metric_name, j.current_value, j.own, j.direction,
                 j.relative_threshold, j.absolute_floor, j.baseline_value)::benchwatch_private.assess_input
      from j
      where j.status in ('ok', 'regression'))) as x
  )
  select j.model_version, j.model_provider, j.dataset_version, j.prompt_version, j.environment,
         j.metric_name, j.baseline_value, j.current_value, j.relative_change, j.is_regression,
         j.status, j.absolute_change, j.direction, j.relative_threshold, j.absolute_floor,
         j.policy_source, j.baseline_model_version, j.baseline_prompt_version, j.prompt_mismatch,
         j.baseline_snapshot_id, j.baseline_transaction_id, j.baseline_pinned_at,
         j.transaction_id, j.created_at,
         a.baseline_noise,
         a.baseline_z,
         a.baseline_beyond_noise,
         j.is_regression and not coalesce(a.baseline_beyond_noise, true),
         j.out_of_control,
         exists (select 1 from public.regression_alerts ra
                 where ra.status = 'open' and ra.model_version = j.model_version
                   and ra.model_provider = j.model_provider and ra.dataset_version = j.dataset_version
                   and ra.prompt_version = j.prompt_version and ra.environment = j.environment
                   and ra.metric_name = j.metric_name),
         pr.kind, pr.n_both, pr.worse, pr.better, pr.mean_diff, pr.ci_low, pr.ci_high,
         pr.p_value, pr.q_value
  from j
  left join a on a.ord = j.pos and a.metric_name = j.metric_name
  -- The paired comparison record_run kept for this run and metric, over all its examples, when
  -- it was made against the baseline the run is judged against now (a baseline pinned since
  -- then has no paired result with this run: the columns stay null).
  left join benchwatch_private.paired_results pr
    on pr.transaction_id = j.transaction_id and pr.metric_name = j.metric_name
       and pr.slice is null and pr.baseline_transaction_id = j.baseline_transaction_id
  order by j.model_provider, j.dataset_version, j.prompt_version, j.environment, j.metric_name;
end
$function$;

GRANT EXECUTE ON FUNCTION "public"."detect_regression"(text, numeric) TO "postgres", "service_role";

COMMENT ON FUNCTION "public"."detect_regression"(text, numeric) IS 'For each active series of a model_version, compares its latest run with the applicable pinned baseline: one row per metric with baseline value, current value, relative change and is_regression (the guide''s rule: beyond p_threshold). The noise-aware columns: noise (standard error of current - baseline), z, beyond_noise (z above the metric''s sensitivity), within_noise (is_regression but not beyond noise), out_of_control (the alerting rule''s verdict on this run) and alert_open. The paired columns (paired_kind, paired_n_both, paired_worse, paired_better, paired_mean_diff, paired_ci_low, paired_ci_high, paired_p_value, paired_q_value) are the run''s paired comparison with that baseline run over all the examples both scored (paired_results, slice null), null when there is none.';

REVOKE ALL ON FUNCTION "public"."detect_regression"(text, numeric) FROM PUBLIC;
