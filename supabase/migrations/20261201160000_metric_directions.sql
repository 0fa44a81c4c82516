-- Why: issue 20. A metric's direction came only from metric_policies and a name rule, so
-- bits_per_byte, brier_score, wer, rmse, toxicity or hallucination_rate were taken as
-- higher-is-better, and a regression on them read as an improvement. CI had no way to say
-- otherwise. This migration:
--
-- * seeds policies for the common metrics of eval tools (below, with where each direction
--   is documented). A seed never replaces a row the project already has;
-- * lets a run declare directions: `metric_directions: {"bits_per_byte": "lower", ...}`.
--   A declared direction for a metric no policy row covers creates an exact-name policy
--   (direction only; threshold and floor stay the defaults). The same direction as the
--   policy that covers the metric (exact name or `*` pattern) changes nothing. A different
--   one is BW022 and nothing of the request is stored: a declaration never overrides a
--   policy; `benchwatch policy set` (set_metric_policy) does that, on purpose;
-- * adds set_metric_policy and list_metric_policies for the ingest function's
--   /ingest/policies route (service role only).
--
-- metric_directions is not part of a run's identity nor of its request hash: a copy of a run
-- that differs only there is the same run (it replays), but its directions are still checked.
-- parse_run is redefined only to take metric_directions off the run before the unchanged
-- parse_run_fields sees it and to apply them; its identity logic is kept as it was.

-- Seeded directions -----------------------------------------------------------------------
-- Names are as the CLI's adapters write them (cli/src/adapters): `@` is not allowed in a
-- metric name, so pass@k is written pass_k (pass@1 -> pass_1), covered by the pattern pass_*.
-- lm-evaluation-harness keeps a non-`none` filter as `metric/filter`
-- (exact_match,strict-match -> exact_match/strict-match), covered by exact_match/*.
-- Sources:
-- * acc, acc_norm, exact_match, bleu, bits_per_byte, brier_score: lm-evaluation-harness,
--   lm_eval/api/metrics.py (register_metric(..., higher_is_better=True/False)) and the
--   `higher_is_better` block of its results.json (cli/test/fixtures/lm-eval/results.json:
--   acc/acc_norm true, bits_per_byte false).
-- * rouge1, rouge2, rougeL, rougeLsum: overlap F-measures (Lin 2004; Hugging Face evaluate's
--   rouge metric card): more overlap with the reference is better.
-- * pass@k: the fraction of problems solved within k samples (Chen et al. 2021, HumanEval;
--   Hugging Face evaluate's code_eval card): higher is better.
-- * wer, cer: error rates (Hugging Face evaluate's wer/cer cards: "the lower the better").
-- * rmse, mae, mse: errors (evaluate's mse/mae cards; scikit-learn's regression metrics).
-- * brier_score: evaluate's brier_score card ("the lower the value of this score, the
--   better").
-- * toxicity: evaluate's toxicity measurement (the share or score of toxic output).
-- * hallucination_rate: the share of answers with unsupported claims (a rate of failures).
insert into public.metric_policies (metric, direction, description) values
  ('acc', 'higher', 'Seeded (lm-evaluation-harness): higher is better.'),
  ('acc_norm', 'higher', 'Seeded (lm-evaluation-harness): higher is better.'),
  ('exact_match', 'higher', 'Seeded (lm-evaluation-harness): higher is better.'),
  ('exact_match/*', 'higher', 'Seeded: exact_match under any lm-evaluation-harness filter is higher-is-better.'),
  ('bleu', 'higher', 'Seeded (lm-evaluation-harness, evaluate): higher is better.'),
  ('rouge*', 'higher', 'Seeded: rouge1, rouge2, rougeL, rougeLsum are higher-is-better.'),
  ('pass_*', 'higher', 'Seeded: pass@k (written pass_k, e.g. pass_1) is higher-is-better.'),
  ('wer', 'lower', 'Seeded: word error rate, lower is better.'),
  ('cer', 'lower', 'Seeded: character error rate, lower is better.'),
  ('rmse', 'lower', 'Seeded: root mean squared error, lower is better.'),
  ('mae', 'lower', 'Seeded: mean absolute error, lower is better.'),
  ('mse', 'lower', 'Seeded: mean squared error, lower is better.'),
  ('brier_score', 'lower', 'Seeded: Brier score, lower is better.'),
  ('bits_per_byte', 'lower', 'Seeded (lm-evaluation-harness): lower is better.'),
  ('toxicity', 'lower', 'Seeded: toxicity, lower is better.'),
  ('hallucination_rate', 'lower', 'Seeded: hallucination rate, lower is better.')
on conflict (metric) do nothing;

-- The policy row that covers a metric ------------------------------------------------------
create function benchwatch_private.covering_policy(p_metric text)
returns table (metric text, direction text)
language sql
stable
rows 1
set search_path = ''
as $$
  -- The same choice as metric_policy: the exact name wins, then the longest pattern.
  select mp.metric, mp.direction
  from public.metric_policies mp
  where mp.metric = p_metric
     or (pg_catalog.strpos(mp.metric, '*') > 0
         and p_metric like pg_catalog.replace(
               pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(mp.metric, '\', '\\'), '%', '\%'), '_', '\_'),
               '*', '%'))
  order by (mp.metric = p_metric) desc, pg_catalog.length(mp.metric) desc, mp.metric
  limit 1
$$;

comment on function benchwatch_private.covering_policy(text) is
  'The metric_policies row (exact name, else the longest matching * pattern) that decides a metric''s direction, or no row when only the name rule does.';
revoke execute on function benchwatch_private.covering_policy(text) from public, anon, authenticated;
grant execute on function benchwatch_private.covering_policy(text) to service_role;

-- Declared directions --------------------------------------------------------------------
create function benchwatch_private.apply_metric_directions(p_directions jsonb, p_metrics jsonb)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_metric text;
  v_value jsonb;
  v_direction text;
  v_policy record;
begin
  if p_directions is null or pg_catalog.jsonb_typeof(p_directions) = 'null' then
    return;
  end if;
  if pg_catalog.jsonb_typeof(p_directions) <> 'object' then
    raise exception using
      errcode = 'BW007',
      message = 'Cannot record run: metric_directions must be an object of metric name to "higher" or "lower"',
      detail = pg_catalog.format('got %s', pg_catalog.jsonb_typeof(p_directions));
  end if;
  -- Sorted, so two concurrent runs take policy rows in the same order.
  for v_metric, v_value in
    select d.key, d.value from pg_catalog.jsonb_each(p_directions) as d order by d.key
  loop
    if not (p_metrics ? v_metric) then
      raise exception using
        errcode = 'BW007',
        message = pg_catalog.format(
          'Cannot record run: send metric_directions only for metrics of the run: "%s" is not in metrics', v_metric);
    end if;
    v_direction := case when pg_catalog.jsonb_typeof(v_value) = 'string' then v_value #>> '{}' end;
    if v_direction is null or v_direction not in ('higher', 'lower') then
      raise exception using
        errcode = 'BW007',
        message = pg_catalog.format(
          'Cannot record run: metric_directions."%s" must be "higher" or "lower"', v_metric),
        detail = pg_catalog.format('got %s', v_value);
    end if;

    -- A new exact-name row, unless a row already covers the metric. ON CONFLICT waits for a
    -- concurrent transaction that declared the same metric, then the check below sees its row.
    if not exists (select 1 from benchwatch_private.covering_policy(v_metric)) then
      insert into public.metric_policies (metric, direction, description)
      values (v_metric, v_direction, 'Declared by a run''s metric_directions.')
      on conflict (metric) do nothing;
    end if;

    select c.metric, c.direction into v_policy
    from benchwatch_private.covering_policy(v_metric) as c;
    if v_policy.direction is distinct from v_direction then
      raise exception using
        errcode = 'BW022',
        message = pg_catalog.format(
          'Cannot record run: metric "%s" is declared %s-is-better, but its policy%s says %s-is-better',
          v_metric, v_direction,
          case when v_policy.metric = v_metric then '' else pg_catalog.format(' (pattern %s)', v_policy.metric) end,
          v_policy.direction),
        detail = pg_catalog.format('declared: %s; policy %s: %s', v_direction, v_policy.metric, v_policy.direction),
        hint = pg_catalog.format(
          'Fix the declared direction, or change the policy on purpose: benchwatch policy set %s --direction %s',
          v_metric, v_direction);
    end if;
  end loop;
end
$$;

comment on function benchwatch_private.apply_metric_directions(jsonb, jsonb) is
  'Applies a run''s metric_directions: creates an exact-name policy (direction only) for a metric no policy row covers, accepts the same direction as the covering policy, and raises BW022 for a different one (never overrides). BW007 for a malformed value or a metric not in the run.';
revoke execute on function benchwatch_private.apply_metric_directions(jsonb, jsonb) from public, anon, authenticated;
grant execute on function benchwatch_private.apply_metric_directions(jsonb, jsonb) to service_role;

-- parse_run: as in 20261201120000_run_identity.sql, plus metric_directions ----------------
create or replace function benchwatch_private.parse_run(p_run jsonb, p_idempotency_key text)
returns benchwatch_private.run_input
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_key text := nullif(pg_catalog.btrim(p_idempotency_key), '');
  v_key_hash bytea;
  v_first_request bytea;
  v_directions jsonb;
  r benchwatch_private.run_input;
begin
  -- metric_directions is applied here and is no field of the run itself (nor of its hashes).
  if pg_catalog.jsonb_typeof(p_run) = 'object' and p_run ? 'metric_directions' then
    v_directions := p_run -> 'metric_directions';
    p_run := p_run - 'metric_directions';
  end if;
  r := benchwatch_private.parse_run_fields(p_run, null);
  perform benchwatch_private.apply_metric_directions(v_directions, r.metrics);

  r.identity_kind := 'run_identity';
  r.identity_hash := benchwatch_private.run_identity_hash(r);
  if v_key is null then
    return r;
  end if;

  v_key_hash := pg_catalog.sha256(pg_catalog.convert_to('idempotency-key:' || v_key, 'UTF8'));
  -- A key that identified a run before 20261201120000 still does (record_runs replays it,
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
$$;

comment on function benchwatch_private.parse_run(jsonb, text) is
  'Validates one run (parse_run_fields), applies its metric_directions (apply_metric_directions: BW022 on a conflict) and returns it with its identity: series, run_id, commit_sha, metrics and created_at if given (run_identity_hash), whatever the Idempotency-Key. A key is claimed in idempotency_keys; the same key with a different run is BW009.';

-- policy set / list ----------------------------------------------------------------------
create function benchwatch_private.set_metric_policy(
  p_metric text, p_direction text, p_relative_threshold numeric default null, p_absolute_floor numeric default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_metric text := pg_catalog.btrim(p_metric);
  v_row public.metric_policies;
begin
  if v_metric is null or v_metric = '' or pg_catalog.length(v_metric) > 128
     or v_metric !~ '^[A-Za-z0-9_.:/*-]+$' then
    raise exception using
      errcode = 'BW023',
      message = 'Cannot set the metric policy: metric must be 1 to 128 of A-Z a-z 0-9 _ . : - / (and * for a pattern)',
      detail = pg_catalog.format('got %s', coalesce(pg_catalog.quote_literal(p_metric), 'null'));
  end if;
  if p_direction is null or p_direction not in ('higher', 'lower') then
    raise exception using
      errcode = 'BW023',
      message = 'Cannot set the metric policy: direction must be higher or lower',
      detail = pg_catalog.format('got %s', coalesce(pg_catalog.quote_literal(p_direction), 'null'));
  end if;
  if p_relative_threshold < 0 or p_absolute_floor < 0 then
    raise exception using
      errcode = 'BW023',
      message = 'Cannot set the metric policy: threshold and floor must not be negative';
  end if;
  insert into public.metric_policies as mp (metric, direction, relative_threshold, absolute_floor, description)
  values (v_metric, p_direction, p_relative_threshold, coalesce(p_absolute_floor, 0), 'Set with benchwatch policy set.')
  on conflict (metric) do update set
    direction = excluded.direction,
    relative_threshold = coalesce(p_relative_threshold, mp.relative_threshold),
    absolute_floor = coalesce(p_absolute_floor, mp.absolute_floor),
    description = excluded.description,
    updated_at = pg_catalog.now()
  returning * into v_row;
  return pg_catalog.jsonb_build_object(
    'metric', v_row.metric, 'direction', v_row.direction,
    'relative_threshold', v_row.relative_threshold, 'absolute_floor', v_row.absolute_floor,
    'description', v_row.description, 'updated_at', v_row.updated_at);
end
$$;

comment on function benchwatch_private.set_metric_policy(text, text, numeric, numeric) is
  'Creates or replaces a metric''s policy (exact name or * pattern): its direction, and its relative threshold and absolute floor when given (else kept, or the defaults for a new row). BW023 for a bad argument. The deliberate way to change a direction; a run''s metric_directions never does.';
revoke execute on function benchwatch_private.set_metric_policy(text, text, numeric, numeric) from public, anon, authenticated;
grant execute on function benchwatch_private.set_metric_policy(text, text, numeric, numeric) to service_role;

create function benchwatch_private.list_metric_policies()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
    'metric', mp.metric, 'direction', mp.direction,
    'relative_threshold', mp.relative_threshold, 'absolute_floor', mp.absolute_floor,
    'description', mp.description, 'updated_at', mp.updated_at) order by mp.metric), '[]'::jsonb)
  from public.metric_policies mp
$$;

comment on function benchwatch_private.list_metric_policies() is
  'Every metric policy (exact names and * patterns), by metric.';
revoke execute on function benchwatch_private.list_metric_policies() from public, anon, authenticated;
grant execute on function benchwatch_private.list_metric_policies() to service_role;
