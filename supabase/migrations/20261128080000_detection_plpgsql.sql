-- Why: issue 7, ingest throughput. Profiling record_run (track_functions and
-- auto_explain; figures in BENCHMARKS.md) showed that most of a run's ~17 ms of SQL
-- was not reading data but planning it: the detection helpers were SQL-language
-- functions with `SET search_path`, which PostgreSQL never inlines and re-plans on
-- every call, and record_run called them once per metric (assess_metric alone cost
-- ~1.5 ms a call, of which its index scans took ~0.3 ms). PL/pgSQL caches each
-- statement's plan for the session, and the gateway's workers keep their sessions.
--
-- 1. The helpers keep their signatures, volatility, grants, comments and queries word
--    for word; only the language changes. The query bodies run under
--    `#variable_conflict use_column`, so a column that shares a name with an output
--    column (direction, status, ...) still means the column, as it did in SQL. The
--    scalar helpers become plain PL/pgSQL expressions, evaluated without an executor.
--    (compare_run is rewritten by the next migration, 20261128081000, as compare_runs.)
-- 2. assess_run computes the alerting verdict for all metrics of a run in one query
--    (one baseline lookup, one plan, each metric still reading only its bounded window
--    through the series index); assess_metric is now assess_run with one metric, so
--    the rule is written once. record_run calls assess_run once per run.
-- The detection evaluation (`npm run eval:detection -- --quick`) gives the same
-- openings, F1 0.9492, before and after this migration.

create or replace function benchwatch_private.metric_direction_by_name(p_metric text)
returns text
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  return case
    when pg_catalog.lower(p_metric) ~ '(_ms|_cost|_usd|_seconds|_secs|_sec|loss|error|errors|error_rate|latency|perplexity|duration)$'
      or pg_catalog.lower(p_metric) ~ '^(latency|cost|loss|error|perplexity|duration)'
    then 'lower'
    else 'higher'
  end;
end
$$;

create or replace function benchwatch_private.own_stderr(
  p_value numeric, p_proportion boolean, p_dataset_size integer, p_stderr numeric, p_trials numeric[])
returns numeric
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  v_binomial numeric := case when p_proportion and p_dataset_size > 0 and p_value between 0 and 1
                             then pg_catalog.sqrt(p_value * (1 - p_value) / p_dataset_size) end;
begin
  if p_trials is null or coalesce(pg_catalog.cardinality(p_trials), 0) < 2 then
    return greatest(v_binomial, p_stderr);
  end if;
  return greatest(v_binomial, p_stderr,
    (select pg_catalog.stddev_samp(t) / pg_catalog.sqrt(pg_catalog.count(*))
     from pg_catalog.unnest(p_trials) as t));
end
$$;

create or replace function benchwatch_private.metrics_are_valid(p_metrics jsonb)
returns boolean
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  if p_metrics is null or pg_catalog.jsonb_typeof(p_metrics) <> 'object' or p_metrics = '{}'::jsonb then
    return false;
  end if;
  return not exists (
    select 1
    from pg_catalog.jsonb_each(p_metrics) as m(key, value)
    where pg_catalog.jsonb_typeof(m.value) <> 'number');
end
$$;

create or replace function benchwatch_private.metric_policy(p_metric text, p_default_threshold numeric)
returns table (direction text, relative_threshold numeric, absolute_floor numeric, source text)
language plpgsql
stable
-- Exactly one row; saying so keeps the planner (and JIT) from costing 1000.
rows 1
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
select coalesce(p.direction, benchwatch_private.metric_direction_by_name(p_metric)),
         coalesce(p.relative_threshold, p_default_threshold),
         coalesce(p.absolute_floor, 0),
         coalesce(p.source, 'name_rule')
  from (select 1) as one
  left join lateral (
    select mp.direction,
           mp.relative_threshold,
           mp.absolute_floor,
           case when mp.metric = p_metric then 'policy' else 'policy_pattern' end as source
    from public.metric_policies mp
    where mp.metric = p_metric
       or (pg_catalog.strpos(mp.metric, '*') > 0
           and p_metric like pg_catalog.replace(
                 pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(mp.metric, '\', '\\'), '%', '\%'), '_', '\_'),
                 '*', '%'))
    order by (mp.metric = p_metric) desc, pg_catalog.length(mp.metric) desc, mp.metric
    limit 1
  ) as p on true;
end
$$;

create or replace function benchwatch_private.metric_detection_policy(p_metric text)
returns table (sensitivity numeric, confirmation_runs integer, min_history integer,
               history_window integer, proportion boolean, resolve_fraction numeric,
               reference_runs integer)
language plpgsql
stable
rows 1
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
select coalesce(p.sensitivity, d.sensitivity),
         coalesce(p.confirmation_runs, d.confirmation_runs),
         coalesce(p.min_history, d.min_history),
         coalesce(p.history_window, d.history_window),
         coalesce(p.proportion, false),
         d.resolve_fraction,
         d.reference_runs
  from benchwatch_private.detection_defaults d
  left join lateral (
    select mp.sensitivity, mp.confirmation_runs, mp.min_history, mp.history_window, mp.proportion
    from public.metric_policies mp
    where mp.metric = p_metric
       or (pg_catalog.strpos(mp.metric, '*') > 0
           and p_metric like pg_catalog.replace(
                 pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(mp.metric, '\', '\\'), '%', '\%'), '_', '\_'),
                 '*', '%'))
    order by (mp.metric = p_metric) desc, pg_catalog.length(mp.metric) desc, mp.metric
    limit 1
  ) as p on true;
end
$$;

-- assess_run: the alerting verdict for every metric of one run in one query. It is the
-- same rule as assess_metric (which now calls it with one metric), but record_run pays
-- for the baseline lookup, the policy lookups and the plan once per run, not once per
-- metric; each metric still reads only its bounded window of metric_observations
-- through the series index.
create or replace function benchwatch_private.assess_run(
  p_model_version text,
  p_model_provider text,
  p_dataset_version text,
  p_prompt_version text,
  p_environment text,
  p_transaction_id uuid,
  p_as_of timestamptz,
  p_baseline_transaction_id uuid,
  p_baseline_snapshot_id uuid,
  p_metrics text[],
  p_values numeric[],
  p_own_stderr numeric[],
  p_directions text[],
  p_relative_thresholds numeric[],
  p_absolute_floors numeric[],
  p_baseline_values numeric[]
)
returns table (
  metric_name text,
  reference_value numeric,
  reference_runs integer,
  change numeric,
  series_noise numeric,
  noise numeric,
  z numeric,
  beyond_tolerance boolean,
  beyond_noise boolean,
  out_of_control boolean,
  back_in_control boolean,
  confirmed_out boolean,
  confirmed_back boolean,
  baseline_noise numeric,
  baseline_z numeric,
  baseline_beyond_noise boolean
)
language plpgsql
stable
rows 10
set search_path = ''
-- Its plan is costly to make and the same for every run: make it once per session.
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
declare
  v_base_created timestamptz;
  v_same_series boolean := false;
begin
  select s.created_at,
         (s.model_version = p_model_version and s.model_provider = p_model_provider
          and s.prompt_version = p_prompt_version and s.environment = p_environment
          and s.dataset_version = p_dataset_version)
  into v_base_created, v_same_series
  from public.benchmark_snapshots s
  where s.id = p_baseline_snapshot_id;
  v_same_series := coalesce(v_same_series, false);

  return query
  with m as (
    select u.metric, u.val, u.own, u.direction, u.rel, u.floor, u.base_val,
           pol.sensitivity, pol.confirmation_runs, pol.min_history, pol.history_window,
           pol.resolve_fraction, pol.reference_runs,
           case when v_base_created is not null then bo.own_stderr end as base_se
    from rows from (pg_catalog.unnest(p_metrics), pg_catalog.unnest(p_values),
                    pg_catalog.unnest(p_own_stderr), pg_catalog.unnest(p_directions),
                    pg_catalog.unnest(p_relative_thresholds), pg_catalog.unnest(p_absolute_floors),
                    pg_catalog.unnest(p_baseline_values))
           as u(metric, val, own, direction, rel, floor, base_val)
    cross join lateral benchwatch_private.metric_detection_policy(u.metric) as pol
    left join benchwatch_private.metric_observations bo
      on bo.transaction_id = p_baseline_transaction_id and bo.metric_name = u.metric
  ),
  calc as materialized (
    select m.*, hs.sigma, hs.hist_n, rf.r, rf.m as ref_n, pv.n as prev_n, pv.all_out, pv.all_back,
           case when m.direction = 'higher' then rf.r - m.val else m.val - rf.r end as bad,
           case when m.direction = 'higher' then m.base_val - m.val else m.val - m.base_val end as bad_b
    from m
    -- The series' own noise: robust spread of successive differences over its last
    -- history_window in-control runs, once there are min_history of them.
    cross join lateral (
      select case when pg_catalog.count(*) >= m.min_history
                  then (1.4826 * (pg_catalog.percentile_cont(0.5) within group (order by d.d::float8))
                        / pg_catalog.sqrt(2::float8))::numeric end as sigma,
             pg_catalog.count(*)::integer as hist_n
      from (
        select pg_catalog.abs(h.value - pg_catalog.lag(h.value) over (order by h.created_at, h.seq)) as d
        from (
          select o.value, o.created_at, o.seq
          from benchwatch_private.metric_observations o
          where o.model_version = p_model_version and o.model_provider = p_model_provider
            and o.dataset_version = p_dataset_version and o.prompt_version = p_prompt_version
            and o.environment = p_environment and o.metric_name = m.metric
            and o.created_at <= p_as_of and o.transaction_id <> p_transaction_id and not o.out_of_control
          order by o.created_at desc, o.seq desc
          limit m.history_window
        ) as h
      ) as d
    ) as hs
    -- The reference level: median of the baseline and the first reference_runs - 1
    -- in-control runs of the same series after it.
    cross join lateral (
      select (pg_catalog.percentile_cont(0.5) within group (order by r.v::float8))::numeric as r,
             pg_catalog.count(*)::integer as m
      from (
        select m.base_val as v
        union all
        (select o.value
         from benchwatch_private.metric_observations o
         where v_same_series
           and o.model_version = p_model_version and o.model_provider = p_model_provider
           and o.dataset_version = p_dataset_version and o.prompt_version = p_prompt_version
           and o.environment = p_environment and o.metric_name = m.metric
           and o.created_at >= v_base_created and o.created_at <= p_as_of and not o.out_of_control
           and o.transaction_id <> p_baseline_transaction_id and o.transaction_id <> p_transaction_id
         order by o.created_at asc, o.seq asc
         limit m.reference_runs - 1)
      ) as r
      where r.v is not null
    ) as rf
    -- The previous confirmation_runs - 1 runs' verdicts.
    cross join lateral (
      select pg_catalog.count(*)::integer as n,
             coalesce(pg_catalog.bool_and(p.out_of_control), true) as all_out,
             coalesce(pg_catalog.bool_and(p.back_in_control), true) as all_back
      from (
        select o.out_of_control, o.back_in_control
        from benchwatch_private.metric_observations o
        where o.model_version = p_model_version and o.model_provider = p_model_provider
          and o.dataset_version = p_dataset_version and o.prompt_version = p_prompt_version
          and o.environment = p_environment and o.metric_name = m.metric
          and o.created_at <= p_as_of and o.transaction_id <> p_transaction_id
        order by o.created_at desc, o.seq desc
        limit m.confirmation_runs - 1
      ) as p
    ) as pv
    where rf.m > 0
  ),
  noise as (
    select c.*,
           greatest(c.sigma, c.own) as sigma_run,
           greatest(c.sigma, c.base_se) as sigma_base
    from calc c
  ),
  nz as (
    select n.*,
           case when n.sigma_run is null and n.sigma_base is null then null
                else pg_catalog.sqrt(coalesce(n.sigma_run, 0) ^ 2
                       + (coalesce(n.sigma_base, 0) * case when n.ref_n >= 3 then 1.2533 else 1 end) ^ 2 / n.ref_n)
           end as nz,
           case when n.sigma_run is null and n.sigma_base is null then null
                else pg_catalog.sqrt(coalesce(n.sigma_run, 0) ^ 2 + coalesce(n.sigma_base, 0) ^ 2)
           end as nz_b
    from noise n
  ),
  verdict as (
    select n.*,
           (n.bad > 0 and n.bad > n.floor
            and case when n.r = 0 then true else n.bad / pg_catalog.abs(n.r) > n.rel end) as beyond_tol,
           case when n.nz is null then null else n.bad > n.sensitivity * n.nz end as beyond_nz,
           (n.bad <= greatest(n.rel * pg_catalog.abs(n.r) * n.resolve_fraction, n.floor)) as back,
           (n.hist_n >= n.min_history - 1 or not v_same_series) as has_history
    from nz n
  )
  select v.metric, v.r, v.ref_n, v.bad, v.sigma, pg_catalog.round(v.nz, 10),
         case when v.nz > 0 then pg_catalog.round(v.bad / v.nz, 4) end,
         v.beyond_tol, v.beyond_nz,
         v.beyond_tol and coalesce(v.beyond_nz, true) and v.has_history,
         v.back,
         v.beyond_tol and coalesce(v.beyond_nz, true) and v.has_history
           and v.prev_n = v.confirmation_runs - 1 and v.all_out,
         v.back and v.prev_n = v.confirmation_runs - 1 and v.all_back,
         pg_catalog.round(v.nz_b, 10),
         case when v.nz_b > 0 then pg_catalog.round(v.bad_b / v.nz_b, 4) end,
         case when v.nz_b is null then null else v.bad_b > v.sensitivity * v.nz_b end
  from verdict v;
end
$$;

comment on function benchwatch_private.assess_run(text, text, text, text, text, uuid, timestamptz, uuid, uuid, text[], numeric[], numeric[], text[], numeric[], numeric[], numeric[]) is
  'The noise-aware alerting verdict for every metric of one run (arrays aligned by position: metric, value, own standard error, direction, relative threshold, absolute floor, baseline value): one row per metric that has a reference level. The rule assess_metric documents, in one query per run.';
revoke execute on function benchwatch_private.assess_run(text, text, text, text, text, uuid, timestamptz, uuid, uuid, text[], numeric[], numeric[], text[], numeric[], numeric[], numeric[]) from public, anon, authenticated;
grant execute on function benchwatch_private.assess_run(text, text, text, text, text, uuid, timestamptz, uuid, uuid, text[], numeric[], numeric[], text[], numeric[], numeric[], numeric[]) to service_role;

create or replace function benchwatch_private.assess_metric(
  p_model_version text,
  p_model_provider text,
  p_dataset_version text,
  p_prompt_version text,
  p_environment text,
  p_metric text,
  p_transaction_id uuid,
  p_as_of timestamptz,
  p_value numeric,
  p_own_stderr numeric,
  p_direction text,
  p_relative_threshold numeric,
  p_absolute_floor numeric,
  p_baseline_value numeric,
  p_baseline_transaction_id uuid,
  p_baseline_snapshot_id uuid
)
returns table (
  reference_value numeric,
  reference_runs integer,
  change numeric,
  series_noise numeric,
  noise numeric,
  z numeric,
  beyond_tolerance boolean,
  beyond_noise boolean,
  out_of_control boolean,
  back_in_control boolean,
  confirmed_out boolean,
  confirmed_back boolean,
  baseline_noise numeric,
  baseline_z numeric,
  baseline_beyond_noise boolean
)
language plpgsql
stable
rows 1
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  select a.reference_value, a.reference_runs, a.change, a.series_noise, a.noise, a.z,
         a.beyond_tolerance, a.beyond_noise, a.out_of_control, a.back_in_control,
         a.confirmed_out, a.confirmed_back, a.baseline_noise, a.baseline_z, a.baseline_beyond_noise
  from benchwatch_private.assess_run(
    p_model_version, p_model_provider, p_dataset_version, p_prompt_version, p_environment,
    p_transaction_id, p_as_of, p_baseline_transaction_id, p_baseline_snapshot_id,
    array[p_metric], array[p_value], array[p_own_stderr], array[p_direction],
    array[p_relative_threshold], array[p_absolute_floor], array[p_baseline_value]) as a;
end
$$;
create or replace function benchwatch_private.record_run(p_run jsonb, p_idempotency_key text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_fields constant text[] := array[
    'commit_sha', 'branch_name', 'model_version', 'model_provider', 'dataset_version',
    'dataset_size', 'prompt_version', 'environment', 'run_id', 'triggered_by', 'metrics',
    'duration_seconds', 'tags', 'notes', 'created_at', 'metric_stderr', 'metric_trials'];
  v_unknown text;
  v_commit_sha text;
  v_branch_name text;
  v_model_version text;
  v_model_provider text;
  v_dataset_version text;
  v_dataset_size integer;
  v_prompt_version text;
  v_environment text;
  v_run_id text;
  v_triggered_by text;
  v_metrics jsonb;
  v_duration_seconds numeric;
  v_tags text[];
  v_notes text;
  v_created_at timestamptz;
  v_key text := nullif(pg_catalog.btrim(p_idempotency_key), '');
  v_identity bytea;
  v_request bytea;
  v_claimed uuid;
  v_existing_request bytea;
  v_existing_response jsonb;
  v_tx_id uuid := gen_random_uuid();
  v_snapshot_id uuid;
  v_rows jsonb;
  v_assessed jsonb;
  v_opened jsonb;
  v_continued jsonb;
  v_resolved jsonb;
  v_response jsonb;
begin
  -- 1. Validate.
  if p_run is null or pg_catalog.jsonb_typeof(p_run) <> 'object' then
    raise exception using
      errcode = 'BW007',
      message = 'Cannot record run: the run must be a JSON object',
      detail = pg_catalog.format('got %s', coalesce(pg_catalog.jsonb_typeof(p_run), 'null'));
  end if;

  select pg_catalog.string_agg(k.key, ', ' order by k.key) into v_unknown
  from pg_catalog.jsonb_object_keys(p_run) as k(key)
  where k.key <> all (v_fields);
  if v_unknown is not null then
    raise exception using
      errcode = 'BW008',
      message = pg_catalog.format('Cannot record run: unknown field %s', v_unknown),
      hint = 'Known fields: ' || pg_catalog.array_to_string(v_fields, ', ');
  end if;

  v_commit_sha := benchwatch_private.run_text(p_run, 'commit_sha', true);
  v_model_version := benchwatch_private.run_text(p_run, 'model_version', true);
  v_model_provider := benchwatch_private.run_text(p_run, 'model_provider', true);
  v_dataset_version := benchwatch_private.run_text(p_run, 'dataset_version', true);
  v_prompt_version := benchwatch_private.run_text(p_run, 'prompt_version', true);
  v_environment := benchwatch_private.run_text(p_run, 'environment', true);
  v_branch_name := benchwatch_private.run_text(p_run, 'branch_name', false);
  v_run_id := benchwatch_private.run_text(p_run, 'run_id', false);
  v_triggered_by := benchwatch_private.run_text(p_run, 'triggered_by', false);
  v_notes := benchwatch_private.run_text(p_run, 'notes', false);
  v_dataset_size := benchwatch_private.run_number(p_run, 'dataset_size', true)::integer;
  v_duration_seconds := benchwatch_private.run_number(p_run, 'duration_seconds', false);

  if pg_catalog.jsonb_typeof(p_run -> 'tags') = 'array' then
    if exists (select 1 from pg_catalog.jsonb_array_elements(p_run -> 'tags') as t(value)
               where pg_catalog.jsonb_typeof(t.value) <> 'string') then
      raise exception using
        errcode = 'BW007',
        message = 'Cannot record run: tags must be an array of strings';
    end if;
    v_tags := array(select t.value from pg_catalog.jsonb_array_elements_text(p_run -> 'tags') as t(value));
  elsif coalesce(pg_catalog.jsonb_typeof(p_run -> 'tags'), 'null') <> 'null' then
    raise exception using
      errcode = 'BW007',
      message = 'Cannot record run: tags must be an array of strings';
  end if;

  if coalesce(pg_catalog.jsonb_typeof(p_run -> 'created_at'), 'null') <> 'null' then
    begin
      v_created_at := (benchwatch_private.run_text(p_run, 'created_at', false))::timestamptz;
    exception
      when datetime_field_overflow or invalid_datetime_format or invalid_text_representation then
        raise exception using
          errcode = 'BW007',
          message = 'Cannot record run: created_at must be an ISO 8601 timestamp',
          detail = pg_catalog.format('got %s', p_run -> 'created_at');
    end;
  end if;

  v_metrics := p_run -> 'metrics';
  perform benchwatch_private.assert_valid_metrics(v_metrics);
  perform benchwatch_private.assert_valid_metric_noise(p_run);

  -- 2. Claim the run's identity.
  v_request := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_strip_nulls(p_run)::text, 'UTF8'));
  if v_key is not null then
    v_identity := pg_catalog.sha256(pg_catalog.convert_to('idempotency-key:' || v_key, 'UTF8'));
  else
    v_identity := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_array(
      'run-identity', v_run_id, v_commit_sha, v_model_version, v_model_provider, v_dataset_version,
      v_prompt_version, v_environment, v_metrics)::text, 'UTF8'));
  end if;

  insert into benchwatch_private.run_identities (identity_hash, kind, request_hash, transaction_id)
  values (v_identity, case when v_key is null then 'run_identity' else 'idempotency_key' end, v_request, v_tx_id)
  on conflict (identity_hash) do nothing
  returning transaction_id into v_claimed;

  if v_claimed is null then
    select r.request_hash, r.response into v_existing_request, v_existing_response
    from benchwatch_private.run_identities r
    where r.identity_hash = v_identity;

    if v_key is not null and v_existing_request <> v_request then
      raise exception using
        errcode = 'BW009',
        message = 'Cannot record run: this Idempotency-Key was already used with a different run',
        hint = 'Use a new Idempotency-Key for a different run.';
    end if;
    return v_existing_response || pg_catalog.jsonb_build_object('replayed', true);
  end if;

  v_created_at := coalesce(v_created_at, pg_catalog.now());

  -- 3. Append to the log.
  insert into public.benchmark_transactions (
    id, commit_sha, branch_name, model_version, model_provider, dataset_version, dataset_size,
    prompt_version, environment, run_id, triggered_by, metrics, duration_seconds, tags, notes, created_at)
  values (
    v_tx_id, v_commit_sha, v_branch_name, v_model_version, v_model_provider, v_dataset_version,
    v_dataset_size, v_prompt_version, v_environment, v_run_id, v_triggered_by, v_metrics,
    v_duration_seconds, coalesce(v_tags, '{}'), v_notes, v_created_at);

  -- 4. Move the series' latest snapshot here, unless a newer run is already there.
  insert into public.benchmark_snapshots as s (
    transaction_id, commit_sha, branch_name, model_version, model_provider, dataset_version,
    dataset_size, prompt_version, environment, run_id, triggered_by, metrics, duration_seconds,
    tags, notes, created_at, is_active, is_baseline, updated_at)
  values (
    v_tx_id, v_commit_sha, v_branch_name, v_model_version, v_model_provider, v_dataset_version,
    v_dataset_size, v_prompt_version, v_environment, v_run_id, v_triggered_by, v_metrics,
    v_duration_seconds, coalesce(v_tags, '{}'), v_notes, v_created_at, true, false, pg_catalog.now())
  on conflict (model_version, model_provider, dataset_version, prompt_version, environment)
    where (pinned_at is null)
  do update set
    transaction_id = excluded.transaction_id,
    commit_sha = excluded.commit_sha,
    branch_name = excluded.branch_name,
    dataset_size = excluded.dataset_size,
    run_id = excluded.run_id,
    triggered_by = excluded.triggered_by,
    metrics = excluded.metrics,
    duration_seconds = excluded.duration_seconds,
    tags = excluded.tags,
    notes = excluded.notes,
    created_at = excluded.created_at,
    is_active = true,
    updated_at = pg_catalog.now()
  where excluded.created_at >= s.created_at
  returning s.id into v_snapshot_id;
  -- 5. Compare with the baseline (the guide's verdict, unchanged), then the
  --    noise-aware alerting verdict per metric; alerts follow the series' latest run only.
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c) order by c.metric_name), '[]'::jsonb)
  into v_rows
  from benchwatch_private.compare_run(
    v_model_version, v_model_provider, v_dataset_version, v_prompt_version, v_environment,
    v_metrics, 0.05) as c;

  with c as (
    select c.metric_name, c.status, c.current_value, c.relative_change, c.direction,
           c.relative_threshold, c.absolute_floor, c.baseline_snapshot_id, c.baseline_transaction_id,
           c.baseline_model_version, c.baseline_prompt_version, c.baseline_value,
           r.reported, r.trials,
           benchwatch_private.own_stderr(c.current_value, d.proportion, v_dataset_size, r.reported, r.trials) as own
    from pg_catalog.jsonb_to_recordset(v_rows) as c(
      metric_name text, status text, current_value numeric, relative_change numeric, direction text,
      relative_threshold numeric, absolute_floor numeric, baseline_snapshot_id uuid,
      baseline_transaction_id uuid, baseline_model_version text, baseline_prompt_version text,
      baseline_value numeric)
    cross join lateral (
      select (p_run -> 'metric_stderr' ->> c.metric_name)::numeric as reported,
             case when p_run -> 'metric_trials' ? c.metric_name then
               array(select t.value::numeric
                     from pg_catalog.jsonb_array_elements_text(p_run -> 'metric_trials' -> c.metric_name) as t(value))
             end as trials
    ) as r
    cross join lateral benchwatch_private.metric_detection_policy(c.metric_name) as d
    where c.current_value is not null
  ),
  judged as (
    select (pg_catalog.array_agg(c.baseline_transaction_id) filter (where c.status in ('ok', 'regression')))[1] as b_tx,
           (pg_catalog.array_agg(c.baseline_snapshot_id) filter (where c.status in ('ok', 'regression')))[1] as b_id,
           pg_catalog.array_agg(c.metric_name) filter (where c.status in ('ok', 'regression')) as names,
           pg_catalog.array_agg(c.current_value) filter (where c.status in ('ok', 'regression')) as vals,
           pg_catalog.array_agg(c.own) filter (where c.status in ('ok', 'regression')) as owns,
           pg_catalog.array_agg(c.direction) filter (where c.status in ('ok', 'regression')) as dirs,
           pg_catalog.array_agg(c.relative_threshold) filter (where c.status in ('ok', 'regression')) as rels,
           pg_catalog.array_agg(c.absolute_floor) filter (where c.status in ('ok', 'regression')) as floors,
           pg_catalog.array_agg(c.baseline_value) filter (where c.status in ('ok', 'regression')) as bases
    from c
  ),
  assessed as (
    select a.*
    from judged j
    cross join lateral benchwatch_private.assess_run(
      v_model_version, v_model_provider, v_dataset_version, v_prompt_version, v_environment,
      v_tx_id, v_created_at, j.b_tx, j.b_id, j.names, j.vals, j.owns, j.dirs, j.rels, j.floors, j.bases) as a
    where j.names is not null
  )
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) order by x.metric_name), '[]'::jsonb)
  into v_assessed
  from (
    select c.metric_name, c.status, c.current_value, c.relative_change, c.direction,
           c.relative_threshold, c.absolute_floor, c.baseline_snapshot_id, c.baseline_transaction_id,
           c.baseline_model_version, c.baseline_prompt_version, c.baseline_value,
           c.reported, c.trials, c.own,
           a.reference_value, a.reference_runs, a.change, a.series_noise, a.noise, a.z,
           a.beyond_tolerance, a.beyond_noise, a.out_of_control, a.back_in_control,
           a.confirmed_out, a.confirmed_back, a.baseline_noise, a.baseline_z, a.baseline_beyond_noise
    from c
    left join assessed a on a.metric_name = c.metric_name
  ) as x;

  insert into benchwatch_private.metric_observations (
    transaction_id, metric_name, model_version, model_provider, dataset_version, prompt_version,
    environment, created_at, value, dataset_size, reported_stderr, trials, own_stderr,
    reference_value, noise, z, out_of_control, back_in_control)
  select v_tx_id, a.metric_name, v_model_version, v_model_provider, v_dataset_version, v_prompt_version,
         v_environment, v_created_at, a.current_value, v_dataset_size, a.reported, a.trials, a.own,
         a.reference_value, a.noise, a.z, coalesce(a.out_of_control, false), coalesce(a.back_in_control, true)
  from pg_catalog.jsonb_to_recordset(v_assessed) as a(
    metric_name text, current_value numeric, reported numeric, trials numeric[], own numeric,
    reference_value numeric, noise numeric, z numeric, out_of_control boolean, back_in_control boolean);

  if v_snapshot_id is not null then
    with continued as (
      update public.regression_alerts a
      set last_transaction_id = v_tx_id,
          last_value = c.current_value,
          last_relative_change = c.relative_change,
          last_seen_at = pg_catalog.now(),
          regressing_run_count = a.regressing_run_count + 1
      from pg_catalog.jsonb_to_recordset(v_assessed) as c(metric_name text, out_of_control boolean,
                                                           current_value numeric, relative_change numeric)
      where c.out_of_control
        and a.status = 'open'
        and a.model_version = v_model_version
        and a.model_provider = v_model_provider
        and a.dataset_version = v_dataset_version
        and a.prompt_version = v_prompt_version
        and a.environment = v_environment
        and a.metric_name = c.metric_name
      returning a.id
    )
    select coalesce(pg_catalog.jsonb_agg(continued.id), '[]'::jsonb) into v_continued from continued;

    with opened as (
      insert into public.regression_alerts (
        model_version, model_provider, dataset_version, prompt_version, environment, metric_name,
        direction, relative_threshold, absolute_floor, baseline_snapshot_id, baseline_transaction_id,
        baseline_model_version, baseline_prompt_version, baseline_value, opened_transaction_id,
        opened_value, opened_relative_change, last_transaction_id, last_value, last_relative_change)
      select v_model_version, v_model_provider, v_dataset_version, v_prompt_version, v_environment,
             c.metric_name, c.direction, c.relative_threshold, c.absolute_floor, c.baseline_snapshot_id,
             c.baseline_transaction_id, c.baseline_model_version, c.baseline_prompt_version,
             c.baseline_value, v_tx_id, c.current_value, c.relative_change, v_tx_id, c.current_value,
             c.relative_change
      from pg_catalog.jsonb_to_recordset(v_assessed) as c(
        metric_name text, confirmed_out boolean, direction text, relative_threshold numeric,
        absolute_floor numeric, baseline_snapshot_id uuid, baseline_transaction_id uuid,
        baseline_model_version text, baseline_prompt_version text, baseline_value numeric,
        current_value numeric, relative_change numeric)
      where c.confirmed_out
      on conflict (model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
        where (status = 'open')
      do nothing
      returning id
    )
    select coalesce(pg_catalog.jsonb_agg(opened.id), '[]'::jsonb) into v_opened from opened;

    with resolved as (
      update public.regression_alerts a
      set status = 'resolved',
          resolved_transaction_id = v_tx_id,
          resolved_value = c.current_value,
          resolved_at = pg_catalog.now(),
          resolved_delivery_status = 'pending'
      from pg_catalog.jsonb_to_recordset(v_assessed) as c(metric_name text, confirmed_back boolean,
                                                           current_value numeric)
      where c.confirmed_back
        and a.status = 'open'
        and a.model_version = v_model_version
        and a.model_provider = v_model_provider
        and a.dataset_version = v_dataset_version
        and a.prompt_version = v_prompt_version
        and a.environment = v_environment
        and a.metric_name = c.metric_name
      returning a.id
    )
    select coalesce(pg_catalog.jsonb_agg(resolved.id), '[]'::jsonb) into v_resolved from resolved;
  end if;

  v_response := pg_catalog.jsonb_build_object(
    'transaction_id', v_tx_id,
    'replayed', false,
    'created_at', v_created_at,
    'series', pg_catalog.jsonb_build_object(
      'model_version', v_model_version, 'model_provider', v_model_provider,
      'dataset_version', v_dataset_version, 'prompt_version', v_prompt_version,
      'environment', v_environment),
    'is_latest', v_snapshot_id is not null,
    'regression', coalesce((select pg_catalog.bool_or((r.value ->> 'is_regression')::boolean)
                            from pg_catalog.jsonb_array_elements(v_rows) as r(value)), false),
    'baseline', (select pg_catalog.jsonb_build_object(
                   'snapshot_id', r.value -> 'baseline_snapshot_id',
                   'transaction_id', r.value -> 'baseline_transaction_id',
                   'model_version', r.value -> 'baseline_model_version',
                   'prompt_version', r.value -> 'baseline_prompt_version',
                   'pinned_at', r.value -> 'baseline_pinned_at',
                   'prompt_mismatch', r.value -> 'prompt_mismatch')
                 from pg_catalog.jsonb_array_elements(v_rows) as r(value)
                 where r.value ->> 'baseline_snapshot_id' is not null
                 limit 1),
    'metrics', (select coalesce(pg_catalog.jsonb_agg(
                  r.value - array['baseline_snapshot_id', 'baseline_transaction_id', 'baseline_model_version',
                                  'baseline_prompt_version', 'baseline_pinned_at', 'prompt_mismatch']
                  order by r.value ->> 'metric_name'), '[]'::jsonb)
                from pg_catalog.jsonb_array_elements(v_rows) as r(value)),
    'alerts_opened', coalesce(v_opened, '[]'::jsonb),
    'alerts_continued', coalesce(v_continued, '[]'::jsonb),
    'alerts_resolved', coalesce(v_resolved, '[]'::jsonb));

  update benchwatch_private.run_identities
  set response = v_response
  where identity_hash = v_identity;

  return v_response;
end
$$;
