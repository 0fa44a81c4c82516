-- The paired result in record_run's verdict per metric, and in the verdict `check` reads
-- (issue 21: "The paired result appears as extra columns, and in record_run's verdict per
-- metric").
--
-- * paired_answer: besides the top-level "paired" array (every metric x slice row), each
--   compared metric's entry in "metrics" gains "paired", its overall comparison with the
--   baseline run (kind, n_both, worse, better, mean_diff, ci_low, ci_high, p_value, q_value).
--   Answers already stored (run_identities.response) stay as they were recorded.
-- * run_verdicts (GET /regressions?commit_sha|transaction_id, GET /benchmarks?view=run): each run
--   carries its answer's "paired" array when it has one, so `benchwatch check` prints the same
--   paired lines as `push`. A run without examples reads exactly as before.

CREATE OR REPLACE FUNCTION benchwatch_private.paired_answer (
  p_answer jsonb
)
  RETURNS jsonb
  LANGUAGE plpgsql
  STABLE
  SET search_path TO ''
  AS $function$
declare
  v_paired jsonb := benchwatch_private.paired_json((p_answer ->> 'transaction_id')::uuid);
begin
  if v_paired is null then
    return p_answer;
  end if;
  -- Each metric's verdict gains its overall paired comparison (slice null) as "paired"; the
  -- top-level "paired" keeps every metric x slice row.
  return p_answer || pg_catalog.jsonb_build_object(
    'paired', v_paired,
    'metrics', coalesce((
      select pg_catalog.jsonb_agg(
               case when o.paired is null then m.v
                    else m.v || pg_catalog.jsonb_build_object('paired', o.paired) end
               order by m.i)
      from pg_catalog.jsonb_array_elements(p_answer -> 'metrics') with ordinality as m(v, i)
      left join lateral (
        select pg_catalog.jsonb_build_object(
                 'kind', x.r -> 'kind', 'n_both', x.r -> 'n_both', 'worse', x.r -> 'worse',
                 'better', x.r -> 'better', 'mean_diff', x.r -> 'mean_diff',
                 'ci_low', x.r -> 'ci_low', 'ci_high', x.r -> 'ci_high',
                 'p_value', x.r -> 'p_value', 'q_value', x.r -> 'q_value') as paired
        from pg_catalog.jsonb_array_elements(v_paired) as x(r)
        where x.r ->> 'metric_name' = m.v ->> 'metric_name'
          and pg_catalog.jsonb_typeof(x.r -> 'slice') = 'null'
      ) as o on true), p_answer -> 'metrics'));
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."paired_answer"(jsonb) IS 'A run''s answer with its paired comparison added as "paired" (paired_json: every metric x slice row) and, in each compared metric''s verdict, its overall row as "paired" (kind, n_both, worse, better, mean_diff, ci_low, ci_high, p_value, q_value); unchanged when it has none.';

REVOKE ALL ON FUNCTION "benchwatch_private"."paired_answer"(jsonb) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."paired_answer"(jsonb) TO "service_role";

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
         -- The paired comparison with the baseline's examples, when the run had one.
         || case when v.response -> 'paired' is not null
                 then pg_catalog.jsonb_build_object('paired', v.response -> 'paired')
                 else '{}'::jsonb end
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

COMMENT ON FUNCTION "benchwatch_private"."run_verdicts"(uuid, text) IS 'The verdict (regressed, ok, no_baseline or not_found) for one run or every run of a commit, from the answers the runs got when recorded, with per-run baseline and per-metric detail, and the run''s paired comparison ("paired") when it had one.';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_verdicts"(uuid, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."run_verdicts"(uuid, text) TO "service_role";
