CREATE OR REPLACE FUNCTION public.archive_benchmarks (
  older_than interval DEFAULT '1 year'::interval
)
  RETURNS integer
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_moved integer;
begin
  if archive_benchmarks.older_than is null or archive_benchmarks.older_than <= interval '0' then
    raise exception using
      errcode = '22023',
      message = 'Cannot archive runs: older_than must be a positive interval such as ''1 year''',
      detail = pg_catalog.format('older_than = %s', coalesce(archive_benchmarks.older_than::text, 'null'));
  end if;

  with moved as (
    delete from public.benchmark_transactions t
    where t.created_at < pg_catalog.now() - archive_benchmarks.older_than
    returning t.*
  )
  insert into public.benchmark_transactions_archive (
    id, commit_sha, branch_name, model_version, model_provider, dataset_version, dataset_size,
    prompt_version, environment, run_id, triggered_by, metrics, duration_seconds, tags, notes,
    created_at, archived_at)
  select m.id, m.commit_sha, m.branch_name, m.model_version, m.model_provider, m.dataset_version,
         m.dataset_size, m.prompt_version, m.environment, m.run_id, m.triggered_by, m.metrics,
         m.duration_seconds, m.tags, m.notes, m.created_at, pg_catalog.now()
  from moved m;

  get diagnostics v_moved = row_count;

  -- The moved runs' per-example rows go in the same transaction (see
  -- benchwatch_private.sweep_run_examples: all but a pinned baseline's examples).
  perform benchwatch_private.sweep_run_examples();
  return v_moved;
end
$function$;

GRANT EXECUTE ON FUNCTION "public"."archive_benchmarks"(interval) TO "postgres", "service_role";

COMMENT ON FUNCTION "public"."archive_benchmarks"(interval) IS 'Moves runs older than older_than (default 1 year) from benchmark_transactions into benchmark_transactions_archive, and removes their per-example rows (run_examples, paired_results, unused example_sets; a pinned baseline''s examples stay) in the same transaction; returns how many runs it moved.';

REVOKE ALL ON FUNCTION "public"."archive_benchmarks"(interval) FROM PUBLIC;
