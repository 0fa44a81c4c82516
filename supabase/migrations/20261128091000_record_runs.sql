-- Why: issue 7, targets 2 and 3 (ingest throughput). A batch of runs was recorded one
-- run at a time: ingest_runs called record_run per run, and record_run ran ~15 statements
-- per run (~5 ms of SQL with six metrics; pg_stat_statements on the bench database: the
-- assessment ~2.2 ms, the log insert ~0.2-1.3 ms, the comparison ~0.8 ms, the observation
-- insert ~0.4 ms, the snapshot upsert ~0.3 ms, identities and answer ~0.5 ms), so a
-- backfill of 100,000 runs took five minutes.
--
-- record_runs records a batch with the same statements, each once per "round" instead of
-- once per run. Runs of different series never read what the other writes (detection
-- reads the run's own series; the baselines it compares with change only when pinned), so
-- the first run of every series in the batch forms round 1, the second round 2, and so on;
-- within a series runs keep their batch order, and each round sees what the rounds
-- before it wrote. The verdicts, alerts and answers are those of recording the runs one by
-- one in batch order (the pgTAP suite and eval:detection pin them).
--
-- * parse_run: the validation record_run did, for one run, into a benchwatch_private.run_input.
-- * assess_runs: assess_run for many runs at once (record_runs calls it once per round).
-- * record_runs: validates every run in order (an error names runs[i] in a batch), claims
--   identities in one statement (sorted by hash, so two concurrent batches take them in
--   the same order), then records the claimed runs round by round.
-- * record_run is record_runs with one run; ingest_runs calls record_runs once.

create type benchwatch_private.run_input as (
  ord integer,
  round integer,
  tx_id uuid,
  identity_hash bytea,
  identity_kind text,
  request_hash bytea,
  commit_sha text,
  branch_name text,
  model_version text,
  model_provider text,
  dataset_version text,
  dataset_size integer,
  prompt_version text,
  environment text,
  run_id text,
  triggered_by text,
  metrics jsonb,
  duration_seconds numeric,
  tags text[],
  notes text,
  created_at timestamptz,
  metric_stderr jsonb,
  metric_trials jsonb
);

comment on type benchwatch_private.run_input is
  'One run of a batch, validated by parse_run: its position (ord), its round in record_runs, the transaction id it gets if new, its identity and request hashes, and its fields.';

create type benchwatch_private.assess_input as (
  ord integer,
  model_version text,
  model_provider text,
  dataset_version text,
  prompt_version text,
  environment text,
  transaction_id uuid,
  as_of timestamptz,
  baseline_transaction_id uuid,
  baseline_snapshot_id uuid,
  metric text,
  value numeric,
  own_stderr numeric,
  direction text,
  relative_threshold numeric,
  absolute_floor numeric,
  baseline_value numeric
);

comment on type benchwatch_private.assess_input is
  'One metric of one run for assess_runs: the run (ord, series, transaction, time, baseline), the metric''s value and own standard error, its comparison policy and its baseline value.';

create type benchwatch_private.run_metric as (
  ord integer,
  tx_id uuid,
  model_version text,
  model_provider text,
  dataset_version text,
  prompt_version text,
  environment text,
  created_at timestamptz,
  dataset_size integer,
  is_latest boolean,
  metric_name text,
  status text,
  is_regression boolean,
  baseline_value numeric,
  current_value numeric,
  absolute_change numeric,
  relative_change numeric,
  direction text,
  relative_threshold numeric,
  absolute_floor numeric,
  policy_source text,
  baseline_snapshot_id uuid,
  baseline_transaction_id uuid,
  baseline_model_version text,
  baseline_prompt_version text,
  baseline_pinned_at timestamptz,
  prompt_mismatch boolean,
  reported numeric,
  trials numeric[],
  own numeric,
  reference_value numeric,
  noise numeric,
  z numeric,
  out_of_control boolean,
  back_in_control boolean,
  confirmed_out boolean,
  confirmed_back boolean
);

comment on type benchwatch_private.run_metric is
  'One metric of one run in record_runs: the run, its comparison with the baseline (compare_runs), what it said about its own sampling error, and its noise-aware verdict (assess_runs).';

-- parse_run -----------------------------------------------------------------------------

create function benchwatch_private.parse_run(p_run jsonb, p_idempotency_key text)
returns benchwatch_private.run_input
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_fields constant text[] := array[
    'commit_sha', 'branch_name', 'model_version', 'model_provider', 'dataset_version',
    'dataset_size', 'prompt_version', 'environment', 'run_id', 'triggered_by', 'metrics',
    'duration_seconds', 'tags', 'notes', 'created_at', 'metric_stderr', 'metric_trials'];
  v_key text := nullif(pg_catalog.btrim(p_idempotency_key), '');
  v_unknown text;
  r benchwatch_private.run_input;
begin
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

  r.commit_sha := benchwatch_private.run_text(p_run, 'commit_sha', true);
  r.model_version := benchwatch_private.run_text(p_run, 'model_version', true);
  r.model_provider := benchwatch_private.run_text(p_run, 'model_provider', true);
  r.dataset_version := benchwatch_private.run_text(p_run, 'dataset_version', true);
  r.prompt_version := benchwatch_private.run_text(p_run, 'prompt_version', true);
  r.environment := benchwatch_private.run_text(p_run, 'environment', true);
  r.branch_name := benchwatch_private.run_text(p_run, 'branch_name', false);
  r.run_id := benchwatch_private.run_text(p_run, 'run_id', false);
  r.triggered_by := benchwatch_private.run_text(p_run, 'triggered_by', false);
  r.notes := benchwatch_private.run_text(p_run, 'notes', false);
  r.dataset_size := benchwatch_private.run_number(p_run, 'dataset_size', true)::integer;
  r.duration_seconds := benchwatch_private.run_number(p_run, 'duration_seconds', false);

  if pg_catalog.jsonb_typeof(p_run -> 'tags') = 'array' then
    if exists (select 1 from pg_catalog.jsonb_array_elements(p_run -> 'tags') as t(value)
               where pg_catalog.jsonb_typeof(t.value) <> 'string') then
      raise exception using
        errcode = 'BW007',
        message = 'Cannot record run: tags must be an array of strings';
    end if;
    r.tags := array(select t.value from pg_catalog.jsonb_array_elements_text(p_run -> 'tags') as t(value));
  elsif coalesce(pg_catalog.jsonb_typeof(p_run -> 'tags'), 'null') <> 'null' then
    raise exception using
      errcode = 'BW007',
      message = 'Cannot record run: tags must be an array of strings';
  end if;

  if coalesce(pg_catalog.jsonb_typeof(p_run -> 'created_at'), 'null') <> 'null' then
    begin
      r.created_at := (benchwatch_private.run_text(p_run, 'created_at', false))::timestamptz;
    exception
      when datetime_field_overflow or invalid_datetime_format or invalid_text_representation then
        raise exception using
          errcode = 'BW007',
          message = 'Cannot record run: created_at must be an ISO 8601 timestamp',
          detail = pg_catalog.format('got %s', p_run -> 'created_at');
    end;
  end if;

  r.metrics := p_run -> 'metrics';
  perform benchwatch_private.assert_valid_metrics(r.metrics);
  perform benchwatch_private.assert_valid_metric_noise(p_run);
  r.metric_stderr := p_run -> 'metric_stderr';
  r.metric_trials := p_run -> 'metric_trials';

  -- The run's identity: its Idempotency-Key, else what makes it the same run.
  r.request_hash := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_strip_nulls(p_run)::text, 'UTF8'));
  if v_key is not null then
    r.identity_kind := 'idempotency_key';
    r.identity_hash := pg_catalog.sha256(pg_catalog.convert_to('idempotency-key:' || v_key, 'UTF8'));
  else
    r.identity_kind := 'run_identity';
    r.identity_hash := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_array(
      'run-identity', r.run_id, r.commit_sha, r.model_version, r.model_provider, r.dataset_version,
      r.prompt_version, r.environment, r.metrics)::text, 'UTF8'));
  end if;
  r.tx_id := gen_random_uuid();
  return r;
end
$$;

comment on function benchwatch_private.parse_run(jsonb, text) is
  'Validates one run as record_run does (BW001-BW008 errors) and returns its fields, its identity (the Idempotency-Key, else run_id, commit, series and metrics) and request hashes, and a new transaction id.';
revoke execute on function benchwatch_private.parse_run(jsonb, text) from public, anon, authenticated;
grant execute on function benchwatch_private.parse_run(jsonb, text) to service_role;

-- assess_runs ---------------------------------------------------------------------------

create function benchwatch_private.assess_runs(p_items benchwatch_private.assess_input[])
returns table (
  ord integer,
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
rows 100
set search_path = ''
-- Its plan is costly to make and the same for every batch: make it once per session.
set plan_cache_mode = force_generic_plan
as $$
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
    cross join lateral benchwatch_private.metric_detection_policy(d.metric) as pol
  ),
  m as (
    select it.ord, it.model_version, it.model_provider, it.dataset_version, it.prompt_version,
           it.environment, it.transaction_id, it.as_of, it.baseline_transaction_id,
           it.base_created, it.same_series,
           it.metric, it.value as val, it.own_stderr as own, it.direction, it.relative_threshold as rel,
           it.absolute_floor as floor, it.baseline_value as base_val,
           pol.sensitivity, pol.confirmation_runs, pol.min_history, pol.history_window,
           pol.resolve_fraction, pol.reference_runs,
           case when it.base_created is not null then bo.own_stderr end as base_se
    from items it
    join pols pol on pol.metric = it.metric
    left join benchwatch_private.metric_observations bo
      on bo.transaction_id = it.baseline_transaction_id and bo.metric_name = it.metric
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
          where o.model_version = m.model_version and o.model_provider = m.model_provider
            and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
            and o.environment = m.environment and o.metric_name = m.metric
            and o.created_at <= m.as_of and o.transaction_id <> m.transaction_id and not o.out_of_control
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
         where m.same_series
           and o.model_version = m.model_version and o.model_provider = m.model_provider
           and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
           and o.environment = m.environment and o.metric_name = m.metric
           and o.created_at >= m.base_created and o.created_at <= m.as_of and not o.out_of_control
           and o.transaction_id <> m.baseline_transaction_id and o.transaction_id <> m.transaction_id
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
        where o.model_version = m.model_version and o.model_provider = m.model_provider
          and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
          and o.environment = m.environment and o.metric_name = m.metric
          and o.created_at <= m.as_of and o.transaction_id <> m.transaction_id
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
           (n.hist_n >= n.min_history - 1 or not n.same_series) as has_history
    from nz n
  )
  select v.ord, v.metric, v.r, v.ref_n, v.bad, v.sigma, pg_catalog.round(v.nz, 10),
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

comment on function benchwatch_private.assess_runs(benchwatch_private.assess_input[]) is
  'The noise-aware alerting verdict for many metrics of many runs at once, one row per item that has a reference level (its ord and metric): reference level, noise, z, beyond tolerance / noise, out of control, back in control, and whether the last confirmation_runs runs confirm an opening or a resolution. Reads a bounded window of each series'' metric_observations. Runs of one call must not depend on each other''s observations (record_runs passes one run per series).';
revoke execute on function benchwatch_private.assess_runs(benchwatch_private.assess_input[]) from public, anon, authenticated;
grant execute on function benchwatch_private.assess_runs(benchwatch_private.assess_input[]) to service_role;


-- The answers of one round of record_runs: one per run, in the shape record_run always
-- answered. "metrics" holds compare_run's columns without the baseline ones, which
-- "baseline" names once. Its own function so that its plan is made once per session.
create function benchwatch_private.run_answers(
  p_runs benchwatch_private.run_input[],
  p_items benchwatch_private.run_metric[],
  p_alerts jsonb,
  p_latest uuid[]
)
returns table (ord integer, identity_hash bytea, answer jsonb)
language plpgsql
stable
rows 100
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
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
$$;

comment on function benchwatch_private.run_answers(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb, uuid[]) is
  'The answers of one round of record_runs (the runs, their run_metric rows, the alert ids opened, continued and resolved, the runs that became their series'' latest).';
revoke execute on function benchwatch_private.run_answers(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb, uuid[]) from public, anon, authenticated;
grant execute on function benchwatch_private.run_answers(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb, uuid[]) to service_role;

-- record_runs ---------------------------------------------------------------------------

create function benchwatch_private.record_runs(p_runs jsonb, p_idempotency_keys text[], p_name_runs boolean)
returns jsonb[]
language plpgsql
volatile
security definer
set search_path = ''
as $$
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
      cross join lateral benchwatch_private.metric_detection_policy(d.metric_name) as pol
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

    -- 7. The observations later runs of the series read.
    insert into benchwatch_private.metric_observations (
      transaction_id, metric_name, model_version, model_provider, dataset_version, prompt_version,
      environment, created_at, value, dataset_size, reported_stderr, trials, own_stderr,
      reference_value, noise, z, out_of_control, back_in_control)
    select a.tx_id, a.metric_name, a.model_version, a.model_provider, a.dataset_version, a.prompt_version,
           a.environment, a.created_at, a.current_value, a.dataset_size, a.reported, a.trials, a.own,
           a.reference_value, a.noise, a.z, coalesce(a.out_of_control, false), coalesce(a.back_in_control, true)
    from pg_catalog.unnest(v_items) as a
    where a.current_value is not null;

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
      set response = a.answer
      from benchwatch_private.run_answers(v_round, v_items, v_alerts, v_latest) as a
      where ri.identity_hash = a.identity_hash
      returning a.ord, a.answer
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
$$;

comment on function benchwatch_private.record_runs(jsonb, text[], boolean) is
  'Records a JSON array of runs (each with its Idempotency-Key from the aligned array, or none) in one transaction and returns their answers in order: each run''s answer is the one recording the runs one by one with record_run would give. Runs of different series are recorded together, round by round. With p_name_runs, errors name the run as runs[<index>].';
revoke execute on function benchwatch_private.record_runs(jsonb, text[], boolean) from public, anon, authenticated;
grant execute on function benchwatch_private.record_runs(jsonb, text[], boolean) to service_role;

-- record_run is record_runs with one run.
create or replace function benchwatch_private.record_run(p_run jsonb, p_idempotency_key text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  return (benchwatch_private.record_runs(pg_catalog.jsonb_build_array(p_run), array[p_idempotency_key], false))[1];
end
$$;

-- The ingest answer names each run's series snapshot: one join for a batch instead of one
-- lookup per run.
create function benchwatch_private.with_snapshot_ids(p_answers jsonb[])
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(
           case when a.answer ? 'snapshot_id' then a.answer
                else a.answer || pg_catalog.jsonb_build_object('snapshot_id', s.id) end
           order by a.i), '[]'::jsonb)
  from pg_catalog.unnest(p_answers) with ordinality as a(answer, i)
  left join public.benchmark_snapshots s
    on s.pinned_at is null
   and s.model_version = a.answer -> 'series' ->> 'model_version'
   and s.model_provider = a.answer -> 'series' ->> 'model_provider'
   and s.dataset_version = a.answer -> 'series' ->> 'dataset_version'
   and s.prompt_version = a.answer -> 'series' ->> 'prompt_version'
   and s.environment = a.answer -> 'series' ->> 'environment'
$$;

comment on function benchwatch_private.with_snapshot_ids(jsonb[]) is
  'Adds snapshot_id (the id of the series'' latest snapshot row) to each record_run answer; a JSON array in the same order.';
revoke execute on function benchwatch_private.with_snapshot_ids(jsonb[]) from public, anon, authenticated;
grant execute on function benchwatch_private.with_snapshot_ids(jsonb[]) to service_role;


-- ingest_runs records the whole batch with one record_runs call.
create or replace function benchwatch_private.ingest_runs(p_runs jsonb, p_idempotency_key text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_count integer;
  v_key text := nullif(pg_catalog.btrim(p_idempotency_key), '');
  v_answers jsonb[];
begin
  if p_runs is null or pg_catalog.jsonb_typeof(p_runs) <> 'array' then
    raise exception using
      errcode = 'BW013',
      message = 'Cannot record runs: the body must be a JSON array of runs',
      detail = pg_catalog.format('got %s', coalesce(pg_catalog.jsonb_typeof(p_runs), 'null'));
  end if;

  v_count := pg_catalog.jsonb_array_length(p_runs);
  if v_count = 0 then
    raise exception using
      errcode = 'BW013',
      message = 'Cannot record runs: the batch is empty',
      hint = 'Send between 1 and 1000 runs.';
  end if;
  if v_count > 1000 then
    raise exception using
      errcode = 'BW013',
      message = 'Cannot record runs: a batch holds at most 1000 runs',
      detail = pg_catalog.format('got %s runs', v_count),
      hint = 'Split the batch into several requests.';
  end if;

  -- One run keeps its key and its errors as they are; in a batch, run i's key is
  -- <key>#<i> and its errors say runs[i].
  if v_count = 1 then
    v_answers := benchwatch_private.record_runs(p_runs, array[p_idempotency_key], false);
  else
    v_answers := benchwatch_private.record_runs(
      p_runs, array(select v_key || '#' || i::text from pg_catalog.generate_series(0, v_count - 1) as i), true);
  end if;

  return pg_catalog.jsonb_build_object('runs', benchwatch_private.with_snapshot_ids(v_answers));
end
$$;

-- ingest_runs no longer calls with_snapshot_id, its one-answer form.
drop function benchwatch_private.with_snapshot_id(jsonb);
