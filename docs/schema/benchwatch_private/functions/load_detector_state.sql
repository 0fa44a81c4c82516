CREATE OR REPLACE FUNCTION benchwatch_private.load_detector_state (
  p_model_versions   text[],
  p_model_providers  text[],
  p_dataset_versions text[],
  p_prompt_versions  text[],
  p_environments     text[],
  p_metric_names     text[]
)
  RETURNS integer
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
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

GRANT EXECUTE ON FUNCTION "benchwatch_private"."load_detector_state"(text[], text[], text[], text[], text[], text[]) TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."load_detector_state"(text[], text[], text[], text[], text[], text[]) IS 'Recomputes the detector_state rows of the given (series, metric) keys (aligned arrays) from metric_observations and the series'' pinned baseline: upserts the keys that have observations, removes the rows of those that have none; returns how many rows it wrote. It locks the rows (inserting a placeholder for a missing one) before it reads the log, so a concurrent transaction keeping one of them commits first and its observations are read. record_runs calls it for the rows its in-place update cannot keep (a run older than the newest observation, a changed policy, a missing row); rebuild_detector_state for every row.';

REVOKE ALL ON FUNCTION "benchwatch_private"."load_detector_state"(text[], text[], text[], text[], text[], text[]) FROM PUBLIC;
