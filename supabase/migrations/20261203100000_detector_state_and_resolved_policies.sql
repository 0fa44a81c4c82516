-- Detector state and resolved policies (issue 22): detection reads one state row and one
-- resolved-policy row per metric of a run, instead of two index ranges of metric_observations
-- and four pattern matches of metric_policies, with the same answers. Two parts:
--
-- 1. Detector state.
-- * detector_state (new): one row per (series, metric) with observations, holding what the
--   alert rule reads of the history when a new run arrives: the last max(history_window,
--   evidence_runs - 1) values newest first with their back_in_control flags, the newest
--   observations' time, seq and transactions, the series' own pinned baseline (transaction,
--   time, its observation's own_stderr) and the first reference_runs - 1 in-control values
--   after it, and the two knobs its size was taken with. record_runs updates it in place in
--   the run's transaction, one UPDATE per round (record_observations); anything the UPDATE
--   cannot express (a run older than the newest observation, a changed policy, a missing row)
--   rebuilds the row from metric_observations, which stays the definition of truth.
-- * load_detector_state, rebuild_detector_state (new): recompute rows from the log.
-- * assess_runs (redefined): reads a valid state row instead of the log; the log otherwise.
--   Same columns, same answers.
-- * record_runs (redefined): step 7 is record_observations (new), which inserts the round's
--   observations and keeps their state rows, on one generic plan.
-- * tg_benchmark_snapshots__detector_state (new) with two triggers on benchmark_snapshots: a
--   pin, re-pin or unpin rebuilds the series' rows (their reference changes with the baseline).
-- The rule itself is unchanged (eval:detection prints the same tables).
--
-- 2. Resolved policies (Done-when 3): detection stops matching metric_policies' patterns
-- on every run. A six-metric record_run resolved each metric's policy four times over
-- (metric_policy in compare_runs, metric_detection_policy in record_runs' step 6, in
-- assess_runs and in record_observations): 24 pattern matches per run, about a third of the
-- detection SQL. Each metric's resolved policy is now kept in one row, read by primary key.
--
-- * policy_version (new): one row, bumped by triggers on every change to metric_policies or
--   detection_defaults (insert, update, delete, truncate). It is read in the same statement
--   (snapshot) as the policies a resolved row is computed from, so a row holds the policy of
--   its version; a row of an older version is never read. No row is deleted on a change: the
--   next run recomputes it.
-- * resolved_policies (new): per metric name, what metric_policy (with no default threshold:
--   the policy's own relative_threshold) and metric_detection_policy return, and the knobs
--   assess_runs and record_observations derive from them and detection_defaults, with the
--   version they were resolved at.
-- * record_runs (redefined): step 3b resolves the batch's metrics that have no row of the
--   current version (one insert before the rounds, nothing written when every row is current).
-- * compare_runs (redefined), assess_runs, record_observations and record_runs' step 6: read
--   the current row, and call metric_policy / metric_detection_policy only for a metric without
--   one (a baseline's metric the run lacks, detect_regression's runs): same answers.
-- A migration that changes what metric_policy, metric_detection_policy or
-- metric_direction_by_name return must bump policy_version.
--
-- The functions defined once below carry both parts: the tables, the state's rebuild and the
-- policy version first, then compare_runs, assess_runs, record_observations and record_runs.

create table benchwatch_private.detector_state (
  model_version           text        not null,
  model_provider          text        not null,
  dataset_version         text        not null,
  prompt_version          text        not null,
  environment             text        not null,
  metric_name             text        not null,
  window_size             integer     not null,
  reference_runs          integer     not null,
  last_created_at         timestamptz not null,
  last_seq                bigint      not null,
  last_transaction_ids    uuid[]      not null,
  window_values           numeric[]   not null,
  window_back_in_control  boolean[]   not null,
  baseline_transaction_id uuid,
  baseline_created_at     timestamptz,
  baseline_stderr         numeric,
  reference_values        numeric[]   not null,
  constraint detector_state_pkey primary key (
    model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
) with (fillfactor = 50);

alter table benchwatch_private.detector_state enable row level security;

revoke all on table benchwatch_private.detector_state from public, anon, authenticated, service_role;

create policy "detector_state_select_service_role" on benchwatch_private.detector_state
  for select to service_role using (true);

grant select on table benchwatch_private.detector_state to service_role;

comment on table benchwatch_private.detector_state is
  'The alert rule''s state per series and metric, so that detecting a new run reads one row instead of the series'' history: what metric_observations would give assess_runs for a run newer than every observation of the series and metric. Kept by record_runs in the run''s transaction and by the baseline pin triggers; rebuild_detector_state recomputes it from metric_observations, which stays the definition of truth (docs/detection.md, "Bounded cost"). Fillfactor 50 leaves room for HOT updates.';
comment on column benchwatch_private.detector_state.window_size is
  'max(history_window, evidence_runs - 1) of the metric''s policy when the row was written: the length of window_values once the series has that many runs.';
comment on column benchwatch_private.detector_state.reference_runs is
  'reference_runs of the policy when the row was written: reference_values holds at most reference_runs - 1 values.';
comment on column benchwatch_private.detector_state.last_created_at is
  'created_at of the newest observation (by created_at, then seq).';
comment on column benchwatch_private.detector_state.last_seq is
  'seq of the newest observation.';
comment on column benchwatch_private.detector_state.last_transaction_ids is
  'The transactions of every observation at last_created_at: a run at that same time is assessed from the state only if it is not one of them.';
comment on column benchwatch_private.detector_state.window_values is
  'The last window_size values, newest first (created_at desc, seq desc).';
comment on column benchwatch_private.detector_state.window_back_in_control is
  'back_in_control of the same observations, in the same order.';
comment on column benchwatch_private.detector_state.baseline_transaction_id is
  'The transaction of the series'' own pinned baseline (benchmark_snapshots), null without one.';
comment on column benchwatch_private.detector_state.baseline_created_at is
  'created_at of that baseline.';
comment on column benchwatch_private.detector_state.baseline_stderr is
  'own_stderr of the baseline''s observation of this metric.';
comment on column benchwatch_private.detector_state.reference_values is
  'The first reference_runs - 1 in-control values after the baseline (created_at >= the baseline''s, not the baseline''s own), oldest first; with the baseline''s value they are the reference runs. Empty without a baseline; frozen once full.';

-- The state rows of the given (series, metric) keys (aligned arrays), recomputed from
-- metric_observations: written (upsert) for keys with observations, removed for the others.
create or replace function benchwatch_private.load_detector_state (
  p_model_versions   text[],
  p_model_providers  text[],
  p_dataset_versions text[],
  p_prompt_versions  text[],
  p_environments     text[],
  p_metric_names     text[]
)
  returns integer
  language plpgsql
  volatile
  set search_path = ''
as $function$
declare
  v_n integer;
begin
  -- Hold the rows first (a placeholder for a missing one), then read the log in a later
  -- statement: a concurrent transaction that keeps one of them (a run of the series, a pin)
  -- commits before the rows are computed, and its observations are read too.
  insert into benchwatch_private.detector_state (
    model_version, model_provider, dataset_version, prompt_version, environment, metric_name,
    window_size, reference_runs, last_created_at, last_seq, last_transaction_ids, window_values,
    window_back_in_control, reference_values)
  select distinct k.model_version, k.model_provider, k.dataset_version, k.prompt_version, k.environment,
         k.metric_name, 0, 0, '-infinity'::timestamptz, 0, '{}'::uuid[], '{}'::numeric[], '{}'::boolean[],
         '{}'::numeric[]
  from rows from (pg_catalog.unnest(p_model_versions), pg_catalog.unnest(p_model_providers),
                  pg_catalog.unnest(p_dataset_versions), pg_catalog.unnest(p_prompt_versions),
                  pg_catalog.unnest(p_environments), pg_catalog.unnest(p_metric_names))
    as k(model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
  order by 1, 2, 3, 4, 5, 6
  on conflict (model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
  do nothing;
  perform 1
  from benchwatch_private.detector_state s
  join rows from (pg_catalog.unnest(p_model_versions), pg_catalog.unnest(p_model_providers),
                  pg_catalog.unnest(p_dataset_versions), pg_catalog.unnest(p_prompt_versions),
                  pg_catalog.unnest(p_environments), pg_catalog.unnest(p_metric_names))
    as k(model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
    on s.model_version = k.model_version and s.model_provider = k.model_provider
   and s.dataset_version = k.dataset_version and s.prompt_version = k.prompt_version
   and s.environment = k.environment and s.metric_name = k.metric_name
  order by s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment, s.metric_name
  for update of s;

  with k as materialized (
    select distinct k.model_version, k.model_provider, k.dataset_version, k.prompt_version,
           k.environment, k.metric_name
    from rows from (pg_catalog.unnest(p_model_versions), pg_catalog.unnest(p_model_providers),
                    pg_catalog.unnest(p_dataset_versions), pg_catalog.unnest(p_prompt_versions),
                    pg_catalog.unnest(p_environments), pg_catalog.unnest(p_metric_names))
      as k(model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
  ),
  r as materialized (
    select k.*, kn.window_size, kn.reference_runs, w.n, w.last_created_at, w.last_seq, w.vals, w.backs,
           lt.txs, b.transaction_id as base_tx, b.created_at as base_created,
           case when b.transaction_id is not null then
             (select bo.own_stderr from benchwatch_private.metric_observations bo
              where bo.transaction_id = b.transaction_id and bo.metric_name = k.metric_name)
           end as base_se,
           case when b.transaction_id is null then '{}'::numeric[] else coalesce(rf.vals, '{}') end as ref_vals
    from k
    cross join lateral (
      select greatest(pol.history_window, greatest(dd.evidence_runs, pol.confirmation_runs) - 1) as window_size,
             pol.reference_runs
      from benchwatch_private.metric_detection_policy(k.metric_name) as pol
      cross join benchwatch_private.detection_defaults as dd
    ) as kn
    -- The last window_size observations, newest first: what assess_runs reads for a newer run.
    cross join lateral (
      select pg_catalog.count(*)::integer as n,
             pg_catalog.array_agg(h.value order by h.created_at desc, h.seq desc) as vals,
             pg_catalog.array_agg(h.back_in_control order by h.created_at desc, h.seq desc) as backs,
             (pg_catalog.array_agg(h.created_at order by h.created_at desc, h.seq desc))[1] as last_created_at,
             (pg_catalog.array_agg(h.seq order by h.created_at desc, h.seq desc))[1] as last_seq
      from (
        select o.value, o.back_in_control, o.created_at, o.seq
        from benchwatch_private.metric_observations o
        where o.model_version = k.model_version and o.model_provider = k.model_provider
          and o.dataset_version = k.dataset_version and o.prompt_version = k.prompt_version
          and o.environment = k.environment and o.metric_name = k.metric_name
        order by o.created_at desc, o.seq desc
        limit kn.window_size
      ) as h
    ) as w
    cross join lateral (
      select pg_catalog.array_agg(o.transaction_id order by o.seq) as txs
      from benchwatch_private.metric_observations o
      where o.model_version = k.model_version and o.model_provider = k.model_provider
        and o.dataset_version = k.dataset_version and o.prompt_version = k.prompt_version
        and o.environment = k.environment and o.metric_name = k.metric_name
        and o.created_at = w.last_created_at
    ) as lt
    -- The series' own pinned baseline (one per series; the newest pin while a re-pin is
    -- under way).
    left join lateral (
      select s.transaction_id, s.created_at
      from public.benchmark_snapshots s
      where s.pinned_at is not null
        and s.model_version = k.model_version and s.model_provider = k.model_provider
        and s.dataset_version = k.dataset_version and s.prompt_version = k.prompt_version
        and s.environment = k.environment
      order by s.pinned_at desc
      limit 1
    ) as b on true
    -- Its first reference_runs - 1 in-control runs, oldest first.
    left join lateral (
      select pg_catalog.array_agg(q.value order by q.created_at, q.seq) as vals
      from (
        select o.value, o.created_at, o.seq
        from benchwatch_private.metric_observations o
        where o.model_version = k.model_version and o.model_provider = k.model_provider
          and o.dataset_version = k.dataset_version and o.prompt_version = k.prompt_version
          and o.environment = k.environment and o.metric_name = k.metric_name
          and o.created_at >= b.created_at and not o.out_of_control
          and o.transaction_id <> b.transaction_id
        order by o.created_at asc, o.seq asc
        limit kn.reference_runs - 1
      ) as q
    ) as rf on b.transaction_id is not null
  ),
  gone as (
    delete from benchwatch_private.detector_state s
    using r
    where r.n = 0
      and s.model_version = r.model_version and s.model_provider = r.model_provider
      and s.dataset_version = r.dataset_version and s.prompt_version = r.prompt_version
      and s.environment = r.environment and s.metric_name = r.metric_name
  )
  insert into benchwatch_private.detector_state as s (
    model_version, model_provider, dataset_version, prompt_version, environment, metric_name,
    window_size, reference_runs, last_created_at, last_seq, last_transaction_ids, window_values,
    window_back_in_control, baseline_transaction_id, baseline_created_at, baseline_stderr,
    reference_values)
  select r.model_version, r.model_provider, r.dataset_version, r.prompt_version, r.environment,
         r.metric_name, r.window_size, r.reference_runs, r.last_created_at, r.last_seq, r.txs, r.vals,
         r.backs, r.base_tx, r.base_created, r.base_se, r.ref_vals
  from r
  where r.n > 0
  on conflict (model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
  do update set
    window_size = excluded.window_size,
    reference_runs = excluded.reference_runs,
    last_created_at = excluded.last_created_at,
    last_seq = excluded.last_seq,
    last_transaction_ids = excluded.last_transaction_ids,
    window_values = excluded.window_values,
    window_back_in_control = excluded.window_back_in_control,
    baseline_transaction_id = excluded.baseline_transaction_id,
    baseline_created_at = excluded.baseline_created_at,
    baseline_stderr = excluded.baseline_stderr,
    reference_values = excluded.reference_values;
  get diagnostics v_n = row_count;
  return v_n;
end
$function$;

revoke all on function benchwatch_private.load_detector_state(text[], text[], text[], text[], text[], text[])
  from public, anon, authenticated, service_role;
grant execute on function benchwatch_private.load_detector_state(text[], text[], text[], text[], text[], text[])
  to postgres;

comment on function benchwatch_private.load_detector_state(text[], text[], text[], text[], text[], text[]) is
  'Recomputes the detector_state rows of the given (series, metric) keys (aligned arrays) from metric_observations and the series'' pinned baseline: upserts the keys that have observations, removes the rows of those that have none; returns how many rows it wrote. It locks the rows (inserting a placeholder for a missing one) before it reads the log, so a concurrent transaction keeping one of them commits first and its observations are read. record_runs calls it for the rows its in-place update cannot keep (a run older than the newest observation, a changed policy, a missing row); rebuild_detector_state for every row.';

-- Every state row (or those of one series, or one metric), recomputed from the log.
create or replace function benchwatch_private.rebuild_detector_state (
  p_model_version   text default null,
  p_model_provider  text default null,
  p_dataset_version text default null,
  p_prompt_version  text default null,
  p_environment     text default null,
  p_metric_name     text default null
)
  returns integer
  language plpgsql
  volatile
  security definer
  set search_path = ''
  set plan_cache_mode = 'force_custom_plan'
as $function$
declare
  v_mv text[];
  v_mp text[];
  v_dv text[];
  v_pv text[];
  v_env text[];
  v_metric text[];
begin
  select pg_catalog.array_agg(k.model_version), pg_catalog.array_agg(k.model_provider),
         pg_catalog.array_agg(k.dataset_version), pg_catalog.array_agg(k.prompt_version),
         pg_catalog.array_agg(k.environment), pg_catalog.array_agg(k.metric_name)
  into v_mv, v_mp, v_dv, v_pv, v_env, v_metric
  from (
    select o.model_version, o.model_provider, o.dataset_version, o.prompt_version, o.environment,
           o.metric_name
    from benchwatch_private.metric_observations o
    where (p_model_version is null or o.model_version = p_model_version)
      and (p_model_provider is null or o.model_provider = p_model_provider)
      and (p_dataset_version is null or o.dataset_version = p_dataset_version)
      and (p_prompt_version is null or o.prompt_version = p_prompt_version)
      and (p_environment is null or o.environment = p_environment)
      and (p_metric_name is null or o.metric_name = p_metric_name)
    union
    select s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
           s.metric_name
    from benchwatch_private.detector_state s
    where (p_model_version is null or s.model_version = p_model_version)
      and (p_model_provider is null or s.model_provider = p_model_provider)
      and (p_dataset_version is null or s.dataset_version = p_dataset_version)
      and (p_prompt_version is null or s.prompt_version = p_prompt_version)
      and (p_environment is null or s.environment = p_environment)
      and (p_metric_name is null or s.metric_name = p_metric_name)
  ) as k;
  if v_mv is null then
    return 0;
  end if;
  return benchwatch_private.load_detector_state(v_mv, v_mp, v_dv, v_pv, v_env, v_metric);
end
$function$;

revoke all on function benchwatch_private.rebuild_detector_state(text, text, text, text, text, text)
  from public, anon, authenticated, service_role;
grant execute on function benchwatch_private.rebuild_detector_state(text, text, text, text, text, text)
  to postgres, service_role;

comment on function benchwatch_private.rebuild_detector_state(text, text, text, text, text, text) is
  'Recomputes detector_state from metric_observations: every row, or those matching the non-null arguments (a series'' identity columns, a metric); removes rows left without observations. Returns how many rows it wrote. The state it writes is the one record_runs keeps run by run (pgTAP 28 checks they are equal); use it after editing metric_observations or the state by hand.';

-- A pin, re-pin or unpin changes the series' reference runs: rebuild its rows.
create or replace function benchwatch_private.tg_benchmark_snapshots__detector_state()
  returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $function$
declare
  v_s public.benchmark_snapshots;
begin
  if tg_op = 'DELETE' then
    v_s := old;
  else
    if tg_op = 'UPDATE' and old.pinned_at is not null and old.is_baseline = new.is_baseline
       and old.transaction_id = new.transaction_id then
      -- A baseline row touched without a pin change (e.g. is_active) needs nothing.
      return null;
    end if;
    v_s := new;
  end if;
  perform benchwatch_private.rebuild_detector_state(
    v_s.model_version, v_s.model_provider, v_s.dataset_version, v_s.prompt_version, v_s.environment);
  return null;
end
$function$;

revoke all on function benchwatch_private.tg_benchmark_snapshots__detector_state()
  from public, anon, authenticated, service_role;
grant execute on function benchwatch_private.tg_benchmark_snapshots__detector_state() to postgres;

comment on function benchwatch_private.tg_benchmark_snapshots__detector_state() is
  'Trigger function: a baseline pinned, replaced or unpinned rebuilds the series'' detector_state rows (their baseline and reference runs).';

create trigger benchmark_snapshots_pin_detector_state
  after insert or update on public.benchmark_snapshots
  for each row
  when (new.pinned_at is not null)
  execute function benchwatch_private.tg_benchmark_snapshots__detector_state();

create trigger benchmark_snapshots_unpin_detector_state
  after delete on public.benchmark_snapshots
  for each row
  when (old.pinned_at is not null)
  execute function benchwatch_private.tg_benchmark_snapshots__detector_state();


create table benchwatch_private.policy_version (
  id      boolean not null default true,
  version bigint  not null default 1,
  constraint policy_version_pkey primary key (id),
  constraint policy_version_one_row check (id)
);

insert into benchwatch_private.policy_version default values;

alter table benchwatch_private.policy_version enable row level security;

revoke all on table benchwatch_private.policy_version from public, anon, authenticated, service_role;

create policy "policy_version_select_service_role" on benchwatch_private.policy_version
  for select to service_role using (true);

grant select on table benchwatch_private.policy_version to service_role;

comment on table benchwatch_private.policy_version is
  'One row: the version of metric_policies and detection_defaults together, bumped by triggers on every change to either. A resolved_policies row of another version is not read.';

create table benchwatch_private.resolved_policies (
  metric             text    not null,
  policy_version     bigint  not null,
  direction          text,
  relative_threshold numeric,
  absolute_floor     numeric not null,
  source             text    not null,
  sensitivity        numeric not null,
  confirmation_runs  integer not null,
  min_history        integer not null,
  history_window     integer not null,
  proportion         boolean not null,
  resolve_fraction   numeric not null,
  reference_runs     integer not null,
  evidence_runs      integer not null,
  evidence_z         numeric not null,
  clip_z             numeric not null,
  alarm_z            numeric not null,
  resolve_runs       integer not null,
  window_size        integer not null,
  constraint resolved_policies_pkey primary key (metric)
);

alter table benchwatch_private.resolved_policies enable row level security;

revoke all on table benchwatch_private.resolved_policies from public, anon, authenticated, service_role;

create policy "resolved_policies_select_service_role" on benchwatch_private.resolved_policies
  for select to service_role using (true);

grant select on table benchwatch_private.resolved_policies to service_role;

comment on table benchwatch_private.resolved_policies is
  'Each metric name''s resolved policy at policy_version, so detection reads it by primary key instead of matching metric_policies'' patterns on every run: metric_policy''s direction, relative_threshold (the policy''s own, null when the caller''s threshold applies), absolute_floor and source; metric_detection_policy''s knobs; and, with detection_defaults, evidence_runs = max(evidence_runs, confirmation_runs), alarm_z = max(alarm_z, sensitivity), resolve_runs = min(max(resolve_runs, confirmation_runs), evidence_runs) and window_size = max(history_window, evidence_runs - 1). Written by record_runs (step 3b) for a batch''s metrics without a row of the current version; readers fall back to metric_policy / metric_detection_policy for a metric without one.';
comment on column benchwatch_private.resolved_policies.policy_version is
  'policy_version.version read in the same statement as the policies this row was resolved from.';

create or replace function benchwatch_private.tg_policies__bump_version()
returns trigger
language plpgsql
security definer
set search_path = ''
as $function$
begin
  update benchwatch_private.policy_version set version = version + 1;
  return null;
end
$function$;

revoke all on function benchwatch_private.tg_policies__bump_version()
  from public, anon, authenticated, service_role;
grant execute on function benchwatch_private.tg_policies__bump_version() to postgres;

comment on function benchwatch_private.tg_policies__bump_version() is
  'Trigger function on metric_policies and detection_defaults: any change bumps policy_version, so every resolved_policies row is resolved again by the next run that needs it.';

-- Row triggers (not statement ones): an insert that inserts nothing (apply_metric_directions'
-- ON CONFLICT DO NOTHING) changes no policy and leaves the version, and the resolved rows, alone.
create trigger metric_policies_bump_policy_version
  after insert or update or delete on public.metric_policies
  for each row execute function benchwatch_private.tg_policies__bump_version();

create trigger metric_policies_truncate_bump_policy_version
  after truncate on public.metric_policies
  for each statement execute function benchwatch_private.tg_policies__bump_version();

create trigger detection_defaults_bump_policy_version
  after insert or update or delete on benchwatch_private.detection_defaults
  for each row execute function benchwatch_private.tg_policies__bump_version();

create trigger detection_defaults_truncate_bump_policy_version
  after truncate on benchwatch_private.detection_defaults
  for each statement execute function benchwatch_private.tg_policies__bump_version();

CREATE OR REPLACE FUNCTION benchwatch_private.compare_runs (
  p_model_versions   text[],
  p_model_providers  text[],
  p_dataset_versions text[],
  p_prompt_versions  text[],
  p_environments     text[],
  p_metrics          jsonb[],
  p_threshold        numeric
)
  RETURNS TABLE (
    ord                     integer,
    metric_name             text,
    status                  text,
    is_regression           boolean,
    baseline_value          numeric,
    current_value           numeric,
    absolute_change         numeric,
    relative_change         numeric,
    direction               text,
    relative_threshold      numeric,
    absolute_floor          numeric,
    policy_source           text,
    baseline_snapshot_id    uuid,
    baseline_transaction_id uuid,
    baseline_model_version  text,
    baseline_prompt_version text,
    baseline_pinned_at      timestamp with time zone,
    prompt_mismatch         boolean
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
  with runs as (
    select u.ord::integer as ord, u.mv, u.mp, u.dv, u.pv, u.env, coalesce(u.metrics, '{}'::jsonb) as metrics
    from rows from (pg_catalog.unnest(p_model_versions), pg_catalog.unnest(p_model_providers),
                    pg_catalog.unnest(p_dataset_versions), pg_catalog.unnest(p_prompt_versions),
                    pg_catalog.unnest(p_environments), pg_catalog.unnest(p_metrics))
           with ordinality as u(mv, mp, dv, pv, env, metrics, ord)
  ),
  based as (
    select r.*, b.id as b_id, b.transaction_id as b_tx, b.model_version as b_model,
           b.prompt_version as b_prompt, b.pinned_at as b_pinned, b.metrics as b_metrics
    from runs r
    -- compare_run's rule, "order by (same model) desc, (same provider and prompt) desc,
    -- pinned_at desc, id", taken in its four cases, each one index probe: the series' own
    -- baseline (at most one); else the newest of its model's in the scope (none of them
    -- can share provider and prompt, or it would be the series' own); else the newest in
    -- the scope with the same provider and prompt; else the newest in the scope.
    left join lateral (
      select coalesce(
        (select b.id from public.benchmark_snapshots b
         where b.pinned_at is not null and b.is_baseline
           and b.model_version = r.mv and b.model_provider = r.mp and b.dataset_version = r.dv
           and b.prompt_version = r.pv and b.environment = r.env
         order by b.pinned_at desc, b.id
         limit 1),
        (select b.id from public.benchmark_snapshots b
         where b.pinned_at is not null and b.is_baseline
           and b.model_version = r.mv and b.dataset_version = r.dv and b.environment = r.env
         order by b.pinned_at desc, b.id
         limit 1),
        (select b.id from public.benchmark_snapshots b
         where b.pinned_at is not null and b.is_baseline
           and b.dataset_version = r.dv and b.environment = r.env
           and b.model_provider = r.mp and b.prompt_version = r.pv
         order by b.pinned_at desc, b.id
         limit 1),
        (select b.id from public.benchmark_snapshots b
         where b.pinned_at is not null and b.is_baseline
           and b.dataset_version = r.dv and b.environment = r.env
         order by b.pinned_at desc, b.id
         limit 1)) as id
    ) as pick on true
    left join public.benchmark_snapshots b on b.id = pick.id
  ),
  vals as (
    select x.ord, x.pv, n.key as metric_name,
           (x.b_metrics ->> n.key)::numeric as base,
           (x.metrics ->> n.key)::numeric as cur,
           x.b_id, x.b_tx, x.b_model, x.b_prompt, x.b_pinned
    from based x
    cross join lateral (
      select k.key from pg_catalog.jsonb_object_keys(x.metrics) as k(key)
      union
      select k.key from pg_catalog.jsonb_object_keys(coalesce(x.b_metrics, '{}'::jsonb)) as k(key)
    ) as n
  ),
  pols as (
    select d.metric_name, p.direction, p.relative_threshold, p.absolute_floor, p.source
    from (select distinct v.metric_name from vals v) as d
    -- The metric's resolved policy of the current version, else metric_policy (the LIMIT stops
    -- before the call when the row is there).
    cross join lateral (
      (select c.direction, coalesce(c.relative_threshold, p_threshold), c.absolute_floor, c.source
       from benchwatch_private.resolved_policies c
       join benchwatch_private.policy_version pv on pv.version = c.policy_version
       where c.metric = d.metric_name)
      union all
      (select mp.direction, mp.relative_threshold, mp.absolute_floor, mp.source
       from benchwatch_private.metric_policy(d.metric_name, p_threshold) as mp)
      limit 1
    ) as p(direction, relative_threshold, absolute_floor, source)
  )
  select v.ord,
         v.metric_name,
         case
           when v.b_id is null then 'no_baseline'
           when v.cur is null then 'missing_in_run'
           when v.base is null then 'missing_in_baseline'
           -- direction_unknown: without a direction a change is neither better nor worse.
           when p.direction is null then 'direction_unknown'
           when r.regressed then 'regression'
           else 'ok'
         end,
         coalesce(r.regressed, false),
         v.base,
         v.cur,
         v.cur - v.base,
         case when v.base <> 0 then pg_catalog.round((v.cur - v.base) / abs(v.base), 6) end,
         p.direction,
         p.relative_threshold,
         p.absolute_floor,
         p.source,
         v.b_id,
         v.b_tx,
         v.b_model,
         v.b_prompt,
         v.b_pinned,
         case when v.b_id is not null then v.b_prompt is distinct from v.pv end
  from vals v
  join pols p on p.metric_name = v.metric_name
  cross join lateral (
    select case p.direction when 'higher' then v.base - v.cur when 'lower' then v.cur - v.base end as bad
  ) as d
  cross join lateral (
    select d.bad > 0
       and d.bad > p.absolute_floor
       and case when v.base = 0 then true else d.bad / abs(v.base) > p.relative_threshold end as regressed
  ) as r
  order by v.ord, v.metric_name;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."compare_runs"(text[], text[], text[], text[], text[], jsonb[], numeric) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."compare_runs"(text[], text[], text[], text[], text[], jsonb[], numeric) IS 'compare_run for many runs at once (arrays aligned by position; ord is the 1-based position): one row per metric of each run or its baseline, in ord then metric order. A metric with no direction (metric_policy''s source none) has status direction_unknown and is never a regression.';

REVOKE ALL ON FUNCTION "benchwatch_private"."compare_runs"(text[], text[], text[], text[], text[], jsonb[], numeric) FROM PUBLIC;

CREATE OR REPLACE FUNCTION benchwatch_private.assess_runs (
  p_items benchwatch_private.assess_input[]
)
  RETURNS TABLE (
    ord                   integer,
    metric_name           text,
    reference_value       numeric,
    reference_runs        integer,
    change                numeric,
    series_noise          numeric,
    noise                 numeric,
    z                     numeric,
    beyond_tolerance      boolean,
    beyond_noise          boolean,
    out_of_control        boolean,
    back_in_control       boolean,
    confirmed_out         boolean,
    confirmed_back        boolean,
    baseline_noise        numeric,
    baseline_z            numeric,
    baseline_beyond_noise boolean
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
  with items as (
    select i.*, b.created_at as base_created,
           coalesce(b.model_version = i.model_version and b.model_provider = i.model_provider
                    and b.prompt_version = i.prompt_version and b.environment = i.environment
                    and b.dataset_version = i.dataset_version, false) as same_series
    from pg_catalog.unnest(p_items) as i
    left join public.benchmark_snapshots b on b.id = i.baseline_snapshot_id
  ),
  pols as materialized (
    select d.metric, pol.*
    from (select distinct it.metric from items it) as d
    -- The metric's resolved policy of the current version (resolved_policies), else the same
    -- from metric_detection_policy and detection_defaults (the LIMIT stops before the call
    -- when the row is there).
    cross join lateral (
      (select c.sensitivity, c.confirmation_runs, c.min_history, c.history_window, c.proportion,
              c.resolve_fraction, c.reference_runs, c.evidence_runs, c.evidence_z, c.clip_z, c.alarm_z,
              c.resolve_runs
       from benchwatch_private.resolved_policies c
       join benchwatch_private.policy_version pv on pv.version = c.policy_version
       where c.metric = d.metric)
      union all
      (select p.sensitivity, p.confirmation_runs, p.min_history, p.history_window, p.proportion,
              p.resolve_fraction, p.reference_runs, greatest(dd.evidence_runs, p.confirmation_runs),
              dd.evidence_z, dd.clip_z, greatest(dd.alarm_z, p.sensitivity),
              -- Runs back within resolve_fraction that resolve an alert: resolve_runs, and at
              -- least confirmation_runs; within the previous runs already read for the evidence.
              least(greatest(dd.resolve_runs, p.confirmation_runs),
                    greatest(dd.evidence_runs, p.confirmation_runs))
       from benchwatch_private.metric_detection_policy(d.metric) as p
       cross join benchwatch_private.detection_defaults dd)
      limit 1
    ) as pol
  ),
  m as (
    select it.ord, it.model_version, it.model_provider, it.dataset_version, it.prompt_version,
           it.environment, it.transaction_id, it.as_of, it.baseline_transaction_id,
           it.base_created, it.same_series,
           it.metric, it.value as val, it.own_stderr as own, it.direction, it.relative_threshold as rel,
           it.absolute_floor as floor, it.baseline_value as base_val,
           pol.sensitivity, pol.confirmation_runs, pol.min_history, pol.history_window,
           pol.resolve_fraction, pol.reference_runs, pol.evidence_runs, pol.evidence_z, pol.clip_z,
           pol.alarm_z, pol.resolve_runs,
           coalesce(st.from_state, false) as from_state, st.vals as st_vals, st.backs as st_backs, st.ref_vals as st_ref_vals,
           case when it.base_created is null then null
                when st.from_state and it.same_series then st.base_se
                else (select bo.own_stderr from benchwatch_private.metric_observations bo
                      where bo.transaction_id = it.baseline_transaction_id and bo.metric_name = it.metric)
           end as base_se
    from items it
    join pols pol on pol.metric = it.metric
    -- The series' detector_state row stands for the log when it holds exactly what the log
    -- reads below for this run: every observation precedes the run (none later, none of the
    -- run's own), it was kept with this policy's window and reference sizes, and (when the
    -- reference runs are the series' own) for this baseline.
    left join lateral (
      select coalesce(
               s.window_size = greatest(pol.history_window, pol.evidence_runs - 1)
               and s.last_created_at <= it.as_of
               and not (s.last_created_at = it.as_of and it.transaction_id = any (s.last_transaction_ids))
               and (not it.same_series
                    or (s.reference_runs = pol.reference_runs
                        and s.baseline_transaction_id = it.baseline_transaction_id
                        and s.baseline_created_at = it.base_created)),
               false) as from_state,
             s.window_values as vals, s.window_back_in_control as backs, s.reference_values as ref_vals,
             s.baseline_stderr as base_se
      from benchwatch_private.detector_state s
      where s.model_version = it.model_version and s.model_provider = it.model_provider
        and s.dataset_version = it.dataset_version and s.prompt_version = it.prompt_version
        and s.environment = it.environment and s.metric_name = it.metric
    ) as st on true
  ),
  calc as materialized (
    select m.*, hs.sigma, hs.hist_n, rf.r, rf.m as ref_n, rf.spread, pv.n as prev_n, pv.all_back,
           pv.prev_vals,
           case when m.direction = 'higher' then rf.r - m.val else m.val - rf.r end as bad,
           case when m.direction = 'higher' then m.base_val - m.val else m.val - m.base_val end as bad_b
    from m
    -- The last runs before this one, newest first, read once: the last history_window of
    -- them give the series' own noise, the last evidence_runs - 1 the evidence and the
    -- resolution (the same index range, so one scan of the longer of the two).
    -- From the state row when it stands for the log (its window is exactly these runs).
    cross join lateral (
      select m.st_vals as vals, m.st_backs as backs, pg_catalog.cardinality(m.st_vals) as n
      where m.from_state
      union all
      select pg_catalog.array_agg(h.value order by h.created_at desc, h.seq desc) as vals,
             pg_catalog.array_agg(h.back_in_control order by h.created_at desc, h.seq desc) as backs,
             pg_catalog.count(*)::integer as n
      from (
        select o.value, o.back_in_control, o.created_at, o.seq
        from benchwatch_private.metric_observations o
        where not m.from_state
          and o.model_version = m.model_version and o.model_provider = m.model_provider
          and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
          and o.environment = m.environment and o.metric_name = m.metric
          and o.created_at <= m.as_of and o.transaction_id <> m.transaction_id
        order by o.created_at desc, o.seq desc
        limit greatest(m.history_window, m.evidence_runs - 1)
      ) as h
      having not m.from_state
    ) as w
    -- The series' own noise: robust spread of successive differences over its last
    -- history_window runs, once there are min_history of them. Every run counts: leaving
    -- out the flagged ones biased the estimate down on noisy series, and the bias fed
    -- itself (a step adds one large difference, which the median ignores).
    cross join lateral (
      select case when hn.n >= m.min_history
                  then (1.4826 * (select pg_catalog.percentile_cont(0.5) within group (
                                           order by pg_catalog.abs(w.vals[i] - w.vals[i + 1])::float8)
                                  from pg_catalog.generate_series(1, hn.n - 1) as i)
                        / pg_catalog.sqrt(2::float8))::numeric end as sigma,
             hn.n as hist_n
      from (select least(w.n, m.history_window)::integer as n) as hn
    ) as hs
    -- The reference level: median of the baseline and the first reference_runs - 1
    -- in-control runs of the same series after it.
    cross join lateral (
      select (q.q[2])::numeric as r, q.m,
             -- The level's own spread: the interquartile range of those runs / 1.349, once
             -- there are min_history of them. It sees what successive differences cannot:
             -- a slow periodic wander, two infrastructure pools. Same sort as the median.
             case when q.m >= m.min_history then ((q.q[3] - q.q[1]) / 1.349)::numeric end as spread
      from (
      select pg_catalog.percentile_cont(array[0.25, 0.5, 0.75]::float8[]) within group (order by r.v::float8) as q,
             pg_catalog.count(*)::integer as m
      from (
        select m.base_val as v
        union all
        -- From the state row when it stands for the log: the same runs' values.
        select x.v from pg_catalog.unnest(m.st_ref_vals) as x(v) where m.from_state and m.same_series
        union all
        (select o.value
         from benchwatch_private.metric_observations o
         where m.same_series and not m.from_state
           and o.model_version = m.model_version and o.model_provider = m.model_provider
           and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
           and o.environment = m.environment and o.metric_name = m.metric
           and o.created_at >= m.base_created and o.created_at <= m.as_of and not o.out_of_control
           and o.transaction_id <> m.baseline_transaction_id and o.transaction_id <> m.transaction_id
         order by o.created_at asc, o.seq asc
         limit m.reference_runs - 1)
      ) as r
      where r.v is not null
      ) as q
    ) as rf
    -- The previous evidence_runs - 1 runs, newest first: their values (the evidence for an
    -- opening) and, for the last resolve_runs - 1 of them, whether they were back in
    -- control (a resolution).
    cross join lateral (
      select least(w.n, m.evidence_runs - 1, m.resolve_runs - 1)::integer as n,
             not coalesce(false = any (w.backs[1:least(m.evidence_runs, m.resolve_runs) - 1]), false) as all_back,
             w.vals[1:m.evidence_runs - 1] as prev_vals
    ) as pv
    where rf.m > 0
  ),
  noise as (
    select c.*, s.sigma_run, s.sigma_base,
           -- The reference level's own standard error (x1.25 for a median): common to every
           -- run of the evidence.
           coalesce(s.sigma_base, 0) * case when c.ref_n >= 3 then 1.2533 else 1 end
             / pg_catalog.sqrt(c.ref_n::numeric) as nz_ref
    from calc c
    cross join lateral (
      select greatest(c.sigma, c.spread, c.own) as sigma_run,
             greatest(c.sigma, c.spread, c.base_se) as sigma_base
    ) as s
  ),
  nz as (
    select n.*,
           case when n.sigma_run is null and n.sigma_base is null then null
                else pg_catalog.sqrt(coalesce(n.sigma_run, 0) ^ 2 + n.nz_ref ^ 2)
           end as nz,
           case when n.sigma_run is null and n.sigma_base is null then null
                else pg_catalog.sqrt(coalesce(n.sigma_run, 0) ^ 2 + coalesce(n.sigma_base, 0) ^ 2)
           end as nz_b,
           (n.hist_n >= n.min_history - 1 or not n.same_series) as has_history
    from noise n
  ),
  verdict as (
    select n.*,
           (n.bad > 0 and n.bad > n.floor
            and case when n.r = 0 then true else n.bad / pg_catalog.abs(n.r) > n.rel end) as beyond_tol,
           case when n.nz is null then null else n.bad > n.sensitivity * n.nz end as beyond_nz,
           (n.bad <= greatest(n.rel * pg_catalog.abs(n.r) * n.resolve_fraction, n.floor)) as back,
           n.has_history and ev.each_beyond and ev.evident as confirmed
    from nz n
    cross join lateral benchwatch_private.evidence(
      array[n.val] || coalesce(n.prev_vals, '{}'), n.direction = 'higher', n.r,
      greatest(n.rel * pg_catalog.abs(n.r), n.floor), n.nz, n.sigma_run, n.nz_ref,
      n.confirmation_runs, n.clip_z, n.evidence_z, n.alarm_z) as ev
  )
  select v.ord, v.metric, v.r, v.ref_n, v.bad, greatest(v.sigma, v.spread), pg_catalog.round(v.nz, 10),
         case when v.nz > 0 then pg_catalog.round(v.bad / v.nz, 4) end,
         v.beyond_tol, v.beyond_nz,
         (v.beyond_tol and coalesce(v.beyond_nz, true) and v.has_history) or v.confirmed,
         v.back,
         v.confirmed,
         v.back and v.prev_n = v.resolve_runs - 1 and v.all_back,
         pg_catalog.round(v.nz_b, 10),
         case when v.nz_b > 0 then pg_catalog.round(v.bad_b / v.nz_b, 4) end,
         case when v.nz_b is null then null else v.bad_b > v.sensitivity * v.nz_b end
  from verdict v;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."assess_runs"(benchwatch_private.assess_input[]) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."assess_runs"(benchwatch_private.assess_input[]) IS 'The noise-aware alerting verdict for many metrics of many runs at once, one row per item that has a reference level (its ord and metric): reference level, noise (the largest of the run''s own standard error, the median successive difference of the series'' last history_window runs, and the reference runs'' interquartile range / 1.349), z, beyond tolerance / noise, out of control (beyond tolerance and noise, or confirming an opening), back in control, whether the evidence of the last runs confirms an opening (the run beyond tolerance and each of the other last confirmation_runs runs beyond tolerance less one noise unit, and the clipped mean change of the last j <= evidence_runs runs beyond tolerance by evidence_z standard errors and beyond zero by alarm_z) and whether the last resolve_runs runs (at least confirmation_runs) confirm a resolution. The history it reads (the last max(history_window, evidence_runs - 1) runs before the run, the first reference_runs - 1 in-control runs after the baseline, the baseline''s own standard error) comes from the series'' detector_state row when that row stands for it: every observation of the series and metric precedes the run and none is the run''s own, the row was kept with the policy''s current window and reference sizes, and, when the baseline is the series'' own, for this baseline. Otherwise (a run older than the newest observation, e.g. a backfill or detect_regression''s latest run; a changed policy; a re-pinned baseline not yet rebuilt; no row) it reads the same from metric_observations, which defines the answers: both give identical rows. Runs of one call must not depend on each other''s observations (record_runs passes one run per series).';

REVOKE ALL ON FUNCTION "benchwatch_private"."assess_runs"(benchwatch_private.assess_input[]) FROM PUBLIC;

-- record_runs' step 7, in a function of its own so that its statement runs on one generic plan
-- (as assess_runs and compare_runs do) instead of being planned again on every call (~0.45 ms;
-- taking the sizes from record_runs' own policy lookup in step 6 cost more than it saved, its
-- statement being planned per call).
CREATE OR REPLACE FUNCTION benchwatch_private.record_observations (
  p_items benchwatch_private.run_metric[]
)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path TO ''
  SET plan_cache_mode TO 'force_generic_plan'
  AS $function$
declare
  v_st_mv text[];
  v_st_mp text[];
  v_st_dv text[];
  v_st_pv text[];
  v_st_env text[];
  v_st_metric text[];
begin
  -- The observations, and the detector_state rows that stand for them: each (series, metric)
  -- row takes its new observation in place when that observation is the newest (by
  -- created_at, seq) and the row was kept with the policy's current window and reference sizes
  -- (one UPDATE, HOT: no indexed column changes). Any other row (a backfilled run, a changed
  -- policy, no row yet) is rebuilt from metric_observations, which now holds the new
  -- observation.
  with ins as (
    insert into benchwatch_private.metric_observations (
      transaction_id, metric_name, model_version, model_provider, dataset_version, prompt_version,
      environment, created_at, value, dataset_size, reported_stderr, trials, own_stderr,
      reference_value, noise, z, out_of_control, back_in_control)
    select a.tx_id, a.metric_name, a.model_version, a.model_provider, a.dataset_version, a.prompt_version,
           a.environment, a.created_at, a.current_value, a.dataset_size, a.reported, a.trials, a.own,
           a.reference_value, a.noise, a.z, coalesce(a.out_of_control, false), coalesce(a.back_in_control, true)
    from pg_catalog.unnest(p_items) as a
    where a.current_value is not null
    returning transaction_id, metric_name, seq, model_version, model_provider, dataset_version,
              prompt_version, environment, created_at, value, out_of_control, back_in_control
  ),
  kn as materialized (
    select d.metric_name, pol.window_size, pol.reference_runs
    from (select distinct i.metric_name from ins as i) as d
    -- The metric's resolved policy of the current version, else metric_detection_policy.
    cross join lateral (
      (select c.window_size, c.reference_runs
       from benchwatch_private.resolved_policies c
       join benchwatch_private.policy_version pv on pv.version = c.policy_version
       where c.metric = d.metric_name)
      union all
      (select greatest(p.history_window, greatest(dd.evidence_runs, p.confirmation_runs) - 1), p.reference_runs
       from benchwatch_private.metric_detection_policy(d.metric_name) as p
       cross join benchwatch_private.detection_defaults as dd)
      limit 1
    ) as pol
  ),
  up as (
    update benchwatch_private.detector_state as s
    set window_values = (pg_catalog.array_prepend(i.value, s.window_values))[1:s.window_size],
        window_back_in_control = (pg_catalog.array_prepend(i.back_in_control, s.window_back_in_control))[1:s.window_size],
        last_transaction_ids = case when i.created_at = s.last_created_at
                                    then pg_catalog.array_append(s.last_transaction_ids, i.transaction_id)
                                    else array[i.transaction_id] end,
        last_created_at = i.created_at,
        last_seq = i.seq,
        -- A reference run while the reference is filling: in control, at or after the
        -- baseline, not the baseline itself.
        reference_values = case
          when s.baseline_transaction_id is not null and not i.out_of_control
               and i.created_at >= s.baseline_created_at and i.transaction_id <> s.baseline_transaction_id
               and pg_catalog.cardinality(s.reference_values) < s.reference_runs - 1
            then pg_catalog.array_append(s.reference_values, i.value)
          else s.reference_values
        end
    from ins as i
    join kn on kn.metric_name = i.metric_name
    where s.model_version = i.model_version and s.model_provider = i.model_provider
      and s.dataset_version = i.dataset_version and s.prompt_version = i.prompt_version
      and s.environment = i.environment and s.metric_name = i.metric_name
      and (s.last_created_at, s.last_seq) < (i.created_at, i.seq)
      and s.window_size = kn.window_size and s.reference_runs = kn.reference_runs
    returning s.model_version, s.model_provider, s.dataset_version, s.prompt_version, s.environment,
              s.metric_name
  )
  select pg_catalog.array_agg(i.model_version), pg_catalog.array_agg(i.model_provider),
         pg_catalog.array_agg(i.dataset_version), pg_catalog.array_agg(i.prompt_version),
         pg_catalog.array_agg(i.environment), pg_catalog.array_agg(i.metric_name)
  into v_st_mv, v_st_mp, v_st_dv, v_st_pv, v_st_env, v_st_metric
  from ins as i
  left join up as u
    on u.model_version = i.model_version and u.model_provider = i.model_provider
   and u.dataset_version = i.dataset_version and u.prompt_version = i.prompt_version
   and u.environment = i.environment and u.metric_name = i.metric_name
  where u.metric_name is null;
  if v_st_mv is not null then
    perform benchwatch_private.load_detector_state(v_st_mv, v_st_mp, v_st_dv, v_st_pv, v_st_env, v_st_metric);
  end if;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."record_observations"(benchwatch_private.run_metric[]) TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."record_observations"(benchwatch_private.run_metric[]) IS 'record_runs'' step 7 for one round: inserts a metric_observations row per run and metric with a value (its verdict from p_items), and keeps each one''s detector_state row: updated in place (one HOT UPDATE) when the observation is the newest of its series and metric and the row has the policy''s current window and reference sizes, rebuilt from metric_observations (load_detector_state) otherwise.';

REVOKE ALL ON FUNCTION "benchwatch_private"."record_observations"(benchwatch_private.run_metric[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION benchwatch_private.record_runs (
  p_runs             jsonb,
  p_idempotency_keys text[],
  p_name_runs        boolean
)
  RETURNS jsonb[]
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_n integer := pg_catalog.jsonb_array_length(p_runs);
  v_i integer := 0;
  v_run benchwatch_private.run_input;
  v_new benchwatch_private.run_input[] := '{}'::benchwatch_private.run_input[];
  v_runs benchwatch_private.run_input[];
  v_round benchwatch_private.run_input[];
  v_rounds integer;
  v_answers jsonb[] := pg_catalog.array_fill(null::jsonb, array[v_n]);
  v_claimed uuid[];
  v_latest uuid[];
  v_items benchwatch_private.run_metric[];
  v_alerts jsonb;
  v_ords integer[];
  v_list jsonb[];
  v_existing_request bytea;
  v_existing_response jsonb;
  v_existing_kind text;
  v_first integer;
  v_state text;
  v_message text;
  v_detail text;
  v_hint text;
begin
  -- 1. Validate every run, in order. A run whose identity is already recorded replays its
  --    first answer; an Idempotency-Key already used for a different run is BW009.
  begin
    while v_i < v_n loop
      v_run := benchwatch_private.parse_run(p_runs -> v_i, p_idempotency_keys[v_i + 1]);
      v_run.ord := v_i + 1;
      select r.request_hash, r.response, r.kind into v_existing_request, v_existing_response, v_existing_kind
      from benchwatch_private.run_identities r
      where r.identity_hash = v_run.identity_hash;
      if found then
        if v_existing_kind = 'idempotency_key' and v_existing_request <> v_run.request_hash then
          raise exception using
            errcode = 'BW009',
            message = 'Cannot record run: this Idempotency-Key was already used with a different run',
            hint = 'Use a new Idempotency-Key for a different run.';
        end if;
        v_answers[v_run.ord] := v_existing_response || pg_catalog.jsonb_build_object('replayed', true);
      else
        v_new := pg_catalog.array_append(v_new, v_run);
      end if;
      v_i := v_i + 1;
    end loop;
  exception
    when others then
      if not p_name_runs then
        raise;
      end if;
      get stacked diagnostics
        v_state = returned_sqlstate,
        v_message = message_text,
        v_detail = pg_exception_detail,
        v_hint = pg_exception_hint;
      v_message := pg_catalog.format('runs[%s]: %s', v_i, v_message);
      -- RAISE refuses null options and would send empty ones, so pass only what exists.
      if v_detail <> '' and v_hint <> '' then
        raise exception using errcode = v_state, message = v_message, detail = v_detail, hint = v_hint;
      elsif v_detail <> '' then
        raise exception using errcode = v_state, message = v_message, detail = v_detail;
      elsif v_hint <> '' then
        raise exception using errcode = v_state, message = v_message, hint = v_hint;
      else
        raise exception using errcode = v_state, message = v_message;
      end if;
  end;

  -- 2. Claim the new identities in one statement, in hash order (two concurrent batches
  --    take them in the same order). The first run of the batch with an identity claims
  --    it; INSERT ... ON CONFLICT waits for a concurrent transaction that claimed it first.
  with ins as (
    insert into benchwatch_private.run_identities (identity_hash, kind, request_hash, transaction_id)
    select f.identity_hash, f.identity_kind, f.request_hash, f.tx_id
    from (select distinct on (r.identity_hash) r.identity_hash, r.identity_kind, r.request_hash, r.tx_id
          from pg_catalog.unnest(v_new) as r
          order by r.identity_hash, r.ord) as f
    order by f.identity_hash
    on conflict (identity_hash) do nothing
    returning transaction_id
  )
  select coalesce(pg_catalog.array_agg(ins.transaction_id), '{}') into v_claimed from ins;

  -- 3. The claimed runs get their time and their round: the k-th run of a series in the
  --    batch is recorded in round k, after everything rounds 1 to k-1 wrote.
  select coalesce(pg_catalog.array_agg(q.x order by (q.x).ord), '{}'), coalesce(max((q.x).round), 0)
  into v_runs, v_rounds
  from (
    select row(r.ord,
               (pg_catalog.row_number() over (
                  partition by r.model_version, r.model_provider, r.dataset_version, r.prompt_version, r.environment
                  order by r.ord))::integer,
               r.tx_id, r.identity_hash, r.identity_kind, r.request_hash, r.commit_sha, r.branch_name,
               r.model_version, r.model_provider, r.dataset_version, r.dataset_size, r.prompt_version,
               r.environment, r.run_id, r.triggered_by, r.metrics, r.duration_seconds,
               coalesce(r.tags, '{}'), r.notes, coalesce(r.created_at, pg_catalog.now()),
               r.metric_stderr, r.metric_trials)::benchwatch_private.run_input as x
    from pg_catalog.unnest(v_new) as r
    where r.tx_id = any (v_claimed)
  ) as q;

  -- 3b. Resolve the policy of every metric of the batch that has no resolved_policies row of
  --     the current version (the version and the policies read in this one statement's
  --     snapshot); nothing is written when every row is current. Once for the whole batch and
  --     in metric order, so two batches resolving the same metrics after a policy change take
  --     their rows in the same order, in one statement (no lock-order inversion across rounds).
  --     (The metric names are taken as one array and the one-row tables through LIMIT 1, so
  --     the planner's estimates stay those of a batch's few metrics: over a product of default
  --     estimates it JIT-compiled the statement on every call, ~200 ms.)
  with missing as materialized (
    select k.metric, v.version
    from pg_catalog.unnest(array(
           select distinct m.key
           from pg_catalog.unnest(v_runs) as r
           cross join lateral pg_catalog.jsonb_object_keys(r.metrics) as m(key))) as k(metric)
    cross join (select pv.version from benchwatch_private.policy_version as pv limit 1) as v
    where not exists (select 1 from benchwatch_private.resolved_policies c
                      where c.metric = k.metric and c.policy_version = v.version)
  )
  insert into benchwatch_private.resolved_policies as c (
    metric, policy_version, direction, relative_threshold, absolute_floor, source, sensitivity,
    confirmation_runs, min_history, history_window, proportion, resolve_fraction, reference_runs,
    evidence_runs, evidence_z, clip_z, alarm_z, resolve_runs, window_size)
  select k.metric, k.version, mp.direction, mp.relative_threshold, mp.absolute_floor, mp.source,
         dp.sensitivity, dp.confirmation_runs, dp.min_history, dp.history_window, dp.proportion,
         dp.resolve_fraction, dp.reference_runs, greatest(dd.evidence_runs, dp.confirmation_runs),
         dd.evidence_z, dd.clip_z, greatest(dd.alarm_z, dp.sensitivity),
         least(greatest(dd.resolve_runs, dp.confirmation_runs), greatest(dd.evidence_runs, dp.confirmation_runs)),
         greatest(dp.history_window, greatest(dd.evidence_runs, dp.confirmation_runs) - 1)
  from missing as k
  cross join (select d.* from benchwatch_private.detection_defaults as d limit 1) as dd
  cross join lateral benchwatch_private.metric_policy(k.metric, null) as mp
  cross join lateral benchwatch_private.metric_detection_policy(k.metric) as dp
  order by k.metric
  on conflict (metric) do update set
    policy_version = excluded.policy_version,
    direction = excluded.direction,
    relative_threshold = excluded.relative_threshold,
    absolute_floor = excluded.absolute_floor,
    source = excluded.source,
    sensitivity = excluded.sensitivity,
    confirmation_runs = excluded.confirmation_runs,
    min_history = excluded.min_history,
    history_window = excluded.history_window,
    proportion = excluded.proportion,
    resolve_fraction = excluded.resolve_fraction,
    reference_runs = excluded.reference_runs,
    evidence_runs = excluded.evidence_runs,
    evidence_z = excluded.evidence_z,
    clip_z = excluded.clip_z,
    alarm_z = excluded.alarm_z,
    resolve_runs = excluded.resolve_runs,
    window_size = excluded.window_size
  where c.policy_version < excluded.policy_version;

  for v_k in 1 .. v_rounds loop
    v_round := array(select r from pg_catalog.unnest(v_runs) as r where r.round = v_k order by r.ord);

    -- 4. Append to the log.
    insert into public.benchmark_transactions (
      id, commit_sha, branch_name, model_version, model_provider, dataset_version, dataset_size,
      prompt_version, environment, run_id, triggered_by, metrics, duration_seconds, tags, notes, created_at)
    select r.tx_id, r.commit_sha, r.branch_name, r.model_version, r.model_provider, r.dataset_version,
           r.dataset_size, r.prompt_version, r.environment, r.run_id, r.triggered_by, r.metrics,
           r.duration_seconds, r.tags, r.notes, r.created_at
    from pg_catalog.unnest(v_round) as r
    order by r.ord;

    -- 5. Move each series' latest snapshot here, unless a newer run is already there.
    with up as (
      insert into public.benchmark_snapshots as s (
        transaction_id, commit_sha, branch_name, model_version, model_provider, dataset_version,
        dataset_size, prompt_version, environment, run_id, triggered_by, metrics, duration_seconds,
        tags, notes, created_at, is_active, is_baseline, updated_at)
      select r.tx_id, r.commit_sha, r.branch_name, r.model_version, r.model_provider, r.dataset_version,
             r.dataset_size, r.prompt_version, r.environment, r.run_id, r.triggered_by, r.metrics,
             r.duration_seconds, r.tags, r.notes, r.created_at, true, false, pg_catalog.now()
      from pg_catalog.unnest(v_round) as r
      order by r.ord
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
      returning s.transaction_id
    )
    select coalesce(pg_catalog.array_agg(up.transaction_id), '{}') into v_latest from up;

    -- 6. Compare with the baselines (the guide's verdict, unchanged), then the noise-aware
    --    verdict per metric: one run_metric per run and metric.
    with run as (
      select r.*, (pg_catalog.row_number() over (order by r.ord))::integer as pos
      from pg_catalog.unnest(v_round) as r
    ),
    cmp as (
      select c.*
      from (select pg_catalog.array_agg(r.model_version order by r.pos) as mv,
                   pg_catalog.array_agg(r.model_provider order by r.pos) as mp,
                   pg_catalog.array_agg(r.dataset_version order by r.pos) as dv,
                   pg_catalog.array_agg(r.prompt_version order by r.pos) as pv,
                   pg_catalog.array_agg(r.environment order by r.pos) as env,
                   pg_catalog.array_agg(r.metrics order by r.pos) as m
            from run as r) as a
      cross join lateral benchwatch_private.compare_runs(a.mv, a.mp, a.dv, a.pv, a.env, a.m, 0.05) as c
    ),
    dpol as materialized (
      select d.metric_name, pol.proportion
      from (select distinct x.metric_name from cmp as x) as d
      -- The metric's resolved policy (3b), else metric_detection_policy (a baseline's metric
      -- the run lacks).
      cross join lateral (
        (select c.proportion
         from benchwatch_private.resolved_policies c
         join benchwatch_private.policy_version pv on pv.version = c.policy_version
         where c.metric = d.metric_name)
        union all
        (select p.proportion from benchwatch_private.metric_detection_policy(d.metric_name) as p)
        limit 1
      ) as pol
    ),
    c as materialized (
      select run.ord, run.tx_id, run.model_version, run.model_provider, run.dataset_version,
             run.prompt_version, run.environment, run.created_at, run.dataset_size,
             run.tx_id = any (v_latest) as is_latest,
             x.metric_name, x.status, x.is_regression, x.baseline_value, x.current_value,
             x.absolute_change, x.relative_change, x.direction, x.relative_threshold, x.absolute_floor,
             x.policy_source, x.baseline_snapshot_id, x.baseline_transaction_id,
             x.baseline_model_version, x.baseline_prompt_version, x.baseline_pinned_at, x.prompt_mismatch,
             n.reported, n.trials,
             case when x.current_value is not null then
               benchwatch_private.own_stderr(x.current_value, d.proportion, run.dataset_size, n.reported, n.trials)
             end as own
      from cmp as x
      join run on run.pos = x.ord
      join dpol as d on d.metric_name = x.metric_name
      cross join lateral (
        select (run.metric_stderr ->> x.metric_name)::numeric as reported,
               case when run.metric_trials ? x.metric_name then
                 array(select t.value::numeric
                       from pg_catalog.jsonb_array_elements_text(run.metric_trials -> x.metric_name) as t(value))
               end as trials
      ) as n
    ),
    assessed as (
      select a.*
      from benchwatch_private.assess_runs(array(
        select row(c.ord, c.model_version, c.model_provider, c.dataset_version, c.prompt_version,
                   c.environment, c.tx_id, c.created_at, c.baseline_transaction_id, c.baseline_snapshot_id,
                   c.metric_name, c.current_value, c.own, c.direction, c.relative_threshold,
                   c.absolute_floor, c.baseline_value)::benchwatch_private.assess_input
        from c
        where c.current_value is not null and c.status in ('ok', 'regression'))) as a
    )
    select coalesce(pg_catalog.array_agg(row(
             c.ord, c.tx_id, c.model_version, c.model_provider, c.dataset_version, c.prompt_version,
             c.environment, c.created_at, c.dataset_size, c.is_latest, c.metric_name, c.status,
             c.is_regression, c.baseline_value, c.current_value, c.absolute_change, c.relative_change,
             c.direction, c.relative_threshold, c.absolute_floor, c.policy_source, c.baseline_snapshot_id,
             c.baseline_transaction_id, c.baseline_model_version, c.baseline_prompt_version,
             c.baseline_pinned_at, c.prompt_mismatch, c.reported, c.trials, c.own, a.reference_value,
             a.noise, a.z, a.out_of_control, a.back_in_control, a.confirmed_out, a.confirmed_back
           )::benchwatch_private.run_metric order by c.ord, c.metric_name), '{}')
    into v_items
    from c
    left join assessed as a on a.ord = c.ord and a.metric_name = c.metric_name;

    -- 6b. Per-example evidence (paired_gate): store the round's examples, compare them with
    --     the baseline's, and let the paired rule decide the opening of the metrics it covers.
    v_items := benchwatch_private.paired_gate(v_round, v_items, p_runs);

    -- 7. The observations later runs of the series read, and the detector_state rows that
    --    stand for them (record_observations).
    perform benchwatch_private.record_observations(v_items);

    -- 8. Alerts follow each series' latest run only: continue the open ones still out of
    --    control, open the confirmed ones, resolve the ones confirmed back. Skipped when no
    --    latest run has a metric out of control or back in control.
    v_alerts := '[]';
    if exists (select 1 from pg_catalog.unnest(v_items) as a
               where a.is_latest and (a.out_of_control or a.confirmed_back)) then
      with continued as (
        update public.regression_alerts a
        set last_transaction_id = c.tx_id,
            last_value = c.current_value,
            last_relative_change = c.relative_change,
            last_seen_at = pg_catalog.now(),
            regressing_run_count = a.regressing_run_count + 1
        from pg_catalog.unnest(v_items) as c
        where c.out_of_control and c.is_latest
          and a.status = 'open'
          and a.model_version = c.model_version
          and a.model_provider = c.model_provider
          and a.dataset_version = c.dataset_version
          and a.prompt_version = c.prompt_version
          and a.environment = c.environment
          and a.metric_name = c.metric_name
        returning a.last_transaction_id as tx_id, a.metric_name, a.id
      )
      select v_alerts || coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'kind', 'continued', 'tx_id', x.tx_id, 'metric_name', x.metric_name, 'id', x.id)), '[]'::jsonb)
      into v_alerts
      from continued as x;

      with opened as (
        insert into public.regression_alerts (
          model_version, model_provider, dataset_version, prompt_version, environment, metric_name,
          direction, relative_threshold, absolute_floor, baseline_snapshot_id, baseline_transaction_id,
          baseline_model_version, baseline_prompt_version, baseline_value, opened_transaction_id,
          opened_value, opened_relative_change, last_transaction_id, last_value, last_relative_change)
        select c.model_version, c.model_provider, c.dataset_version, c.prompt_version, c.environment,
               c.metric_name, c.direction, c.relative_threshold, c.absolute_floor, c.baseline_snapshot_id,
               c.baseline_transaction_id, c.baseline_model_version, c.baseline_prompt_version,
               c.baseline_value, c.tx_id, c.current_value, c.relative_change, c.tx_id, c.current_value,
               c.relative_change
        from pg_catalog.unnest(v_items) as c
        where c.confirmed_out and c.is_latest
        order by c.ord, c.metric_name
        on conflict (model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
          where (status = 'open')
        do nothing
        returning opened_transaction_id as tx_id, metric_name, id
      )
      select v_alerts || coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'kind', 'opened', 'tx_id', x.tx_id, 'metric_name', x.metric_name, 'id', x.id)), '[]'::jsonb)
      into v_alerts
      from opened as x;

      with resolved as (
        update public.regression_alerts a
        set status = 'resolved',
            resolved_transaction_id = c.tx_id,
            resolved_value = c.current_value,
            resolved_at = pg_catalog.now(),
            resolved_delivery_status = 'pending'
        from pg_catalog.unnest(v_items) as c
        where c.confirmed_back and c.is_latest
          and a.status = 'open'
          and a.model_version = c.model_version
          and a.model_provider = c.model_provider
          and a.dataset_version = c.dataset_version
          and a.prompt_version = c.prompt_version
          and a.environment = c.environment
          and a.metric_name = c.metric_name
        returning a.resolved_transaction_id as tx_id, a.metric_name, a.id
      )
      select v_alerts || coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'kind', 'resolved', 'tx_id', x.tx_id, 'metric_name', x.metric_name, 'id', x.id)), '[]'::jsonb)
      into v_alerts
      from resolved as x;
    end if;

    -- 9. Each run's answer, stored with its identity for replays.
    with stored as (
      update benchwatch_private.run_identities ri
      -- Only a run that sent examples can have paired rows: the others skip the lookup.
      set response = case
        when pg_catalog.jsonb_typeof(p_runs -> (a.ord - 1) -> 'examples') = 'array'
          then benchwatch_private.paired_answer(a.answer)
        else a.answer
      end
      from benchwatch_private.run_answers(v_round, v_items, v_alerts, v_latest) as a
      where ri.identity_hash = a.identity_hash
      returning a.ord, ri.response as answer
    )
    select pg_catalog.array_agg(s.ord), pg_catalog.array_agg(s.answer)
    into v_ords, v_list
    from stored as s;

    for v_j in 1 .. coalesce(pg_catalog.cardinality(v_ords), 0) loop
      v_answers[v_ords[v_j]] := v_list[v_j];
    end loop;
  end loop;

  -- 10. The runs that found their identity claimed in step 2: by an earlier run of this
  --     batch (replay its answer) or by a concurrent transaction (replay its stored one).
  for v_run in
    select r.* from pg_catalog.unnest(v_new) as r where r.tx_id <> all (v_claimed) order by r.ord
  loop
    v_first := (select min(r.ord) from pg_catalog.unnest(v_new) as r
                where r.identity_hash = v_run.identity_hash and r.tx_id = any (v_claimed));
    if v_first is not null then
      v_existing_response := v_answers[v_first];
      v_existing_request := (select r.request_hash from pg_catalog.unnest(v_new) as r where r.ord = v_first);
      v_existing_kind := v_run.identity_kind;
    else
      select r.request_hash, r.response, r.kind into v_existing_request, v_existing_response, v_existing_kind
      from benchwatch_private.run_identities r
      where r.identity_hash = v_run.identity_hash;
    end if;
    if v_existing_kind = 'idempotency_key' and v_existing_request <> v_run.request_hash then
      raise exception using
        errcode = 'BW009',
        message = case when p_name_runs then pg_catalog.format('runs[%s]: ', v_run.ord - 1) else '' end
                  || 'Cannot record run: this Idempotency-Key was already used with a different run',
        hint = 'Use a new Idempotency-Key for a different run.';
    end if;
    v_answers[v_run.ord] := v_existing_response || pg_catalog.jsonb_build_object('replayed', true);
  end loop;

  return v_answers;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."record_runs"(jsonb, text[], boolean) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."record_runs"(jsonb, text[], boolean) IS 'Records a JSON array of runs (each with its Idempotency-Key from the aligned array, or none) in one transaction and returns their answers in order: each run''s answer is the one recording the runs one by one with record_run would give. Runs of different series are recorded together, round by round; each round updates the detector_state row of every (series, metric) it observes, in place or rebuilt from metric_observations. With p_name_runs, errors name the run as runs[<index>].';

REVOKE ALL ON FUNCTION "benchwatch_private"."record_runs"(jsonb, text[], boolean) FROM PUBLIC;

-- No state rows are built here: on a large database that would scan all of metric_observations
-- inside `supabase db push`. A (series, metric) without its row is assessed from the log as
-- before, and its next run builds the row (record_observations: a missing row is rebuilt).
-- `select benchwatch_private.rebuild_detector_state();` builds them all at once if wanted.

