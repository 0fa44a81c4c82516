-- Why: the `regressions` Edge Function answers two questions, each with one SQL
-- call:
--   * run_verdicts: did this run, or this commit, regress? CI gates on it
--     (`benchwatch check`). It reads the answer each run got when it was
--     recorded (stored with its identity by record_run), so `check` always
--     agrees with what `push` printed, even after baselines change.
--   * list_alerts: open and resolved regressions, filtered by series, state and
--     time, with a severity and an age.
-- The filter checks are shared with the benchmarks read API (a later migration).

create or replace function benchwatch_private.assert_valid_filters(p_filters jsonb, p_allowed text[], p_action text)
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  v_key text;
  v_value jsonb;
  v_limit numeric;
begin
  if p_filters is null or pg_catalog.jsonb_typeof(p_filters) = 'null' then
    return;
  end if;
  if pg_catalog.jsonb_typeof(p_filters) <> 'object' then
    raise exception using
      errcode = 'BW020',
      message = pg_catalog.format('Cannot %s: filters must be a JSON object', p_action),
      detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(p_filters));
  end if;

  for v_key, v_value in
    select f.key, f.value from pg_catalog.jsonb_each(p_filters) as f(key, value) order by f.key
  loop
    if v_key <> all (p_allowed) then
      raise exception using
        errcode = 'BW020',
        message = pg_catalog.format('Cannot %s: unknown filter %s', p_action, v_key),
        hint = 'Known filters: ' || pg_catalog.array_to_string(p_allowed, ', ');
    end if;
    continue when pg_catalog.jsonb_typeof(v_value) = 'null';

    if v_key = 'tags' then
      if pg_catalog.jsonb_typeof(v_value) <> 'array'
         or exists (select 1 from pg_catalog.jsonb_array_elements(v_value) as t(value)
                    where pg_catalog.jsonb_typeof(t.value) <> 'string') then
        raise exception using
          errcode = 'BW020',
          message = pg_catalog.format('Cannot %s: tags must be an array of strings', p_action);
      end if;
    elsif v_key = 'limit' then
      if pg_catalog.jsonb_typeof(v_value) = 'number' then
        v_limit := (v_value #>> '{}')::numeric;
      elsif pg_catalog.jsonb_typeof(v_value) = 'string' and (v_value #>> '{}') ~ '^\s*\d{1,7}\s*$' then
        v_limit := (v_value #>> '{}')::numeric;
      end if;
      if v_limit is null or v_limit <> pg_catalog.trunc(v_limit) or v_limit < 1 or v_limit > 1000 then
        raise exception using
          errcode = 'BW020',
          message = pg_catalog.format('Cannot %s: limit must be a whole number from 1 to 1000', p_action),
          detail = pg_catalog.format('got %s', v_value);
      end if;
    elsif pg_catalog.jsonb_typeof(v_value) <> 'string' then
      raise exception using
        errcode = 'BW020',
        message = pg_catalog.format('Cannot %s: %s must be a string', p_action, v_key),
        detail = pg_catalog.format('got JSON %s', pg_catalog.jsonb_typeof(v_value));
    elsif v_key = 'state' and (v_value #>> '{}') not in ('open', 'resolved', 'all') then
      raise exception using
        errcode = 'BW020',
        message = pg_catalog.format('Cannot %s: state must be open, resolved or all', p_action),
        detail = pg_catalog.format('got %s', v_value);
    elsif v_key in ('since', 'until') then
      begin
        perform (v_value #>> '{}')::timestamptz;
      exception
        when datetime_field_overflow or invalid_datetime_format or invalid_text_representation then
          raise exception using
            errcode = 'BW020',
            message = pg_catalog.format('Cannot %s: %s must be an ISO 8601 timestamp', p_action, v_key),
            detail = pg_catalog.format('got %s', v_value);
      end;
    end if;
  end loop;
end
$$;

comment on function benchwatch_private.assert_valid_filters(jsonb, text[], text) is
  'Raises BW020 unless p_filters is a JSON object of known filters with valid values (strings; tags an array of strings; since/until timestamps; state open/resolved/all; limit 1-1000).';

revoke execute on function benchwatch_private.assert_valid_filters(jsonb, text[], text) from public, anon, authenticated;
grant execute on function benchwatch_private.assert_valid_filters(jsonb, text[], text) to service_role;

create or replace function benchwatch_private.run_verdicts(p_transaction_id uuid default null, p_commit_sha text default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
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
$$;

comment on function benchwatch_private.run_verdicts(uuid, text) is
  'The verdict (regressed, ok, no_baseline or not_found) for one run or every run of a commit, from the answers the runs got when recorded, with per-run baseline and per-metric detail.';

revoke execute on function benchwatch_private.run_verdicts(uuid, text) from public, anon, authenticated;
grant execute on function benchwatch_private.run_verdicts(uuid, text) to service_role;

create or replace function benchwatch_private.list_alerts(p_filters jsonb)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_filters jsonb := coalesce(p_filters, '{}'::jsonb);
  v_state text;
  v_limit integer;
  v_result jsonb;
begin
  perform benchwatch_private.assert_valid_filters(p_filters,
    array['model_version', 'model_provider', 'dataset_version', 'prompt_version', 'environment',
          'state', 'since', 'until', 'limit'],
    'list alerts');
  if pg_catalog.jsonb_typeof(v_filters) = 'null' then
    v_filters := '{}'::jsonb;
  end if;
  v_state := coalesce(v_filters ->> 'state', 'all');
  v_limit := coalesce((v_filters ->> 'limit')::integer, 100);

  select pg_catalog.jsonb_build_object(
           'alerts', coalesce(pg_catalog.jsonb_agg(
              pg_catalog.to_jsonb(a) || pg_catalog.jsonb_build_object(
                'severity', benchwatch_private.alert_severity(a.opened_relative_change, a.relative_threshold),
                'age_seconds', pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.now() - a.opened_at))::bigint)
              order by a.opened_at desc, a.id), '[]'::jsonb),
           'count', pg_catalog.count(*))
  into v_result
  from (
    select r.*
    from public.regression_alerts r
    where (v_filters ->> 'model_version' is null or r.model_version = v_filters ->> 'model_version')
      and (v_filters ->> 'model_provider' is null or r.model_provider = v_filters ->> 'model_provider')
      and (v_filters ->> 'dataset_version' is null or r.dataset_version = v_filters ->> 'dataset_version')
      and (v_filters ->> 'prompt_version' is null or r.prompt_version = v_filters ->> 'prompt_version')
      and (v_filters ->> 'environment' is null or r.environment = v_filters ->> 'environment')
      and (v_state = 'all' or r.status = v_state)
      and (v_filters ->> 'since' is null or r.opened_at >= (v_filters ->> 'since')::timestamptz)
      and (v_filters ->> 'until' is null or r.opened_at <= (v_filters ->> 'until')::timestamptz)
    order by r.opened_at desc, r.id
    limit v_limit
  ) as a;

  return v_result;
end
$$;

comment on function benchwatch_private.list_alerts(jsonb) is
  'Regression alerts, newest first, filtered by series fields, state (open, resolved, all), since/until on opened_at and limit (default 100, at most 1000): {"alerts": [row + severity + age_seconds], "count": n}.';

revoke execute on function benchwatch_private.list_alerts(jsonb) from public, anon, authenticated;
grant execute on function benchwatch_private.list_alerts(jsonb) to service_role;
