CREATE OR REPLACE FUNCTION benchwatch_private.with_snapshot_ids (
  p_answers jsonb[]
)
  RETURNS jsonb
  LANGUAGE plpgsql
  STABLE
  SET search_path TO ''
  SET plan_cache_mode TO 'force_generic_plan'
  AS $function$
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
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."with_snapshot_ids"(jsonb[]) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."with_snapshot_ids"(jsonb[]) IS 'Adds snapshot_id (the id of the series'' latest snapshot row) to each record_run answer; a JSON array in the same order.';

REVOKE ALL ON FUNCTION "benchwatch_private"."with_snapshot_ids"(jsonb[]) FROM PUBLIC;
