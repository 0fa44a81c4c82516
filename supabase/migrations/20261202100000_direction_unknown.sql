-- Why: a metric that no policy covers and whose name the name rule does not know
-- was judged higher-is-better: a guess, so a rise of an error-like metric nobody declared
-- (a "hallucinations" count, a "wer_delta") read as an improvement and never alerted. Now
-- such a metric has no direction: it is recorded (its value, its observations, its trend) and
-- its verdict says `direction_unknown` instead of ok or regression. Detection cannot judge a
-- change without a direction, so it opens no alert on it and `is_regression` is false; the
-- answer's `direction` is null and `policy_source` is `none`. Declaring a direction (a run's
-- metric_directions, push --direction, benchwatch policy set) makes the next run judged.
--
-- Where a direction comes from is otherwise unchanged: the exact-name policy, the longest
-- matching `*` pattern (seeded ones included: the setup guide's precision, recall, f1,
-- accuracy, latency_ms, *_cost, ... and the eval tools' acc, bleu, wer, ...), then the name
-- rule, which now only says lower-is-better (names of times, costs, losses, errors,
-- perplexities) and otherwise nothing.
--
-- Redefined (whole current definitions restated, each change marked "direction_unknown"):
-- * metric_direction_by_name (20261128080000): null instead of 'higher';
-- * metric_policy (20261128080000): source 'none' when nothing gives a direction;
-- * compare_runs (20261128081000, plan_cache_mode from 20261128090000): status
--   direction_unknown, never a regression;
-- * current_snapshot_json (20261128090000) and metric_trend (20261128092000): a null
--   direction stays null instead of reading as lower_is_better.
-- record_runs, detect_regression and assess_runs are unchanged: they assess only metrics whose
-- status is ok or regression, so a direction_unknown metric opens, continues and resolves no
-- alert.
--
-- An alert already open on a metric that would now have no direction would never be judged
-- again (neither continued nor resolved). Such a metric keeps the direction it was opened
-- with, as an exact-name policy, before the rule changes.
insert into public.metric_policies (metric, direction, description)
select distinct on (a.metric_name) a.metric_name, a.direction,
       'Kept from an alert open when directions could still be guessed; change it with benchwatch policy set.'
from public.regression_alerts a
where a.status = 'open'
  and not exists (select 1 from benchwatch_private.covering_policy(a.metric_name))
  and not (pg_catalog.lower(a.metric_name) ~ '(_ms|_cost|_usd|_seconds|_secs|_sec|loss|error|errors|error_rate|latency|perplexity|duration)$'
           or pg_catalog.lower(a.metric_name) ~ '^(latency|cost|loss|error|perplexity|duration)')
order by a.metric_name, a.opened_at desc
on conflict (metric) do nothing;

-- The name rule: lower-is-better names, else no direction ----------------------------------
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
    -- direction_unknown: no guess for any other name.
    else null
  end;
end
$$;

comment on function benchwatch_private.metric_direction_by_name(text) is
  'Name rule for metrics without a policy: names ending _ms, _cost, _seconds, loss, error, latency, perplexity, ... are lower-is-better; any other name has no direction (null: its verdict is direction_unknown).';

-- The effective policy: source none when nothing gives a direction --------------------------
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
$$;

comment on function benchwatch_private.metric_policy(text, numeric) is
  'Effective direction, relative threshold, absolute floor and source (policy, policy_pattern, name_rule, or none with a null direction when nothing gives one) for a metric.';

-- compare_runs: direction_unknown -----------------------------------------------------------
create or replace function benchwatch_private.compare_runs(
  p_model_versions text[],
  p_model_providers text[],
  p_dataset_versions text[],
  p_prompt_versions text[],
  p_environments text[],
  p_metrics jsonb[],
  p_threshold numeric
)
returns table (
  ord integer,
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
  prompt_mismatch boolean
)
language plpgsql
stable
rows 100
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
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
$$;


comment on function benchwatch_private.compare_runs(text[], text[], text[], text[], text[], jsonb[], numeric) is
  'compare_run for many runs at once (arrays aligned by position; ord is the 1-based position): one row per metric of each run or its baseline, in ord then metric order. A metric with no direction (metric_policy''s source none) has status direction_unknown and is never a regression.';

-- current_snapshot_json: a null direction stays null ---------------------------------------
create or replace function benchwatch_private.current_snapshot_json(p_filters jsonb)
returns json
language plpgsql
stable
security definer
set search_path = ''
-- Planned per call: the filters and the page bounds decide between walking the page
-- index and filtering, which one generic plan cannot.
set plan_cache_mode = force_custom_plan
as $$
declare
  v_filters jsonb := coalesce(p_filters, '{}'::jsonb);
  v_tags text[];
  v_limit integer;
  v_offset integer := 0;
  v_offset_raw jsonb;
  v_result json;
begin
  -- offset is validated here; every other filter (limit included) by assert_valid_filters.
  if pg_catalog.jsonb_typeof(v_filters) = 'object' then
    v_offset_raw := v_filters -> 'offset';
    if coalesce(pg_catalog.jsonb_typeof(v_offset_raw), 'null') <> 'null' then
      if not ((pg_catalog.jsonb_typeof(v_offset_raw) = 'number'
               and (v_offset_raw #>> '{}') ~ '^\d{1,8}$')
              or (pg_catalog.jsonb_typeof(v_offset_raw) = 'string'
                  and (v_offset_raw #>> '{}') ~ '^\s*\d{1,8}\s*$')) then
        raise exception using
          errcode = 'BW020',
          message = 'Cannot read the snapshot: offset must be a whole number from 0 to 99999999',
          detail = pg_catalog.format('got %s', v_offset_raw);
      end if;
      v_offset := pg_catalog.btrim(v_offset_raw #>> '{}')::integer;
    end if;
    v_filters := v_filters - 'offset';
  end if;
  perform benchwatch_private.assert_valid_filters(v_filters,
    array['model_version', 'model_provider', 'dataset_version', 'prompt_version', 'environment',
          'tags', 'since', 'until', 'limit'],
    'read the snapshot');
  if pg_catalog.jsonb_typeof(v_filters) = 'null' then
    v_filters := '{}'::jsonb;
  end if;
  v_limit := coalesce(pg_catalog.btrim(v_filters ->> 'limit')::integer, 100);
  if pg_catalog.jsonb_typeof(v_filters -> 'tags') = 'array' then
    v_tags := array(select t.value from pg_catalog.jsonb_array_elements_text(v_filters -> 'tags') as t(value));
  end if;

  -- The filters are written once and inlined into each use: the count reads the matching
  -- series; the page takes the ids of its slice from benchmark_snapshots_page_order_idx
  -- (in order, no sort of every series), then reads those rows.
  with filtered as not materialized (
    select s.*
    from public.benchmark_snapshots s
    where s.pinned_at is null
      and s.is_active
      and (v_filters ->> 'model_version' is null or s.model_version = v_filters ->> 'model_version')
      and (v_filters ->> 'model_provider' is null or s.model_provider = v_filters ->> 'model_provider')
      and (v_filters ->> 'dataset_version' is null or s.dataset_version = v_filters ->> 'dataset_version')
      and (v_filters ->> 'prompt_version' is null or s.prompt_version = v_filters ->> 'prompt_version')
      and (v_filters ->> 'environment' is null or s.environment = v_filters ->> 'environment')
      and (v_tags is null or s.tags operator(pg_catalog.&&) v_tags)
      and (v_filters ->> 'since' is null or s.created_at >= (v_filters ->> 'since')::timestamptz)
      and (v_filters ->> 'until' is null or s.created_at <= (v_filters ->> 'until')::timestamptz)
  ),
  total as (
    select pg_catalog.count(*)::integer as n from filtered
  ),
  page as materialized (
    select k.ord, s.*
    from (select f.id,
                 (pg_catalog.row_number() over (order by f.model_version, f.dataset_version, f.environment,
                                                         f.model_provider, f.prompt_version))::integer as ord
          from (select f.id, f.model_version, f.dataset_version, f.environment, f.model_provider, f.prompt_version
                from filtered f
                order by f.model_version, f.dataset_version, f.environment, f.model_provider, f.prompt_version
                limit v_limit offset v_offset) as f) as k
    join public.benchmark_snapshots s on s.id = k.id
  ),
  cmp as (
    select c.*
    from (select pg_catalog.array_agg(p.model_version order by p.ord) as mv,
                 pg_catalog.array_agg(p.model_provider order by p.ord) as mp,
                 pg_catalog.array_agg(p.dataset_version order by p.ord) as dv,
                 pg_catalog.array_agg(p.prompt_version order by p.ord) as pv,
                 pg_catalog.array_agg(p.environment order by p.ord) as env,
                 pg_catalog.array_agg(p.metrics order by p.ord) as m
          from page p) as a
    cross join lateral benchwatch_private.compare_runs(a.mv, a.mp, a.dv, a.pv, a.env, a.m, 0.05) as c
  ),
  verdict as (
    select r.ord,
           coalesce(pg_catalog.bool_or(r.is_regression), false) as regressed,
           pg_catalog.bool_or(r.prompt_mismatch) as prompt_mismatch,
           (pg_catalog.array_agg(pg_catalog.json_build_object(
              'model_version', r.baseline_model_version,
              'transaction_id', r.baseline_transaction_id,
              'pinned_at', r.baseline_pinned_at,
              'prompt_version', r.baseline_prompt_version))
            filter (where r.baseline_snapshot_id is not null))[1] as baseline,
           pg_catalog.json_agg(pg_catalog.json_build_object(
             'metric', r.metric_name,
             'current', r.current_value,
             'baseline', r.baseline_value,
             'relative_change', r.relative_change,
             'absolute_change', r.absolute_change,
             -- direction_unknown: null when the metric has no direction.
             'direction', case r.direction when 'higher' then 'higher_is_better'
                                           when 'lower' then 'lower_is_better' end,
             'is_regression', r.is_regression,
             'status', r.status)
             order by r.metric_name) as metrics
    from cmp r
    group by r.ord
  )
  select pg_catalog.json_build_object(
           'series', coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
             'snapshot_id', s.id,
             'transaction_id', s.transaction_id,
             'series', pg_catalog.json_build_object(
               'model_version', s.model_version,
               'model_provider', s.model_provider,
               'dataset_version', s.dataset_version,
               'prompt_version', s.prompt_version,
               'environment', s.environment),
             'commit_sha', s.commit_sha,
             'branch_name', s.branch_name,
             'run_id', s.run_id,
             'triggered_by', s.triggered_by,
             'tags', pg_catalog.to_json(s.tags),
             'created_at', s.created_at,
             'has_own_baseline', exists (
               select 1 from public.benchmark_snapshots b
               where b.pinned_at is not null
                 and b.model_version = s.model_version
                 and b.model_provider = s.model_provider
                 and b.dataset_version = s.dataset_version
                 and b.prompt_version = s.prompt_version
                 and b.environment = s.environment),
             'baseline', c.baseline,
             'prompt_mismatch', coalesce(c.prompt_mismatch, false),
             'open_alerts', (
               select pg_catalog.count(*)::integer from public.regression_alerts a
               where a.status = 'open'
                 and a.model_version = s.model_version
                 and a.model_provider = s.model_provider
                 and a.dataset_version = s.dataset_version
                 and a.prompt_version = s.prompt_version
                 and a.environment = s.environment),
             'status', case
               when coalesce(c.regressed, false) then 'regressed'
               when c.baseline is null then 'no_baseline'
               else 'ok'
             end,
             'metrics', coalesce(c.metrics, '[]'::json))
             order by s.ord), '[]'::json),
           'total', (select t.n from total t),
           'limit', v_limit,
           'offset', v_offset,
           'next_offset', case when v_offset + v_limit < (select t.n from total t) then v_offset + v_limit end)
  into v_result
  from page s
  left join verdict c on c.ord = s.ord;

  return v_result;
end
$$;

-- metric_trend: a null direction stays null ------------------------------------------------
create or replace function benchwatch_private.metric_trend(
  p_series jsonb,
  p_metric text,
  p_from timestamptz default null,
  p_to timestamptz default null,
  p_max_points integer default 2000
)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_key text;
  v_model_version text;
  v_model_provider text;
  v_dataset_version text;
  v_prompt_version text;
  v_environment text;
  v_from timestamptz := coalesce(p_from, pg_catalog.now() - interval '90 days');
  v_to timestamptz := coalesce(p_to, pg_catalog.now());
  v_max integer := coalesce(p_max_points, 2000);
  v_runs bigint;
  v_resolution text;
  v_points jsonb;
  v_baseline jsonb;
  v_direction text;
  v_alerts jsonb;
begin
  if p_series is null or pg_catalog.jsonb_typeof(p_series) <> 'object' then
    raise exception using
      errcode = 'BW021',
      message = 'Cannot read the trend: series must be a JSON object with model_version, model_provider, dataset_version, prompt_version and environment';
  end if;
  foreach v_key in array array['model_version', 'model_provider', 'dataset_version', 'prompt_version', 'environment'] loop
    if pg_catalog.jsonb_typeof(p_series -> v_key) is distinct from 'string'
       or pg_catalog.btrim(p_series ->> v_key) = '' then
      raise exception using
        errcode = 'BW021',
        message = pg_catalog.format('Cannot read the trend: series.%s is required', v_key);
    end if;
  end loop;
  if p_metric is null or pg_catalog.btrim(p_metric) = '' then
    raise exception using
      errcode = 'BW021',
      message = 'Cannot read the trend: metric is required';
  end if;
  if v_from > v_to then
    raise exception using
      errcode = 'BW021',
      message = 'Cannot read the trend: from must not be after to',
      detail = pg_catalog.format('from = %s, to = %s', v_from, v_to);
  end if;
  if v_max < 1 then
    raise exception using
      errcode = 'BW021',
      message = 'Cannot read the trend: max_points must be at least 1',
      detail = pg_catalog.format('got %s', v_max);
  end if;

  v_model_version := p_series ->> 'model_version';
  v_model_provider := p_series ->> 'model_provider';
  v_dataset_version := p_series ->> 'dataset_version';
  v_prompt_version := p_series ->> 'prompt_version';
  v_environment := p_series ->> 'environment';

  -- Both reads use the series indexes (series columns, created_at). Only whether there
  -- are more than v_max runs matters, so the count stops at v_max + 1.
  select pg_catalog.count(*) into v_runs
  from (
    select t.id from public.benchmark_transactions t
    where t.model_version = v_model_version and t.model_provider = v_model_provider
      and t.dataset_version = v_dataset_version and t.prompt_version = v_prompt_version
      and t.environment = v_environment and t.created_at between v_from and v_to
      and t.metrics operator(pg_catalog.?) p_metric
    union all
    select ar.id from public.benchmark_transactions_archive ar
    where ar.model_version = v_model_version and ar.model_provider = v_model_provider
      and ar.dataset_version = v_dataset_version and ar.prompt_version = v_prompt_version
      and ar.environment = v_environment and ar.created_at between v_from and v_to
      and ar.metrics operator(pg_catalog.?) p_metric
    limit v_max + 1
  ) as runs;

  if v_runs <= v_max then
    v_resolution := 'raw';
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             't', r.created_at,
             'value', r.metrics -> p_metric,
             'transaction_id', r.id,
             'commit_sha', r.commit_sha,
             'branch_name', r.branch_name)
           order by r.created_at, r.id), '[]'::jsonb)
    into v_points
    from (
      select t.id, t.created_at, t.metrics, t.commit_sha, t.branch_name
      from public.benchmark_transactions t
      where t.model_version = v_model_version and t.model_provider = v_model_provider
        and t.dataset_version = v_dataset_version and t.prompt_version = v_prompt_version
        and t.environment = v_environment and t.created_at between v_from and v_to
        and t.metrics operator(pg_catalog.?) p_metric
      union all
      select ar.id, ar.created_at, ar.metrics, ar.commit_sha, ar.branch_name
      from public.benchmark_transactions_archive ar
      where ar.model_version = v_model_version and ar.model_provider = v_model_provider
        and ar.dataset_version = v_dataset_version and ar.prompt_version = v_prompt_version
        and ar.environment = v_environment and ar.created_at between v_from and v_to
        and ar.metrics operator(pg_catalog.?) p_metric
    ) as r;
  else
    v_resolution := 'daily';
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             't', (d.day::timestamp) at time zone 'UTC',
             'value', d.avg_value,
             'min', d.min_value,
             'max', d.max_value,
             'runs', d.runs)
           order by d.day), '[]'::jsonb)
    into v_points
    from (
      select (r.created_at at time zone 'UTC')::date as day,
             pg_catalog.avg(r.value) as avg_value,
             pg_catalog.min(r.value) as min_value,
             pg_catalog.max(r.value) as max_value,
             pg_catalog.count(*) as runs
      from (
        select t.created_at, (t.metrics ->> p_metric)::numeric as value
        from public.benchmark_transactions t
        where t.model_version = v_model_version and t.model_provider = v_model_provider
          and t.dataset_version = v_dataset_version and t.prompt_version = v_prompt_version
          and t.environment = v_environment and t.created_at between v_from and v_to
          and t.metrics operator(pg_catalog.?) p_metric
        union all
        select ar.created_at, (ar.metrics ->> p_metric)::numeric
        from public.benchmark_transactions_archive ar
        where ar.model_version = v_model_version and ar.model_provider = v_model_provider
          and ar.dataset_version = v_dataset_version and ar.prompt_version = v_prompt_version
          and ar.environment = v_environment and ar.created_at between v_from and v_to
          and ar.metrics operator(pg_catalog.?) p_metric
      ) as r
      group by 1
    ) as d;
  end if;

  -- The baseline that applies to the series, by compare_run's own resolution rule.
  select case when c.baseline_snapshot_id is not null then pg_catalog.jsonb_build_object(
           'value', c.baseline_value,
           'transaction_id', c.baseline_transaction_id,
           'model_version', c.baseline_model_version,
           'pinned_at', c.baseline_pinned_at) end,
         -- direction_unknown: null when the metric has no direction.
         case c.direction when 'higher' then 'higher_is_better' when 'lower' then 'lower_is_better' end
  into v_baseline, v_direction
  from benchwatch_private.compare_run(
    v_model_version, v_model_provider, v_dataset_version, v_prompt_version, v_environment,
    pg_catalog.jsonb_build_object(p_metric, 0), 0.05) as c
  where c.metric_name = p_metric;

  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'id', a.id,
           'opened_at', a.opened_at,
           'opened_transaction_id', a.opened_transaction_id,
           'opened_value', a.opened_value,
           'resolved_at', a.resolved_at,
           'status', a.status)
         order by a.opened_at, a.id), '[]'::jsonb)
  into v_alerts
  from public.regression_alerts a
  where a.model_version = v_model_version and a.model_provider = v_model_provider
    and a.dataset_version = v_dataset_version and a.prompt_version = v_prompt_version
    and a.environment = v_environment and a.metric_name = p_metric;

  return pg_catalog.jsonb_build_object(
    'resolution', v_resolution,
    'points', v_points,
    'baseline', v_baseline,
    'alerts', v_alerts,
    'direction', v_direction);
end
$$;

comment on function benchwatch_private.metric_trend(jsonb, text, timestamptz, timestamptz, integer) is
  'One metric of one series between p_from and p_to (default: the last 90 days): raw runs when there are at most p_max_points, else daily (UTC) avg/min/max/runs; plus the applicable baseline, the series'' alerts on that metric, and the metric''s direction (null when it has none).';
