-- Two helpers every ingest calls, kept as they answer but no longer planned on every call
-- (issue 22, the per-statement profile of single-run ingest).
--
-- A LANGUAGE sql function that is not inlined is parsed and planned again each time the
-- statement calling it runs. Under 16 concurrent single-run ingests, pg_stat_statements put
-- with_snapshot_ids' one query at 0.46 ms per run, 0.35 of it planning, and run_identity_hash's
-- at 0.03 (0.02 planning). As PL/pgSQL functions their plans (with_snapshot_ids' query) and
-- expressions (run_identity_hash's) are prepared once per session.
--
-- * with_snapshot_ids (redefined in PL/pgSQL): the same query, on one generic plan.
-- * run_identity_hash (redefined in PL/pgSQL): the same expression.
-- Same answers; grants and comments stay (CREATE OR REPLACE keeps them).

create or replace function benchwatch_private.with_snapshot_ids (
  p_answers jsonb[]
)
  returns jsonb
  language plpgsql
  stable
  set search_path = ''
  set plan_cache_mode = 'force_generic_plan'
as $$
begin
  return (
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
     and s.environment = a.answer -> 'series' ->> 'environment');
end
$$;

create or replace function benchwatch_private.run_identity_hash (
  p_run benchwatch_private.run_input
)
  returns bytea
  language plpgsql
  immutable
  set search_path = ''
as $$
begin
  -- Without created_at this is the identity runs without a key always had, so their
  -- retries keep replaying.
  return pg_catalog.sha256(pg_catalog.convert_to(
    case when p_run.created_at is null then
      pg_catalog.jsonb_build_array(
        'run-identity', p_run.run_id, p_run.commit_sha, p_run.model_version, p_run.model_provider,
        p_run.dataset_version, p_run.prompt_version, p_run.environment, p_run.metrics)
    else
      pg_catalog.jsonb_build_array(
        'run-identity', p_run.run_id, p_run.commit_sha, p_run.model_version, p_run.model_provider,
        p_run.dataset_version, p_run.prompt_version, p_run.environment, p_run.metrics,
        pg_catalog.to_char(pg_catalog.timezone('UTC', p_run.created_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
    end::text, 'UTF8'));
end
$$;
