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

GRANT EXECUTE ON FUNCTION "benchwatch_private"."run_verdicts"(uuid, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."run_verdicts"(uuid, text) IS 'The verdict (regressed, ok, no_baseline or not_found) for one run or every run of a commit, from the answers the runs got when recorded, with per-run baseline and per-metric detail, and the run''s paired comparison ("paired") when it had one.';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_verdicts"(uuid, text) FROM PUBLIC;
