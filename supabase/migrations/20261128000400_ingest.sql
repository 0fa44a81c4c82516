-- Ingest: recording runs, one SQL call per request, in one transaction.
--
-- * `record_runs` (and `record_run` for one) validate and record a batch: the append-only
--   transaction row, the series snapshot, the per-metric observations and the alerts opened
--   or resolved, and return each run's verdict. `ingest_runs` is the ingest function's batch
--   entry (1 to 1000 runs, all or nothing). `upsert_benchmark_result` is the setup guide's
--   14-argument API over the same path. parse_run and its helpers validate a run's fields
--   with the stable error codes of docs/error-codes.md; a run's per-example results
--   (`examples`) are taken off it, validated and folded into the request hash, not its
--   identity, and record_runs hands them to the paired rule (paired_gate, in
--   20261128000900_per_example_results.sql) before it opens or resolves alerts.
-- * Run identity: a run is identified by its content (run_id, commit_sha, series, metrics),
--   kept in `benchwatch_private.run_identities` with its first answer, so a retry replays
--   that answer and never duplicates a row.
-- * Idempotency: an Idempotency-Key header is kept (hashed) in
--   `benchwatch_private.idempotency_keys` with the request's hash; the same key with a
--   different body is refused.

-- Types ---------------------------------------------------------------------------------------

CREATE TYPE "benchwatch_private"."run_input" AS (
  "ord"              integer,
  "round"            integer,
  "tx_id"            uuid,
  "identity_hash"    bytea,
  "identity_kind"    text,
  "request_hash"     bytea,
  "commit_sha"       text,
  "branch_name"      text,
  "model_version"    text,
  "model_provider"   text,
  "dataset_version"  text,
  "dataset_size"     integer,
  "prompt_version"   text,
  "environment"      text,
  "run_id"           text,
  "triggered_by"     text,
  "metrics"          jsonb,
  "duration_seconds" numeric,
  "tags"             text[],
  "notes"            text,
  "created_at"       timestamp WITH time zone,
  "metric_stderr"    jsonb,
  "metric_trials"    jsonb
);

COMMENT ON TYPE "benchwatch_private"."run_input" IS 'One run of a batch, validated by parse_run: its position (ord), its round in record_runs, the transaction id it gets if new, its identity and request hashes, and its fields.';

-- Tables --------------------------------------------------------------------------------------

CREATE TABLE "benchwatch_private"."run_identities" (
  "identity_hash"  bytea                    NOT NULL,
  "kind"           text                     NOT NULL,
  "request_hash"   bytea                    NOT NULL,
  "transaction_id" uuid                     NOT NULL,
  "response"       jsonb                    NOT NULL DEFAULT '{}'::jsonb,
  "created_at"     timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "run_identities_kind_valid" CHECK ((kind = ANY (ARRAY['idempotency_key'::text, 'run_identity'::text]))),
  CONSTRAINT "run_identities_pkey" PRIMARY KEY (identity_hash)
);

ALTER TABLE "benchwatch_private"."run_identities"
  ENABLE ROW LEVEL SECURITY;

CREATE INDEX run_identities_transaction_id_idx ON benchwatch_private.run_identities USING btree (transaction_id);

COMMENT ON TABLE "benchwatch_private"."run_identities" IS 'Idempotency records: the identity of every recorded run (Idempotency-Key, or run_id + commit + series + metrics) and the answer it got.';

CREATE TABLE "benchwatch_private"."idempotency_keys" (
  "key_hash"     bytea                    NOT NULL,
  "request_hash" bytea                    NOT NULL,
  "created_at"   timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY (key_hash)
);

ALTER TABLE "benchwatch_private"."idempotency_keys"
  ENABLE ROW LEVEL SECURITY;

COMMENT ON TABLE "benchwatch_private"."idempotency_keys" IS 'Every Idempotency-Key used to record a run (the SHA-256 of ''idempotency-key:'' || key; in a batch the key is <key>#<index>) and the SHA-256 of the run it was used with, so the same key with a different run is refused (BW009).';

-- Functions -----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benchwatch_private.parse_run (
  p_run             jsonb,
  p_idempotency_key text
)
  RETURNS benchwatch_private.run_input
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_key text := nullif(pg_catalog.btrim(p_idempotency_key), '');
  v_key_hash bytea;
  v_first_request bytea;
  v_directions jsonb;
  v_examples jsonb;
  r benchwatch_private.run_input;
begin
  -- metric_directions is applied here and is no field of the run itself (nor of its hashes).
  if pg_catalog.jsonb_typeof(p_run) = 'object' and p_run ? 'metric_directions' then
    v_directions := p_run -> 'metric_directions';
    p_run := p_run - 'metric_directions';
  end if;
  -- examples are validated and stored apart (paired_gate); they are no field of the run's
  -- identity, but a different list is a different request.
  if pg_catalog.jsonb_typeof(p_run) = 'object' and p_run ? 'examples' then
    v_examples := p_run -> 'examples';
    p_run := p_run - 'examples';
  end if;
  r := benchwatch_private.parse_run_fields(p_run, null);
  perform benchwatch_private.apply_metric_directions(v_directions, r.metrics);
  if v_examples is not null then
    perform benchwatch_private.assert_valid_examples(v_examples, r.metrics);
    r.request_hash := pg_catalog.sha256(r.request_hash || pg_catalog.sha256(pg_catalog.convert_to(v_examples::text, 'UTF8')));
  end if;

  r.identity_kind := 'run_identity';
  r.identity_hash := benchwatch_private.run_identity_hash(r);
  if v_key is null then
    return r;
  end if;

  v_key_hash := pg_catalog.sha256(pg_catalog.convert_to('idempotency-key:' || v_key, 'UTF8'));
  -- A key stored as a run's identity (kind idempotency_key) still names it (record_runs replays it,
  -- or refuses it with BW009 for a different run).
  if exists (select 1 from benchwatch_private.run_identities i
             where i.identity_hash = v_key_hash and i.kind = 'idempotency_key') then
    r.identity_kind := 'idempotency_key';
    r.identity_hash := v_key_hash;
    return r;
  end if;

  -- Waits for a concurrent transaction that claimed the same key, then compares with it.
  insert into benchwatch_private.idempotency_keys (key_hash, request_hash)
  values (v_key_hash, r.request_hash)
  on conflict (key_hash) do nothing;
  if not found then
    select k.request_hash into v_first_request
    from benchwatch_private.idempotency_keys k
    where k.key_hash = v_key_hash;
    if v_first_request <> r.request_hash then
      raise exception using
        errcode = 'BW009',
        message = 'Cannot record run: this Idempotency-Key was already used with a different run',
        hint = 'Use a new Idempotency-Key for a different run.';
    end if;
  end if;
  return r;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."parse_run"(jsonb, text) IS 'Validates one run (parse_run_fields), applies its metric_directions (apply_metric_directions: BW022 on a conflict), validates its examples (assert_valid_examples: BW030-BW032, folded into the request hash, not the identity) and returns it with its identity: series, run_id, commit_sha, metrics and created_at if given (run_identity_hash), whatever the Idempotency-Key. A key is claimed in idempotency_keys; the same key with a different run is BW009.';

REVOKE ALL ON FUNCTION "benchwatch_private"."parse_run"(jsonb, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."parse_run"(jsonb, text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.parse_run_fields (
  p_run             jsonb,
  p_idempotency_key text
)
  RETURNS benchwatch_private.run_input
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."parse_run_fields"(jsonb, text) IS 'Validates one run (BW001-BW008 errors) and returns its fields, its request hash and a new transaction id. parse_run adds the run''s identity.';

REVOKE ALL ON FUNCTION "benchwatch_private"."parse_run_fields"(jsonb, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."parse_run_fields"(jsonb, text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.run_identity_hash (
  p_run benchwatch_private.run_input
)
  RETURNS bytea
  LANGUAGE sql
  IMMUTABLE
  SET search_path TO ''
  AS $function$
  -- Without created_at this is the identity runs without a key always had, so their
  -- retries keep replaying across this migration.
  select pg_catalog.sha256(pg_catalog.convert_to(
    case when p_run.created_at is null then
      pg_catalog.jsonb_build_array(
        'run-identity', p_run.run_id, p_run.commit_sha, p_run.model_version, p_run.model_provider,
        p_run.dataset_version, p_run.prompt_version, p_run.environment, p_run.metrics)
    else
      pg_catalog.jsonb_build_array(
        'run-identity', p_run.run_id, p_run.commit_sha, p_run.model_version, p_run.model_provider,
        p_run.dataset_version, p_run.prompt_version, p_run.environment, p_run.metrics,
        pg_catalog.to_char(pg_catalog.timezone('UTC', p_run.created_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
    end::text, 'UTF8'))
$function$;

COMMENT ON FUNCTION "benchwatch_private"."run_identity_hash"(benchwatch_private.run_input) IS 'What makes two runs the same run: SHA-256 of series, run_id, commit_sha and metrics, plus created_at (as a UTC instant) when the run gives one.';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_identity_hash"(benchwatch_private.run_input) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."run_identity_hash"(benchwatch_private.run_input) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.record_run (
  p_run             jsonb,
  p_idempotency_key text  DEFAULT NULL::text
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
begin
  return (benchwatch_private.record_runs(pg_catalog.jsonb_build_array(p_run), array[p_idempotency_key], false))[1];
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."record_run"(jsonb, text) IS 'Ingest entrypoint: validates and records one run (jsonb with the benchmark_transactions fields, optional metric_stderr / metric_trials; created_at optional for backfills), idempotently, updating the snapshot, the per-metric detection state and the noise-aware alerts in the same transaction. Returns the verdict as jsonb.';

REVOKE ALL ON FUNCTION "benchwatch_private"."record_run"(jsonb, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."record_run"(jsonb, text) TO "service_role";

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

    -- 6b. Per-example evidence (paired_gate): store the round's examples, compare them with
    --     the baseline's, and let the paired rule decide the opening of the metrics it covers.
    v_items := benchwatch_private.paired_gate(v_round, v_items, p_runs);

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

COMMENT ON FUNCTION "benchwatch_private"."record_runs"(jsonb, text[], boolean) IS 'Records a JSON array of runs (each with its Idempotency-Key from the aligned array, or none) in one transaction and returns their answers in order: each run''s answer is the one recording the runs one by one with record_run would give. Runs of different series are recorded together, round by round. With p_name_runs, errors name the run as runs[<index>].';

REVOKE ALL ON FUNCTION "benchwatch_private"."record_runs"(jsonb, text[], boolean) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."record_runs"(jsonb, text[], boolean) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.ingest_runs (
  p_runs            jsonb,
  p_idempotency_key text  DEFAULT NULL::text
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."ingest_runs"(jsonb, text) IS 'Batch ingest: records a JSON array of 1 to 1000 runs with record_run, all or nothing, and returns {"runs": [verdict + snapshot_id, ...]} in input order. A batch''s Idempotency-Key becomes <key>#<index> per run; errors keep their SQLSTATE and, in a batch, name the run as runs[<index>].';

REVOKE ALL ON FUNCTION "benchwatch_private"."ingest_runs"(jsonb, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."ingest_runs"(jsonb, text) TO "service_role";

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

COMMENT ON FUNCTION "benchwatch_private"."run_answers"(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb, uuid[]) IS 'The answers of one round of record_runs (the runs, their run_metric rows, the alert ids opened, continued and resolved, the runs that became their series'' latest).';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_answers"(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb, uuid[]) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."run_answers"(benchwatch_private.run_input[], benchwatch_private.run_metric[], jsonb, uuid[]) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.run_text (
  p_run      jsonb,
  p_field    text,
  p_required boolean
)
  RETURNS text
  LANGUAGE plpgsql
  IMMUTABLE
  SET search_path TO ''
  AS $function$
declare
  v_value jsonb := p_run -> p_field;
begin
  if v_value is null or pg_catalog.jsonb_typeof(v_value) = 'null' then
    if p_required then
      raise exception using
        errcode = 'BW005',
        message = pg_catalog.format('Cannot record run: %s is required', p_field);
    end if;
    return null;
  end if;

  if pg_catalog.jsonb_typeof(v_value) <> 'string' then
    raise exception using
      errcode = 'BW007',
      message = pg_catalog.format('Cannot record run: %s must be a string', p_field),
      detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(v_value));
  end if;

  if p_required and pg_catalog.btrim(v_value #>> '{}') = '' then
    raise exception using
      errcode = 'BW005',
      message = pg_catalog.format('Cannot record run: %s is required', p_field);
  end if;
  return v_value #>> '{}';
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."run_text"(jsonb, text, boolean) IS 'Reads a text field of a run payload, raising BW005 (required, missing) or BW007 (not a string).';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_text"(jsonb, text, boolean) FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.run_number (
  p_run     jsonb,
  p_field   text,
  p_integer boolean
)
  RETURNS numeric
  LANGUAGE plpgsql
  IMMUTABLE
  SET search_path TO ''
  AS $function$
declare
  v_value jsonb := p_run -> p_field;
  v_number numeric;
begin
  if v_value is null or pg_catalog.jsonb_typeof(v_value) = 'null' then
    return null;
  end if;

  if pg_catalog.jsonb_typeof(v_value) <> 'number' then
    raise exception using
      errcode = 'BW007',
      message = pg_catalog.format('Cannot record run: %s must be a number', p_field),
      detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(v_value));
  end if;

  v_number := (v_value #>> '{}')::numeric;
  if p_integer and (v_number <> pg_catalog.trunc(v_number) or v_number > 2147483647) then
    raise exception using
      errcode = 'BW007',
      message = pg_catalog.format('Cannot record run: %s must be a whole number', p_field),
      detail = pg_catalog.format('got %s', v_number);
  end if;

  if v_number < 0 then
    raise exception using
      errcode = 'BW006',
      message = pg_catalog.format('Cannot record run: %s must not be negative', p_field),
      detail = pg_catalog.format('got %s', v_number);
  end if;
  return v_number;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."run_number"(jsonb, text, boolean) IS 'Reads a non-negative number field of a run payload, raising BW007 (not a number / not whole) or BW006 (negative).';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_number"(jsonb, text, boolean) FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE OR REPLACE FUNCTION public.upsert_benchmark_result (
  p_commit_sha       text,
  p_branch_name      text,
  p_model_version    text,
  p_model_provider   text,
  p_dataset_version  text,
  p_dataset_size     integer,
  p_prompt_version   text,
  p_environment      text,
  p_run_id           text,
  p_triggered_by     text,
  p_metrics          jsonb,
  p_duration_seconds numeric,
  p_tags             text[],
  p_notes            text
)
  RETURNS uuid
  LANGUAGE sql
  SET search_path TO ''
  AS $function$
  select (benchwatch_private.record_run(pg_catalog.jsonb_build_object(
    'commit_sha', p_commit_sha,
    'branch_name', p_branch_name,
    'model_version', p_model_version,
    'model_provider', p_model_provider,
    'dataset_version', p_dataset_version,
    'dataset_size', p_dataset_size,
    'prompt_version', p_prompt_version,
    'environment', p_environment,
    'run_id', p_run_id,
    'triggered_by', p_triggered_by,
    'metrics', p_metrics,
    'duration_seconds', p_duration_seconds,
    'tags', p_tags,
    'notes', p_notes)) ->> 'transaction_id')::uuid
$function$;

COMMENT ON FUNCTION "public"."upsert_benchmark_result"(text, text, text, text, text, integer, text, text, text, text, jsonb, numeric, text[], text) IS 'Records one benchmark run (the setup guide''s API): appends it to benchmark_transactions, updates the series snapshot and regression alerts, and returns the run''s uuid. Repeating the same run returns the same uuid.';

REVOKE ALL ON FUNCTION "public"."upsert_benchmark_result"(text, text, text, text, text, integer, text, text, text, text, jsonb, numeric, text[], text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE
  ON FUNCTION "public"."upsert_benchmark_result"(text, text, text, text, text, integer, text, text, text, text, jsonb, numeric, text[], text)
  TO "service_role";

-- Triggers, row level security policies and grants --------------------------------------------

REVOKE ALL ON TABLE "benchwatch_private"."run_identities" FROM PUBLIC, "anon", "authenticated", "service_role";

REVOKE ALL ON TABLE "benchwatch_private"."idempotency_keys" FROM PUBLIC, "anon", "authenticated", "service_role";
