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
