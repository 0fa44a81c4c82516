-- Why: issue 9, noise-aware alerting. The guide's rule (a 5% move against one
-- pinned run) fires on eval noise: a score computed on a few hundred examples
-- moves by several percent from run to run, LLM sampling adds more, latency has
-- transient spikes. This migration keeps the guide's verdict (compare_run,
-- detect_regression's is_regression, record_run's per-metric is_regression) and
-- changes only what OPENS and RESOLVES regression_alerts (and so what Slack hears):
--
--   * reference  R = median of the pinned baseline and the first (reference_runs - 1,
--                default 9) in-control runs of the same series after it (the baseline
--                alone when the baseline belongs to another series);
--   * tolerance  the metric policy as before: the bad-direction change must exceed
--                relative_threshold * |R| (strictly) and absolute_floor;
--   * noise      sqrt(sigma_run^2 + sigma_ref^2), where sigma_run is the larger of
--                the run's own standard error (binomial sqrt(p(1-p)/n) from
--                dataset_size for proportion metrics, the reported metric_stderr,
--                or sd/sqrt(k) of metric_trials) and the series' robust noise
--                (1.4826 * median |successive difference| / sqrt 2 over the last
--                history_window in-control runs, once there are min_history of them);
--                sigma_ref is the same for the reference, divided by sqrt(#runs);
--   * a run is OUT OF CONTROL when the series has min_history runs of in-control
--     history (the pinned baseline counts as one; not required when the baseline is
--     another series', e.g. a candidate judged against production) AND the change is beyond tolerance AND beyond
--     sensitivity * noise (tolerance alone if no noise estimate exists at all);
--     out-of-control runs are flagged and never count towards the noise or reference;
--   * an alert OPENS when confirmation_runs consecutive runs are out of control
--     (a single spike never alerts; a step or a drift past tolerance does);
--   * an open alert RESOLVES only after confirmation_runs consecutive runs are
--     back within resolve_fraction (0.5) of the tolerance (hysteresis: no flapping).
--
-- Knobs: metric_policies.sensitivity / confirmation_runs / min_history /
-- history_window / proportion per metric; null takes benchwatch_private.detection_defaults.
--
-- Per-run state lives in benchwatch_private.metric_observations (one row per run
-- and metric); every decision reads at most history_window + min_history +
-- confirmation_runs rows of one series through its index.

-- 1. Knobs per metric (null = the documented default).
alter table public.metric_policies
  add column sensitivity numeric,
  add column confirmation_runs integer,
  add column min_history integer,
  add column history_window integer,
  add column proportion boolean,
  add constraint metric_policies_sensitivity_nonnegative check (sensitivity is null or sensitivity >= 0),
  add constraint metric_policies_confirmation_runs_valid check (confirmation_runs is null or confirmation_runs between 1 and 20),
  add constraint metric_policies_min_history_valid check (min_history is null or min_history between 1 and 50),
  add constraint metric_policies_history_window_valid check (history_window is null or history_window between 3 and 200);

comment on column public.metric_policies.sensitivity is
  'Alerting: how many noise standard errors the change must exceed (null = 2).';
comment on column public.metric_policies.confirmation_runs is
  'Alerting: consecutive out-of-control runs that open an alert, and consecutive runs back within half the tolerance that resolve it (null = 2).';
comment on column public.metric_policies.min_history is
  'Alerting: runs of in-control history (the pinned baseline counts as one) before the series can alert or its own noise is estimated (null = 5).';
comment on column public.metric_policies.history_window is
  'Alerting: how many recent in-control runs the series'' noise is estimated from (null = 30).';
comment on column public.metric_policies.proportion is
  'True for metrics that are a proportion of dataset_size examples (sampling error sqrt(p(1-p)/n)); null = false.';

update public.metric_policies set proportion = true where metric in ('precision', 'recall', 'f1', 'accuracy');
-- Latency has heavy-tailed transient spikes (GC pauses, cold caches, noisy neighbours):
-- two spikes in a row are not rare, so durations need three out-of-control runs.
update public.metric_policies set confirmation_runs = 3 where metric in ('latency_ms', '*_ms');

-- The defaults for metrics whose policy leaves a knob null (one row).
create table benchwatch_private.detection_defaults (
  id boolean not null default true,
  sensitivity numeric not null default 2,
  confirmation_runs integer not null default 2,
  min_history integer not null default 5,
  history_window integer not null default 30,
  resolve_fraction numeric not null default 0.5,
  reference_runs integer not null default 10,
  constraint detection_defaults_pkey primary key (id),
  constraint detection_defaults_one_row check (id),
  constraint detection_defaults_sensitivity_nonnegative check (sensitivity >= 0),
  constraint detection_defaults_confirmation_runs_valid check (confirmation_runs between 1 and 20),
  constraint detection_defaults_min_history_valid check (min_history between 1 and 50),
  constraint detection_defaults_history_window_valid check (history_window between 3 and 200),
  constraint detection_defaults_resolve_fraction_valid check (resolve_fraction > 0 and resolve_fraction <= 1),
  constraint detection_defaults_reference_runs_valid check (reference_runs between 1 and 100)
);
insert into benchwatch_private.detection_defaults default values;

comment on table benchwatch_private.detection_defaults is
  'Alerting defaults for knobs a metric policy leaves null: sensitivity 2, confirmation_runs 2, min_history 5, history_window 30; resolve_fraction 0.5 (an alert resolves once runs are back within half the tolerance); reference_runs 10 (the reference level is the median of the baseline and the first 9 in-control runs after it).';

alter table benchwatch_private.detection_defaults enable row level security;
revoke all on table benchwatch_private.detection_defaults from public, anon, authenticated, service_role;
grant select on table benchwatch_private.detection_defaults to service_role;
create policy detection_defaults_select_service_role on benchwatch_private.detection_defaults
  for select to service_role using (true);

create or replace function benchwatch_private.metric_detection_policy(p_metric text)
returns table (sensitivity numeric, confirmation_runs integer, min_history integer,
               history_window integer, proportion boolean, resolve_fraction numeric,
               reference_runs integer)
language sql
stable
rows 1
set search_path = ''
as $$
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
  ) as p on true
$$;

comment on function benchwatch_private.metric_detection_policy(text) is
  'Effective alerting knobs for a metric: its metric_policies row, else benchwatch_private.detection_defaults (sensitivity 2, confirmation_runs 2, min_history 5, history_window 30, resolve_fraction 0.5, reference_runs 10); proportion false.';
revoke execute on function benchwatch_private.metric_detection_policy(text) from public, anon, authenticated;
grant execute on function benchwatch_private.metric_detection_policy(text) to service_role;

-- 2. Per-run, per-metric detection state.
create table benchwatch_private.metric_observations (
  transaction_id uuid not null,
  metric_name text not null,
  seq bigint generated always as identity,
  model_version text not null,
  model_provider text not null,
  dataset_version text not null,
  prompt_version text not null,
  environment text not null,
  created_at timestamptz not null,
  value numeric not null,
  dataset_size integer,
  reported_stderr numeric,
  trials numeric[],
  own_stderr numeric,
  reference_value numeric,
  noise numeric,
  z numeric,
  out_of_control boolean not null default false,
  back_in_control boolean not null default true,
  constraint metric_observations_pkey primary key (transaction_id, metric_name)
);

comment on table benchwatch_private.metric_observations is
  'One row per recorded run and metric: the value, what the run said about its own sampling error (dataset_size, metric_stderr, metric_trials), and the alerting verdict (out_of_control, back_in_control) that later runs read.';
comment on column benchwatch_private.metric_observations.own_stderr is
  'The run''s own standard error: the largest of sqrt(p(1-p)/dataset_size) for proportion metrics, metric_stderr, and sd/sqrt(k) of metric_trials.';

create index metric_observations_series_idx on benchwatch_private.metric_observations
  (model_version, model_provider, dataset_version, prompt_version, environment, metric_name, created_at desc, seq desc);
create index metric_observations_in_control_idx on benchwatch_private.metric_observations
  (model_version, model_provider, dataset_version, prompt_version, environment, metric_name, created_at desc, seq desc)
  where (not out_of_control);

alter table benchwatch_private.metric_observations enable row level security;
revoke all on table benchwatch_private.metric_observations from public, anon, authenticated, service_role;
grant select on table benchwatch_private.metric_observations to service_role;
create policy metric_observations_select_service_role on benchwatch_private.metric_observations
  for select to service_role using (true);

-- 3. The run's own standard error for one metric.
create or replace function benchwatch_private.own_stderr(
  p_value numeric, p_proportion boolean, p_dataset_size integer, p_stderr numeric, p_trials numeric[])
returns numeric
language sql
immutable
parallel safe
set search_path = ''
as $$
  select greatest(
    case when p_proportion and p_dataset_size > 0 and p_value between 0 and 1
         then pg_catalog.sqrt(p_value * (1 - p_value) / p_dataset_size) end,
    p_stderr,
    (select pg_catalog.stddev_samp(t) / pg_catalog.sqrt(pg_catalog.count(*))
     from pg_catalog.unnest(p_trials) as t
     having pg_catalog.count(*) >= 2))
$$;

comment on function benchwatch_private.own_stderr(numeric, boolean, integer, numeric, numeric[]) is
  'A run''s own standard error for one metric: the largest of sqrt(p(1-p)/dataset_size) (proportion metrics), the reported metric_stderr, and sd/sqrt(k) of metric_trials.';
revoke execute on function benchwatch_private.own_stderr(numeric, boolean, integer, numeric, numeric[]) from public, anon, authenticated;
grant execute on function benchwatch_private.own_stderr(numeric, boolean, integer, numeric, numeric[]) to service_role;

-- 4. The alerting verdict for one metric of one run.
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
language sql
stable
rows 1
set search_path = ''
as $$
  with pol as (
    select * from benchwatch_private.metric_detection_policy(p_metric)
  ),
  base as (
    select s.created_at,
           (s.model_version = p_model_version and s.model_provider = p_model_provider
            and s.prompt_version = p_prompt_version and s.environment = p_environment
            and s.dataset_version = p_dataset_version) as same_series,
           (select o.own_stderr from benchwatch_private.metric_observations o
            where o.transaction_id = p_baseline_transaction_id and o.metric_name = p_metric) as se
    from public.benchmark_snapshots s
    where s.id = p_baseline_snapshot_id
  ),
  hist as (
    select o.value, o.created_at, o.seq
    from benchwatch_private.metric_observations o
    where o.model_version = p_model_version and o.model_provider = p_model_provider
      and o.dataset_version = p_dataset_version and o.prompt_version = p_prompt_version
      and o.environment = p_environment and o.metric_name = p_metric
      and o.created_at <= p_as_of and o.transaction_id <> p_transaction_id and not o.out_of_control
    order by o.created_at desc, o.seq desc
    limit (select pol.history_window from pol)
  ),
  diffs as (
    select pg_catalog.abs(h.value - pg_catalog.lag(h.value) over (order by h.created_at, h.seq)) as d from hist h
  ),
  series as (
    select case when pg_catalog.count(*) >= (select pol.min_history from pol)
                then (1.4826 * (pg_catalog.percentile_cont(0.5) within group (order by d.d::float8))
                      / pg_catalog.sqrt(2::float8))::numeric end as sigma,
           pg_catalog.count(*)::integer as hist_n
    from diffs d
  ),
  refruns as (
    select o.value
    from base b
    join benchwatch_private.metric_observations o
      on b.same_series
     and o.model_version = p_model_version and o.model_provider = p_model_provider
     and o.dataset_version = p_dataset_version and o.prompt_version = p_prompt_version
     and o.environment = p_environment and o.metric_name = p_metric
     and o.created_at >= b.created_at and o.created_at <= p_as_of and not o.out_of_control
     and o.transaction_id <> p_baseline_transaction_id and o.transaction_id <> p_transaction_id
    order by o.created_at asc, o.seq asc
    limit (select pol.reference_runs - 1 from pol)
  ),
  ref as (
    select (pg_catalog.percentile_cont(0.5) within group (order by r.v::float8))::numeric as r,
           pg_catalog.count(*)::integer as m
    from (select p_baseline_value as v union all select rr.value from refruns rr) as r
    where r.v is not null
  ),
  prev as (
    select o.out_of_control, o.back_in_control
    from benchwatch_private.metric_observations o
    where o.model_version = p_model_version and o.model_provider = p_model_provider
      and o.dataset_version = p_dataset_version and o.prompt_version = p_prompt_version
      and o.environment = p_environment and o.metric_name = p_metric
      and o.created_at <= p_as_of and o.transaction_id <> p_transaction_id
    order by o.created_at desc, o.seq desc
    limit (select pol.confirmation_runs - 1 from pol)
  ),
  prevagg as (
    select pg_catalog.count(*)::integer as n,
           coalesce(pg_catalog.bool_and(p.out_of_control), true) as all_out,
           coalesce(pg_catalog.bool_and(p.back_in_control), true) as all_back
    from prev p
  ),
  calc as (
    select ref.r, ref.m, pol.*,
           case when p_direction = 'higher' then ref.r - p_value else p_value - ref.r end as bad,
           case when p_direction = 'higher' then p_baseline_value - p_value else p_value - p_baseline_value end as bad_b,
           series.sigma, series.hist_n,
           greatest(series.sigma, p_own_stderr) as sigma_run,
           greatest(series.sigma, (select b.se from base b)) as sigma_base,
           prevagg.n as prev_n, prevagg.all_out, prevagg.all_back,
           coalesce((select b.same_series from base b), false) as same_series
    from ref, pol, series, prevagg
    where ref.m > 0
  ),
  noise as (
    select c.*,
           case when c.sigma_run is null and c.sigma_base is null then null
                else pg_catalog.sqrt(coalesce(c.sigma_run, 0) ^ 2
                       + (coalesce(c.sigma_base, 0) * case when c.m >= 3 then 1.2533 else 1 end) ^ 2 / c.m)
           end as nz,
           case when c.sigma_run is null and c.sigma_base is null then null
                else pg_catalog.sqrt(coalesce(c.sigma_run, 0) ^ 2 + coalesce(c.sigma_base, 0) ^ 2)
           end as nz_b
    from calc c
  ),
  verdict as (
    select n.*,
           (n.bad > 0 and n.bad > p_absolute_floor
            and case when n.r = 0 then true else n.bad / pg_catalog.abs(n.r) > p_relative_threshold end) as beyond_tol,
           case when n.nz is null then null else n.bad > n.sensitivity * n.nz end as beyond_nz,
           (n.bad <= greatest(p_relative_threshold * pg_catalog.abs(n.r) * n.resolve_fraction, p_absolute_floor)) as back
    from noise n
  )
  select v.r, v.m, v.bad, v.sigma, pg_catalog.round(v.nz, 10),
         case when v.nz > 0 then pg_catalog.round(v.bad / v.nz, 4) end,
         v.beyond_tol, v.beyond_nz,
         v.beyond_tol and coalesce(v.beyond_nz, true) and (v.hist_n >= v.min_history - 1 or not v.same_series),
         v.back,
         v.beyond_tol and coalesce(v.beyond_nz, true) and (v.hist_n >= v.min_history - 1 or not v.same_series)
           and v.prev_n = v.confirmation_runs - 1 and v.all_out,
         v.back and v.prev_n = v.confirmation_runs - 1 and v.all_back,
         pg_catalog.round(v.nz_b, 10),
         case when v.nz_b > 0 then pg_catalog.round(v.bad_b / v.nz_b, 4) end,
         case when v.nz_b is null then null else v.bad_b > v.sensitivity * v.nz_b end
  from verdict v
$$;

comment on function benchwatch_private.assess_metric(text, text, text, text, text, text, uuid, timestamptz, numeric, numeric, text, numeric, numeric, numeric, uuid, uuid) is
  'The noise-aware alerting verdict for one metric of one run: reference level, noise, z, beyond tolerance / noise, out of control, back in control, and whether the last confirmation_runs runs confirm an opening or a resolution. Reads a bounded window of the series'' metric_observations.';
revoke execute on function benchwatch_private.assess_metric(text, text, text, text, text, text, uuid, timestamptz, numeric, numeric, text, numeric, numeric, numeric, uuid, uuid) from public, anon, authenticated;
grant execute on function benchwatch_private.assess_metric(text, text, text, text, text, text, uuid, timestamptz, numeric, numeric, text, numeric, numeric, numeric, uuid, uuid) to service_role;

-- 5. Validation of the optional metric_stderr / metric_trials payload fields.
create or replace function benchwatch_private.assert_valid_metric_noise(p_run jsonb)
returns void
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_key text;
  v_value jsonb;
begin
  if coalesce(pg_catalog.jsonb_typeof(p_run -> 'metric_stderr'), 'null') not in ('null', 'object') then
    raise exception using errcode = 'BW007',
      message = 'Cannot record run: metric_stderr must be an object of metric name to standard error';
  end if;
  if coalesce(pg_catalog.jsonb_typeof(p_run -> 'metric_trials'), 'null') not in ('null', 'object') then
    raise exception using errcode = 'BW007',
      message = 'Cannot record run: metric_trials must be an object of metric name to an array of trial values';
  end if;
  for v_key, v_value in select e.key, e.value from pg_catalog.jsonb_each(coalesce(p_run -> 'metric_stderr', '{}')) as e loop
    if not (p_run -> 'metrics') ? v_key then
      raise exception using errcode = 'BW007',
        message = pg_catalog.format('Cannot record run: metric_stderr names metric "%s", which is not in metrics', v_key);
    end if;
    if pg_catalog.jsonb_typeof(v_value) <> 'number' then
      raise exception using errcode = 'BW007',
        message = pg_catalog.format('Cannot record run: metric_stderr "%s" must be a number', v_key);
    end if;
    if (v_value #>> '{}')::numeric < 0 then
      raise exception using errcode = 'BW006',
        message = pg_catalog.format('Cannot record run: metric_stderr "%s" must not be negative', v_key);
    end if;
  end loop;
  for v_key, v_value in select e.key, e.value from pg_catalog.jsonb_each(coalesce(p_run -> 'metric_trials', '{}')) as e loop
    if not (p_run -> 'metrics') ? v_key then
      raise exception using errcode = 'BW007',
        message = pg_catalog.format('Cannot record run: metric_trials names metric "%s", which is not in metrics', v_key);
    end if;
    if pg_catalog.jsonb_typeof(v_value) <> 'array'
       or pg_catalog.jsonb_array_length(v_value) not between 2 and 1000
       or exists (select 1 from pg_catalog.jsonb_array_elements(v_value) as t(x) where pg_catalog.jsonb_typeof(t.x) <> 'number') then
      raise exception using errcode = 'BW007',
        message = pg_catalog.format('Cannot record run: metric_trials "%s" must be an array of 2 to 1000 numbers', v_key);
    end if;
  end loop;
end
$$;

comment on function benchwatch_private.assert_valid_metric_noise(jsonb) is
  'Validates the optional metric_stderr ({metric: number >= 0}) and metric_trials ({metric: [2..1000 numbers]}) of a run payload; each key must be a metric of the run. BW007 / BW006.';
revoke execute on function benchwatch_private.assert_valid_metric_noise(jsonb) from public, anon, authenticated, service_role;

-- 6. record_run: accepts metric_stderr / metric_trials and opens/resolves alerts by the noise-aware rule.
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

  select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) order by x.metric_name), '[]'::jsonb)
  into v_assessed
  from (
    select c.metric_name, c.status, c.current_value, c.relative_change, c.direction,
           c.relative_threshold, c.absolute_floor, c.baseline_snapshot_id, c.baseline_transaction_id,
           c.baseline_model_version, c.baseline_prompt_version, c.baseline_value,
           se.reported, se.trials, se.own, a.*
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
    cross join lateral (
      select r.reported, r.trials,
             benchwatch_private.own_stderr(c.current_value,
               (select d.proportion from benchwatch_private.metric_detection_policy(c.metric_name) as d),
               v_dataset_size, r.reported, r.trials) as own
    ) as se
    left join lateral benchwatch_private.assess_metric(
      v_model_version, v_model_provider, v_dataset_version, v_prompt_version, v_environment,
      c.metric_name, v_tx_id, v_created_at, c.current_value, se.own, c.direction, c.relative_threshold,
      c.absolute_floor, c.baseline_value, c.baseline_transaction_id, c.baseline_snapshot_id) as a
      on c.status in ('ok', 'regression')
    where c.current_value is not null
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

comment on function benchwatch_private.record_run(jsonb, text) is
  'Ingest entrypoint: validates and records one run (jsonb with the benchmark_transactions fields, optional metric_stderr / metric_trials; created_at optional for backfills), idempotently, updating the snapshot, the per-metric detection state and the noise-aware alerts in the same transaction. Returns the verdict as jsonb.';

revoke execute on function benchwatch_private.record_run(jsonb, text) from public, anon, authenticated;
grant execute on function benchwatch_private.record_run(jsonb, text) to service_role;
-- 7. detect_regression keeps the guide's meaning (is_regression: the explicit
--    threshold against the baseline) and adds the noise-aware view. Its return
--    type changes, so it is dropped and created again (no SQL object depends on it).
drop function public.detect_regression(text, numeric);

create function public.detect_regression(p_model_version text, p_threshold numeric default 0.05)
returns table (
  model_version text,
  model_provider text,
  dataset_version text,
  prompt_version text,
  environment text,
  metric_name text,
  baseline_value numeric,
  current_value numeric,
  relative_change numeric,
  is_regression boolean,
  status text,
  absolute_change numeric,
  direction text,
  threshold numeric,
  absolute_floor numeric,
  policy_source text,
  baseline_model_version text,
  baseline_prompt_version text,
  prompt_mismatch boolean,
  baseline_snapshot_id uuid,
  baseline_transaction_id uuid,
  baseline_pinned_at timestamptz,
  current_transaction_id uuid,
  current_created_at timestamptz,
  noise numeric,
  z numeric,
  beyond_noise boolean,
  within_noise boolean,
  out_of_control boolean,
  alert_open boolean
)
language plpgsql
stable
rows 50
security invoker
set search_path = ''
as $$
begin
  if p_threshold is null or p_threshold < 0 then
    raise exception using
      errcode = '22023',
      message = 'Cannot detect regressions: p_threshold must be a non-negative fraction such as 0.05',
      detail = pg_catalog.format('p_threshold = %s', coalesce(p_threshold::text, 'null'));
  end if;

  return query
  select s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
         c.metric_name, c.baseline_value, c.current_value, c.relative_change, c.is_regression,
         c.status, c.absolute_change, c.direction, c.relative_threshold, c.absolute_floor,
         c.policy_source, c.baseline_model_version, c.baseline_prompt_version, c.prompt_mismatch,
         c.baseline_snapshot_id, c.baseline_transaction_id, c.baseline_pinned_at,
         s.transaction_id, s.created_at,
         a.baseline_noise,
         a.baseline_z,
         a.baseline_beyond_noise,
         c.is_regression and not coalesce(a.baseline_beyond_noise, true),
         o.out_of_control,
         exists (select 1 from public.regression_alerts ra
                 where ra.status = 'open' and ra.model_version = s.model_version
                   and ra.model_provider = s.model_provider and ra.dataset_version = s.dataset_version
                   and ra.prompt_version = s.prompt_version and ra.environment = s.environment
                   and ra.metric_name = c.metric_name)
  from public.benchmark_snapshots s
  cross join lateral benchwatch_private.compare_run(
    s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
    s.metrics, p_threshold) as c
  left join benchwatch_private.metric_observations o
    on o.transaction_id = s.transaction_id and o.metric_name = c.metric_name
  left join lateral benchwatch_private.assess_metric(
    s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
    c.metric_name, s.transaction_id, s.created_at, c.current_value,
    coalesce(o.own_stderr, benchwatch_private.own_stderr(c.current_value,
      (select d.proportion from benchwatch_private.metric_detection_policy(c.metric_name) as d),
      s.dataset_size, null, null)),
    c.direction, c.relative_threshold, c.absolute_floor, c.baseline_value,
    c.baseline_transaction_id, c.baseline_snapshot_id) as a
    on c.status in ('ok', 'regression')
  where s.model_version = p_model_version
    and s.pinned_at is null
    and s.is_active
  order by s.model_provider, s.dataset_version, s.prompt_version, s.environment, c.metric_name;
end
$$;

comment on function public.detect_regression(text, numeric) is
  'For each active series of a model_version, compares its latest run with the applicable pinned baseline: one row per metric with baseline value, current value, relative change and is_regression (the guide''s rule: beyond p_threshold). The noise-aware columns: noise (standard error of current - baseline), z, beyond_noise (z above the metric''s sensitivity), within_noise (is_regression but not beyond noise), out_of_control (the alerting rule''s verdict on this run) and alert_open.';

revoke execute on function public.detect_regression(text, numeric) from public, anon, authenticated;
grant execute on function public.detect_regression(text, numeric) to service_role;
