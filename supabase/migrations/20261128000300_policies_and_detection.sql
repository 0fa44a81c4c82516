-- Policies and detection: which way each metric is better, how much change is noise, and the
-- regression rules that judge a run against its baseline.
--
-- * `public.metric_policies`: per metric (an exact name or a `*` pattern) its direction, its
--   relative threshold and absolute floor, and optional detection knobs; seeded below with the
--   setup guide's directions and those of common eval tools. `set_metric_policy` and
--   `list_metric_policies` serve the ingest function's policies route; a direction a run
--   declares (`metric_directions`) creates a policy only where none covers the metric.
-- * A metric's direction comes from its exact-name policy, else the longest matching `*`
--   pattern, else the name rule (`metric_direction_by_name`), which knows only lower-is-better
--   names (times, costs, losses, errors, perplexities). A metric none of them covers has no
--   direction: it is recorded, but its verdict is `direction_unknown` (policy_source `none`),
--   never a regression, and detection opens no alert on it.
-- * `benchwatch_private.detection_defaults`: the one row of alerting defaults for knobs a
--   policy leaves null.
-- * `benchwatch_private.metric_observations`: every run's value per metric with its noise
--   estimate and control state, the history the noise-aware detection reads.
-- * Detection: the policy lookups, the evidence rule (assess_runs) that opens and resolves
--   alerts, compare_run(s) / run_verdicts for a run's verdict, and the setup guide's
--   `detect_regression(model_version, threshold)`. An alert opens when the newest run is
--   beyond tolerance, the other last confirmation_runs runs beyond zero and beyond tolerance
--   less one noise unit, and the clipped mean change of the last runs clears tolerance and
--   noise (`evidence`); it resolves after resolve_runs consecutive runs (at least
--   confirmation_runs) back within resolve_fraction of the tolerance. assess_runs reads each
--   metric's recent history in one index range (metric_observations_series_idx), which
--   serves the noise estimate, the evidence and the resolution alike.

-- Types ---------------------------------------------------------------------------------------

CREATE TYPE "benchwatch_private"."assess_input" AS (
  "ord"                     integer,
  "model_version"           text,
  "model_provider"          text,
  "dataset_version"         text,
  "prompt_version"          text,
  "environment"             text,
  "transaction_id"          uuid,
  "as_of"                   timestamp WITH time zone,
  "baseline_transaction_id" uuid,
  "baseline_snapshot_id"    uuid,
  "metric"                  text,
  "value"                   numeric,
  "own_stderr"              numeric,
  "direction"               text,
  "relative_threshold"      numeric,
  "absolute_floor"          numeric,
  "baseline_value"          numeric
);

COMMENT ON TYPE "benchwatch_private"."assess_input" IS 'One metric of one run for assess_runs: the run (ord, series, transaction, time, baseline), the metric''s value and own standard error, its comparison policy and its baseline value.';

CREATE TYPE "benchwatch_private"."run_metric" AS (
  "ord"                     integer,
  "tx_id"                   uuid,
  "model_version"           text,
  "model_provider"          text,
  "dataset_version"         text,
  "prompt_version"          text,
  "environment"             text,
  "created_at"              timestamp WITH time zone,
  "dataset_size"            integer,
  "is_latest"               boolean,
  "metric_name"             text,
  "status"                  text,
  "is_regression"           boolean,
  "baseline_value"          numeric,
  "current_value"           numeric,
  "absolute_change"         numeric,
  "relative_change"         numeric,
  "direction"               text,
  "relative_threshold"      numeric,
  "absolute_floor"          numeric,
  "policy_source"           text,
  "baseline_snapshot_id"    uuid,
  "baseline_transaction_id" uuid,
  "baseline_model_version"  text,
  "baseline_prompt_version" text,
  "baseline_pinned_at"      timestamp WITH time zone,
  "prompt_mismatch"         boolean,
  "reported"                numeric,
  "trials"                  numeric[],
  "own"                     numeric,
  "reference_value"         numeric,
  "noise"                   numeric,
  "z"                       numeric,
  "out_of_control"          boolean,
  "back_in_control"         boolean,
  "confirmed_out"           boolean,
  "confirmed_back"          boolean
);

COMMENT ON TYPE "benchwatch_private"."run_metric" IS 'One metric of one run in record_runs: the run, its comparison with the baseline (compare_runs), what it said about its own sampling error, and its noise-aware verdict (assess_runs).';

-- Tables --------------------------------------------------------------------------------------

CREATE TABLE "public"."metric_policies" (
  "metric"             text                     NOT NULL,
  "direction"          text                     NOT NULL,
  "relative_threshold" numeric,
  "absolute_floor"     numeric                  NOT NULL DEFAULT 0,
  "description"        text,
  "updated_at"         timestamp with time zone NOT NULL DEFAULT now(),
  "sensitivity"        numeric,
  "confirmation_runs"  integer,
  "min_history"        integer,
  "history_window"     integer,
  "proportion"         boolean,
  CONSTRAINT "metric_policies_confirmation_runs_valid" CHECK (((confirmation_runs IS NULL) OR ((confirmation_runs >= 1) AND (confirmation_runs <= 20)))),
  CONSTRAINT "metric_policies_direction_valid" CHECK ((direction = ANY (ARRAY['higher'::text, 'lower'::text]))),
  CONSTRAINT "metric_policies_floor_nonnegative" CHECK ((absolute_floor >= (0)::numeric)),
  CONSTRAINT "metric_policies_history_window_valid" CHECK (((history_window IS NULL) OR ((history_window >= 3) AND (history_window <= 200)))),
  CONSTRAINT "metric_policies_metric_not_blank" CHECK ((btrim(metric) <> ''::text)),
  CONSTRAINT "metric_policies_min_history_valid" CHECK (((min_history IS NULL) OR ((min_history >= 1) AND (min_history <= 50)))),
  CONSTRAINT "metric_policies_pkey" PRIMARY KEY (metric),
  CONSTRAINT "metric_policies_sensitivity_nonnegative" CHECK (((sensitivity IS NULL) OR (sensitivity >= (0)::numeric))),
  CONSTRAINT "metric_policies_threshold_nonnegative" CHECK (((relative_threshold IS NULL) OR (relative_threshold >= (0)::numeric)))
);

ALTER TABLE "public"."metric_policies"
  ENABLE ROW LEVEL SECURITY;

COMMENT ON COLUMN "public"."metric_policies"."absolute_floor" IS 'A change whose absolute size is not above this is noise and never a regression.';

COMMENT ON COLUMN "public"."metric_policies"."confirmation_runs" IS 'Alerting: consecutive out-of-control runs that open an alert, and consecutive runs back within half the tolerance that resolve it (null = 2).';

COMMENT ON COLUMN "public"."metric_policies"."direction" IS 'higher: a drop is a regression; lower: a rise is a regression.';

COMMENT ON COLUMN "public"."metric_policies"."history_window" IS 'Alerting: how many recent in-control runs the series'' noise is estimated from (null = 30).';

COMMENT ON COLUMN "public"."metric_policies"."metric" IS 'Exact metric name (e.g. f1) or a pattern where * matches anything (e.g. *_cost). Exact names win, then the longest pattern.';

COMMENT ON COLUMN "public"."metric_policies"."min_history" IS 'Alerting: runs of in-control history (the pinned baseline counts as one) before the series can alert or its own noise is estimated (null = 5).';

COMMENT ON COLUMN "public"."metric_policies"."proportion" IS 'True for metrics that are a proportion of dataset_size examples (sampling error sqrt(p(1-p)/n)); null = false.';

COMMENT ON COLUMN "public"."metric_policies"."relative_threshold" IS 'Relative change (0.05 = 5%) a regression must exceed; null uses the caller''s threshold (detect_regression''s p_threshold, 0.05 at ingest).';

COMMENT ON COLUMN "public"."metric_policies"."sensitivity" IS 'Alerting: how many noise standard errors the change must exceed (null = 2).';

COMMENT ON TABLE "public"."metric_policies" IS 'Per-metric regression policy: which direction is better, the relative threshold (null = the caller''s, 5% by default) and an absolute noise floor. metric is an exact name or a pattern with * wildcards.';

CREATE TABLE "benchwatch_private"."detection_defaults" (
  "id"                boolean NOT NULL DEFAULT true,
  "sensitivity"       numeric NOT NULL DEFAULT 2,
  "confirmation_runs" integer NOT NULL DEFAULT 2,
  "min_history"       integer NOT NULL DEFAULT 5,
  "history_window"    integer NOT NULL DEFAULT 30,
  "resolve_fraction"  numeric NOT NULL DEFAULT 0.5,
  "reference_runs"    integer NOT NULL DEFAULT 30,
  "evidence_runs"     integer NOT NULL DEFAULT 10,
  "evidence_z"        numeric NOT NULL DEFAULT 1.5,
  "clip_z"            numeric NOT NULL DEFAULT 2,
  "alarm_z"           numeric NOT NULL DEFAULT 3.5,
  "resolve_runs"      integer NOT NULL DEFAULT 4,
  CONSTRAINT "detection_defaults_alarm_z_nonnegative" CHECK ((alarm_z >= (0)::numeric)),
  CONSTRAINT "detection_defaults_clip_z_positive" CHECK ((clip_z > (0)::numeric)),
  CONSTRAINT "detection_defaults_confirmation_runs_valid" CHECK (((confirmation_runs >= 1) AND (confirmation_runs <= 20))),
  CONSTRAINT "detection_defaults_evidence_runs_valid" CHECK (((evidence_runs >= 1) AND (evidence_runs <= 20))),
  CONSTRAINT "detection_defaults_evidence_z_nonnegative" CHECK ((evidence_z >= (0)::numeric)),
  CONSTRAINT "detection_defaults_history_window_valid" CHECK (((history_window >= 3) AND (history_window <= 200))),
  CONSTRAINT "detection_defaults_min_history_valid" CHECK (((min_history >= 1) AND (min_history <= 50))),
  CONSTRAINT "detection_defaults_one_row" CHECK (id),
  CONSTRAINT "detection_defaults_pkey" PRIMARY KEY (id),
  CONSTRAINT "detection_defaults_reference_runs_valid" CHECK (((reference_runs >= 1) AND (reference_runs <= 100))),
  CONSTRAINT "detection_defaults_resolve_fraction_valid" CHECK (((resolve_fraction > (0)::numeric) AND (resolve_fraction <= (1)::numeric))),
  CONSTRAINT "detection_defaults_resolve_runs_positive" CHECK ((resolve_runs >= 1)),
  CONSTRAINT "detection_defaults_sensitivity_nonnegative" CHECK ((sensitivity >= (0)::numeric))
);

ALTER TABLE "benchwatch_private"."detection_defaults"
  ENABLE ROW LEVEL SECURITY;

COMMENT ON COLUMN "benchwatch_private"."detection_defaults"."alarm_z" IS 'Standard errors by which the mean change of the last runs must clear zero for an alert to open (with evidence_z past tolerance); a metric''s sensitivity applies instead when larger.';

COMMENT ON COLUMN "benchwatch_private"."detection_defaults"."resolve_runs" IS 'Consecutive runs back within resolve_fraction of the tolerance that resolve an open alert (at least the metric''s confirmation_runs, at most evidence_runs).';

COMMENT ON TABLE "benchwatch_private"."detection_defaults" IS 'Alerting defaults for knobs a metric policy leaves null: sensitivity 2, confirmation_runs 2, min_history 5, history_window 30; resolve_fraction 0.5 and resolve_runs 4 (an alert resolves once 4 consecutive runs, and at least confirmation_runs, are back within half the tolerance); reference_runs 30 (the reference level is the median of the baseline and the first 29 in-control runs after it); evidence_runs 10, evidence_z 1.5, clip_z 2, alarm_z 3.5 (an alert opens when the run is beyond tolerance, the other last confirmation_runs runs beyond tolerance less one noise unit, and the mean change of the last j runs, confirmation_runs <= j <= evidence_runs, each run clipped at tolerance + clip_z noise, is beyond tolerance by evidence_z standard errors and beyond zero by alarm_z).';

CREATE TABLE "benchwatch_private"."metric_observations" (
  "transaction_id"  uuid                     NOT NULL,
  "metric_name"     text                     NOT NULL,
  "seq"             bigint                   GENERATED ALWAYS AS IDENTITY NOT NULL,
  "model_version"   text                     NOT NULL,
  "model_provider"  text                     NOT NULL,
  "dataset_version" text                     NOT NULL,
  "prompt_version"  text                     NOT NULL,
  "environment"     text                     NOT NULL,
  "created_at"      timestamp with time zone NOT NULL,
  "value"           numeric                  NOT NULL,
  "dataset_size"    integer,
  "reported_stderr" numeric,
  "trials"          numeric[],
  "own_stderr"      numeric,
  "reference_value" numeric,
  "noise"           numeric,
  "z"               numeric,
  "out_of_control"  boolean                  NOT NULL DEFAULT false,
  "back_in_control" boolean                  NOT NULL DEFAULT true,
  CONSTRAINT "metric_observations_pkey" PRIMARY KEY (transaction_id, metric_name)
);

ALTER TABLE "benchwatch_private"."metric_observations"
  ENABLE ROW LEVEL SECURITY;

CREATE INDEX metric_observations_series_idx ON benchwatch_private.metric_observations
  USING btree (model_version, model_provider, dataset_version, prompt_version, environment, metric_name, created_at DESC, seq DESC);

COMMENT ON COLUMN "benchwatch_private"."metric_observations"."own_stderr" IS 'The run''s own standard error: the largest of sqrt(p(1-p)/dataset_size) for proportion metrics, metric_stderr, and sd/sqrt(k) of metric_trials.';

COMMENT ON TABLE "benchwatch_private"."metric_observations" IS 'One row per recorded run and metric: the value, what the run said about its own sampling error (dataset_size, metric_stderr, metric_trials), and the alerting verdict (out_of_control, back_in_control) that later runs read.';

-- Functions -----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benchwatch_private.metric_policy (
  p_metric            text,
  p_default_threshold numeric
)
  RETURNS TABLE (
    direction          text,
    relative_threshold numeric,
    absolute_floor     numeric,
    source             text
  )
  LANGUAGE plpgsql
  STABLE
  ROWS 1
  SET search_path TO ''
  AS $function$
#variable_conflict use_column
begin
  return query
select coalesce(p.direction, benchwatch_private.metric_direction_by_name(p_metric)),
         coalesce(p.relative_threshold, p_default_threshold),
         coalesce(p.absolute_floor, 0),
         -- direction_unknown: 'none' when neither a policy nor the name rule gives a direction.
         coalesce(p.source,
                  case when benchwatch_private.metric_direction_by_name(p_metric) is null
                       then 'none' else 'name_rule' end)
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."metric_policy"(text, numeric) IS 'Effective direction, relative threshold, absolute floor and source (policy, policy_pattern, name_rule, or none with a null direction when nothing gives one) for a metric.';

REVOKE ALL ON FUNCTION "benchwatch_private"."metric_policy"(text, numeric) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metric_policy"(text, numeric) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.metric_detection_policy (
  p_metric text
)
  RETURNS TABLE (
    sensitivity       numeric,
    confirmation_runs integer,
    min_history       integer,
    history_window    integer,
    proportion        boolean,
    resolve_fraction  numeric,
    reference_runs    integer
  )
  LANGUAGE plpgsql
  STABLE
  ROWS 1
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."metric_detection_policy"(text) IS 'Effective alerting knobs for a metric: its metric_policies row, else benchwatch_private.detection_defaults (sensitivity 2, confirmation_runs 2, min_history 5, history_window 30, resolve_fraction 0.5, reference_runs 30); proportion false. evidence_runs, evidence_z and clip_z are read from detection_defaults by assess_runs.';

REVOKE ALL ON FUNCTION "benchwatch_private"."metric_detection_policy"(text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metric_detection_policy"(text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.metric_direction_by_name (
  p_metric text
)
  RETURNS text
  LANGUAGE plpgsql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
begin
  return case
    when pg_catalog.lower(p_metric) ~ '(_ms|_cost|_usd|_seconds|_secs|_sec|loss|error|errors|error_rate|latency|perplexity|duration)$'
      or pg_catalog.lower(p_metric) ~ '^(latency|cost|loss|error|perplexity|duration)'
    then 'lower'
    -- direction_unknown: no guess for any other name.
    else null
  end;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."metric_direction_by_name"(text) IS 'Name rule for metrics without a policy: names ending _ms, _cost, _seconds, loss, error, latency, perplexity, ... are lower-is-better; any other name has no direction (null: its verdict is direction_unknown).';

REVOKE ALL ON FUNCTION "benchwatch_private"."metric_direction_by_name"(text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."metric_direction_by_name"(text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.covering_policy (
  p_metric text
)
  RETURNS TABLE (
    metric    text,
    direction text
  )
  LANGUAGE sql
  STABLE
  ROWS 1
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."covering_policy"(text) IS 'The metric_policies row (exact name, else the longest matching * pattern) that decides a metric''s direction, or no row when only the name rule does.';

REVOKE ALL ON FUNCTION "benchwatch_private"."covering_policy"(text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."covering_policy"(text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.apply_metric_directions (
  p_directions jsonb,
  p_metrics    jsonb
)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."apply_metric_directions"(jsonb, jsonb) IS 'Applies a run''s metric_directions: creates an exact-name policy (direction only) for a metric no policy row covers, accepts the same direction as the covering policy, and raises BW022 for a different one (never overrides). BW007 for a malformed value or a metric not in the run.';

REVOKE ALL ON FUNCTION "benchwatch_private"."apply_metric_directions"(jsonb, jsonb) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."apply_metric_directions"(jsonb, jsonb) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.set_metric_policy (
  p_metric             text,
  p_direction          text,
  p_relative_threshold numeric DEFAULT NULL::numeric,
  p_absolute_floor     numeric DEFAULT NULL::numeric
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."set_metric_policy"(text, text, numeric, numeric) IS 'Creates or replaces a metric''s policy (exact name or * pattern): its direction, and its relative threshold and absolute floor when given (else kept, or the defaults for a new row). BW023 for a bad argument. The deliberate way to change a direction; a run''s metric_directions never does.';

REVOKE ALL ON FUNCTION "benchwatch_private"."set_metric_policy"(text, text, numeric, numeric) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."set_metric_policy"(text, text, numeric, numeric) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.list_metric_policies()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
    'metric', mp.metric, 'direction', mp.direction,
    'relative_threshold', mp.relative_threshold, 'absolute_floor', mp.absolute_floor,
    'description', mp.description, 'updated_at', mp.updated_at) order by mp.metric), '[]'::jsonb)
  from public.metric_policies mp
$function$;

COMMENT ON FUNCTION "benchwatch_private"."list_metric_policies"() IS 'Every metric policy (exact names and * patterns), by metric.';

REVOKE ALL ON FUNCTION "benchwatch_private"."list_metric_policies"() FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."list_metric_policies"() TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.assert_valid_metric_noise (
  p_run jsonb
)
  RETURNS void
  LANGUAGE plpgsql
  IMMUTABLE
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."assert_valid_metric_noise"(jsonb) IS 'Validates the optional metric_stderr ({metric: number >= 0}) and metric_trials ({metric: [2..1000 numbers]}) of a run payload; each key must be a metric of the run. BW007 / BW006.';

REVOKE ALL ON FUNCTION "benchwatch_private"."assert_valid_metric_noise"(jsonb) FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.own_stderr (
  p_value        numeric,
  p_proportion   boolean,
  p_dataset_size integer,
  p_stderr       numeric,
  p_trials       numeric[]
)
  RETURNS numeric
  LANGUAGE plpgsql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."own_stderr"(numeric, boolean, integer, numeric, numeric[]) IS 'A run''s own standard error for one metric: the largest of sqrt(p(1-p)/dataset_size) (proportion metrics), the reported metric_stderr, and sd/sqrt(k) of metric_trials.';

REVOKE ALL ON FUNCTION "benchwatch_private"."own_stderr"(numeric, boolean, integer, numeric, numeric[]) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."own_stderr"(numeric, boolean, integer, numeric, numeric[]) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.evidence (
  p_values            numeric[],
  p_higher            boolean,
  p_reference         numeric,
  p_tolerance         numeric,
  p_noise             numeric,
  p_run_noise         numeric,
  p_reference_noise   numeric,
  p_confirmation_runs integer,
  p_clip_z            numeric,
  p_evidence_z        numeric,
  p_sensitivity       numeric,
  OUT                 each_beyond boolean,
  OUT                 evident boolean
)
  RETURNS record
  LANGUAGE plpgsql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
declare
  v_tol float8 := p_tolerance;
  v_nz float8 := p_noise;
  v_run2 float8 := coalesce(p_run_noise, 0)::float8 ^ 2;
  v_ref2 float8 := coalesce(p_reference_noise, 0)::float8 ^ 2;
  v_cap float8 := p_tolerance + p_clip_z * coalesce(p_noise, 0);
  -- The confirming runs before the newest: beyond tolerance less one noise unit.
  v_tol_prev float8 := p_tolerance - coalesce(p_noise, 0);
  v_b float8;
  v_sum float8 := 0;
  v_mean float8;
  v_se float8;
begin
  each_beyond := pg_catalog.cardinality(p_values) >= p_confirmation_runs;
  evident := false;
  for i in 1 .. pg_catalog.cardinality(p_values) loop
    v_b := case when p_higher then p_reference - p_values[i] else p_values[i] - p_reference end;
    if i <= p_confirmation_runs
       and not (v_b > 0 and v_b > case when i = 1 then v_tol else v_tol_prev end) then
      each_beyond := false;
      return;
    end if;
    v_sum := v_sum + case when v_nz > 0 then least(v_b, v_cap) else v_b end;
    if i >= p_confirmation_runs then
      if v_nz is null then
        evident := true;
        return;
      end if;
      v_mean := v_sum / i;
      v_se := pg_catalog.sqrt(v_run2 / i + v_ref2);
      if v_mean - v_tol > p_evidence_z * v_se and v_mean > p_sensitivity * v_se then
        evident := true;
        return;
      end if;
    end if;
  end loop;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."evidence"(numeric[], boolean, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric) IS
  'The opening test of assess_runs for one metric of one run: whether the newest value is beyond tolerance and the other last confirmation_runs values beyond zero and beyond tolerance less one noise unit (each_beyond), and whether the clipped mean change of the last j values clears tolerance by evidence_z standard errors and noise by sensitivity (assess_runs passes alarm_z).';

REVOKE ALL ON FUNCTION "benchwatch_private"."evidence"(numeric[], boolean, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE
  ON FUNCTION "benchwatch_private"."evidence"(numeric[], boolean, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric)
  TO "service_role";

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
    select d.metric, pol.*, greatest(dd.evidence_runs, pol.confirmation_runs) as evidence_runs,
           dd.evidence_z, dd.clip_z, greatest(dd.alarm_z, pol.sensitivity) as alarm_z,
           -- Runs back within resolve_fraction that resolve an alert: resolve_runs, and at
           -- least confirmation_runs; within the previous runs already read for the evidence.
           least(greatest(dd.resolve_runs, pol.confirmation_runs),
                 greatest(dd.evidence_runs, pol.confirmation_runs)) as resolve_runs
    from (select distinct it.metric from items it) as d
    cross join lateral benchwatch_private.metric_detection_policy(d.metric) as pol
    cross join benchwatch_private.detection_defaults dd
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
           case when it.base_created is not null then bo.own_stderr end as base_se
    from items it
    join pols pol on pol.metric = it.metric
    left join benchwatch_private.metric_observations bo
      on bo.transaction_id = it.baseline_transaction_id and bo.metric_name = it.metric
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
    cross join lateral (
      select pg_catalog.array_agg(h.value order by h.created_at desc, h.seq desc) as vals,
             pg_catalog.array_agg(h.back_in_control order by h.created_at desc, h.seq desc) as backs,
             pg_catalog.count(*)::integer as n
      from (
        select o.value, o.back_in_control, o.created_at, o.seq
        from benchwatch_private.metric_observations o
        where o.model_version = m.model_version and o.model_provider = m.model_provider
          and o.dataset_version = m.dataset_version and o.prompt_version = m.prompt_version
          and o.environment = m.environment and o.metric_name = m.metric
          and o.created_at <= m.as_of and o.transaction_id <> m.transaction_id
        order by o.created_at desc, o.seq desc
        limit greatest(m.history_window, m.evidence_runs - 1)
      ) as h
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

COMMENT ON FUNCTION "benchwatch_private"."assess_runs"(benchwatch_private.assess_input[]) IS 'The noise-aware alerting verdict for many metrics of many runs at once, one row per item that has a reference level (its ord and metric): reference level, noise (the largest of the run''s own standard error, the median successive difference of the series'' last history_window runs, and the reference runs'' interquartile range / 1.349), z, beyond tolerance / noise, out of control (beyond tolerance and noise, or confirming an opening), back in control, whether the evidence of the last runs confirms an opening (the run beyond tolerance and each of the other last confirmation_runs runs beyond tolerance less one noise unit, and the clipped mean change of the last j <= evidence_runs runs beyond tolerance by evidence_z standard errors and beyond zero by alarm_z) and whether the last resolve_runs runs (at least confirmation_runs) confirm a resolution. Reads a bounded window of each series'' metric_observations. Runs of one call must not depend on each other''s observations (record_runs passes one run per series).';

REVOKE ALL ON FUNCTION "benchwatch_private"."assess_runs"(benchwatch_private.assess_input[]) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."assess_runs"(benchwatch_private.assess_input[]) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.compare_run (
  p_model_version   text,
  p_model_provider  text,
  p_dataset_version text,
  p_prompt_version  text,
  p_environment     text,
  p_metrics         jsonb,
  p_threshold       numeric
)
  RETURNS TABLE (
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
  ROWS 20
  SET search_path TO ''
  AS $function$
#variable_conflict use_column
begin
  return query
  select c.metric_name, c.status, c.is_regression, c.baseline_value, c.current_value, c.absolute_change, c.relative_change, c.direction, c.relative_threshold, c.absolute_floor, c.policy_source, c.baseline_snapshot_id, c.baseline_transaction_id, c.baseline_model_version, c.baseline_prompt_version, c.baseline_pinned_at, c.prompt_mismatch
  from benchwatch_private.compare_runs(
    array[p_model_version], array[p_model_provider], array[p_dataset_version],
    array[p_prompt_version], array[p_environment], array[p_metrics], p_threshold) as c
  order by c.metric_name;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."compare_run"(text, text, text, text, text, jsonb, numeric) IS 'Compares metrics of a series with the baseline that applies to it; one row per metric of the run or the baseline, with status regression, ok, missing_in_run, missing_in_baseline or no_baseline.';

REVOKE ALL ON FUNCTION "benchwatch_private"."compare_run"(text, text, text, text, text, jsonb, numeric) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."compare_run"(text, text, text, text, text, jsonb, numeric) TO "service_role";

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
    cross join lateral benchwatch_private.metric_policy(d.metric_name, p_threshold) as p
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

COMMENT ON FUNCTION "benchwatch_private"."compare_runs"(text[], text[], text[], text[], text[], jsonb[], numeric) IS 'compare_run for many runs at once (arrays aligned by position; ord is the 1-based position): one row per metric of each run or its baseline, in ord then metric order. A metric with no direction (metric_policy''s source none) has status direction_unknown and is never a regression.';

REVOKE ALL ON FUNCTION "benchwatch_private"."compare_runs"(text[], text[], text[], text[], text[], jsonb[], numeric) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."compare_runs"(text[], text[], text[], text[], text[], jsonb[], numeric) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.run_verdicts (
  p_transaction_id uuid DEFAULT NULL::uuid,
  p_commit_sha     text DEFAULT NULL::text
)
  RETURNS jsonb
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_runs jsonb;
begin
  if (p_transaction_id is null) = (p_commit_sha is null) or pg_catalog.btrim(p_commit_sha) = '' then
    raise exception using
      errcode = 'BW019',
      message = 'Cannot read verdicts: give exactly one of transaction_id and commit_sha',
      detail = pg_catalog.format('transaction_id = %s, commit_sha = %s',
                                 coalesce(p_transaction_id::text, 'null'), coalesce(p_commit_sha, 'null'));
  end if;

  with ids as (
    select t.id from public.benchmark_transactions t
    where p_transaction_id is not null and t.id = p_transaction_id
    union
    select ar.id from public.benchmark_transactions_archive ar
    where p_transaction_id is not null and ar.id = p_transaction_id
    union
    select t.id from public.benchmark_transactions t
    where p_commit_sha is not null and t.commit_sha = p_commit_sha
    union
    select ar.id from public.benchmark_transactions_archive ar
    where p_commit_sha is not null and ar.commit_sha = p_commit_sha
  ),
  runs as (
    select distinct on (r.transaction_id) r.transaction_id, r.response
    from benchwatch_private.run_identities r
    join ids on ids.id = r.transaction_id
    order by r.transaction_id, r.created_at
  ),
  verdicts as (
    select r.transaction_id,
           r.response,
           case
             when coalesce((r.response ->> 'regression')::boolean, false) then 'regressed'
             when coalesce(pg_catalog.jsonb_typeof(r.response -> 'baseline'), 'null') <> 'object' then 'no_baseline'
             else 'ok'
           end as verdict
    from runs r
  )
  select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'transaction_id', v.transaction_id,
           'created_at', v.response -> 'created_at',
           'series', v.response -> 'series',
           'verdict', v.verdict,
           'baseline', v.response -> 'baseline',
           'metrics', coalesce(v.response -> 'metrics', '[]'::jsonb))
         order by (v.response ->> 'created_at')::timestamptz, v.transaction_id)
  into v_runs
  from verdicts v;

  return pg_catalog.jsonb_build_object(
    'verdict', case
      when v_runs is null then 'not_found'
      when exists (select 1 from pg_catalog.jsonb_array_elements(v_runs) as r(value)
                   where r.value ->> 'verdict' = 'regressed') then 'regressed'
      when not exists (select 1 from pg_catalog.jsonb_array_elements(v_runs) as r(value)
                       where r.value ->> 'verdict' <> 'no_baseline') then 'no_baseline'
      else 'ok'
    end,
    'runs', coalesce(v_runs, '[]'::jsonb));
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."run_verdicts"(uuid, text) IS 'The verdict (regressed, ok, no_baseline or not_found) for one run or every run of a commit, from the answers the runs got when recorded, with per-run baseline and per-metric detail.';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_verdicts"(uuid, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."run_verdicts"(uuid, text) TO "service_role";

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
    alert_open              boolean
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
                   and ra.metric_name = j.metric_name)
  from j
  left join a on a.ord = j.pos and a.metric_name = j.metric_name
  order by j.model_provider, j.dataset_version, j.prompt_version, j.environment, j.metric_name;
end
$function$;

COMMENT ON FUNCTION "public"."detect_regression"(text, numeric) IS 'For each active series of a model_version, compares its latest run with the applicable pinned baseline: one row per metric with baseline value, current value, relative change and is_regression (the guide''s rule: beyond p_threshold). The noise-aware columns: noise (standard error of current - baseline), z, beyond_noise (z above the metric''s sensitivity), within_noise (is_regression but not beyond noise), out_of_control (the alerting rule''s verdict on this run) and alert_open.';

REVOKE ALL ON FUNCTION "public"."detect_regression"(text, numeric) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "public"."detect_regression"(text, numeric) TO "service_role";

-- Triggers, row level security policies and grants --------------------------------------------

REVOKE ALL ON TABLE "public"."metric_policies" FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE POLICY "metric_policies_delete_service_role" ON "public"."metric_policies"
  FOR DELETE
  TO "service_role"
  USING (true);

CREATE POLICY "metric_policies_insert_service_role" ON "public"."metric_policies"
  FOR INSERT
  TO "service_role"
  WITH CHECK (true);

CREATE POLICY "metric_policies_select_anon" ON "public"."metric_policies"
  FOR SELECT
  TO "anon"
  USING (true);

CREATE POLICY "metric_policies_select_authenticated" ON "public"."metric_policies"
  FOR SELECT
  TO "authenticated"
  USING (true);

CREATE POLICY "metric_policies_select_service_role" ON "public"."metric_policies"
  FOR SELECT
  TO "service_role"
  USING (true);

CREATE POLICY "metric_policies_update_service_role" ON "public"."metric_policies"
  FOR UPDATE
  TO "service_role"
  USING (true)
  WITH CHECK (true);

GRANT SELECT ON TABLE "public"."metric_policies" TO "anon", "authenticated";

GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE "public"."metric_policies" TO "service_role";

REVOKE ALL ON TABLE "benchwatch_private"."detection_defaults" FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE POLICY "detection_defaults_select_service_role" ON "benchwatch_private"."detection_defaults"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT SELECT ON TABLE "benchwatch_private"."detection_defaults" TO "service_role";

REVOKE ALL ON TABLE "benchwatch_private"."metric_observations" FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE POLICY "metric_observations_select_service_role" ON "benchwatch_private"."metric_observations"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT SELECT ON TABLE "benchwatch_private"."metric_observations" TO "service_role";

-- Seed rows -----------------------------------------------------------------------------------

-- The setup guide's directions (higher is better for precision, recall, f1 and accuracy, read
-- as proportions; lower for latency, cost, loss and error rate; durations in milliseconds need
-- four runs in a row before an alert opens).
INSERT INTO public.metric_policies (metric, direction, description, confirmation_runs, proportion) VALUES
  ('precision', 'higher', 'Default: higher is better.', NULL, true),
  ('recall', 'higher', 'Default: higher is better.', NULL, true),
  ('f1', 'higher', 'Default: higher is better.', NULL, true),
  ('accuracy', 'higher', 'Default: higher is better.', NULL, true),
  ('latency_ms', 'lower', 'Default: lower is better.', 4, NULL),
  ('loss', 'lower', 'Default: lower is better.', NULL, NULL),
  ('error_rate', 'lower', 'Default: lower is better.', NULL, NULL),
  ('*_cost', 'lower', 'Default: any cost is lower-is-better.', NULL, NULL),
  ('*_ms', 'lower', 'Default: any duration in milliseconds is lower-is-better.', 4, NULL);

-- The directions of common eval tools' metrics. Names are as the CLI's adapters write them
-- (cli/src/adapters): `@` is not allowed in a metric name, so pass@k is written pass_k
-- (pass_*), and lm-evaluation-harness's `metric,filter` becomes `metric/filter`
-- (exact_match/*). Where each direction is documented:
-- * acc, acc_norm, exact_match, bleu, bits_per_byte, brier_score: lm-evaluation-harness,
--   lm_eval/api/metrics.py (register_metric(..., higher_is_better=...)) and the
--   `higher_is_better` block of its results.json (cli/test/fixtures/lm-eval/results.json).
-- * rouge1, rouge2, rougeL, rougeLsum: overlap F-measures (Lin 2004; Hugging Face evaluate's
--   rouge card). pass@k: the share of problems solved within k samples (Chen et al. 2021).
-- * wer, cer: error rates (evaluate's wer/cer cards). rmse, mae, mse: errors (evaluate's
--   cards; scikit-learn's regression metrics). brier_score: evaluate's card.
-- * toxicity: evaluate's toxicity measurement. hallucination_rate: a rate of failures.
INSERT INTO public.metric_policies (metric, direction, description) VALUES
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
  ('hallucination_rate', 'lower', 'Seeded: hallucination rate, lower is better.');

-- The alerting defaults: the column defaults are the values.
INSERT INTO benchwatch_private.detection_defaults DEFAULT VALUES;
