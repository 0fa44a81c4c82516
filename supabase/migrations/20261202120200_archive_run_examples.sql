-- Archival leaves no per-example rows behind (issue 21).
--
-- archive_benchmarks moves old runs into benchmark_transactions_archive, but left their
-- benchwatch_private.run_examples and paired_results rows, and the example_sets only they used.
-- Those rows only serve comparisons of live runs, and the archive keeps a run's metrics, not its
-- examples (thousands per run): so archival now removes them in the same transaction, through
-- benchwatch_private.sweep_run_examples (security definer: archive_benchmarks runs as its caller,
-- service_role or the pg_cron job's postgres, and the per-example tables grant service_role
-- SELECT only).
--
-- One exception: the examples of a run that a pinned baseline points at stay, even once that run
-- is archived, because every later run of the scope is paired with them (as the pinned
-- snapshot keeps the baseline's metrics). They go with the first archival after the baseline
-- is unpinned. The sweep removes any leftover of runs archived (or deleted) before this
-- migration too.

CREATE OR REPLACE FUNCTION benchwatch_private.sweep_run_examples ()
  RETURNS TABLE (
    examples_removed integer,
    paired_removed   integer,
    sets_removed     integer
  )
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
#variable_conflict use_column
declare
  v_examples integer;
  v_paired integer;
  v_sets integer := 0;
begin
  -- A run's examples are kept while a pinned baseline points at it, archived or not: later runs
  -- are paired with them (the snapshot keeps the baseline's metrics the same way).
  delete from benchwatch_private.run_examples r
  where not exists (select 1 from public.benchmark_transactions t where t.id = r.transaction_id)
    and not exists (select 1 from public.benchmark_snapshots s
                    where s.transaction_id = r.transaction_id and s.pinned_at is not null);
  get diagnostics v_examples = row_count;

  -- A run's paired comparisons go with the run. Those of a live run whose baseline run was
  -- archived stay: they are that run's evidence.
  delete from benchwatch_private.paired_results p
  where not exists (select 1 from public.benchmark_transactions t where t.id = p.transaction_id);
  get diagnostics v_paired = row_count;

  -- An eval set no run points at any more. store_run_examples inserts its set (ROW EXCLUSIVE)
  -- before the run_examples rows that reference it; holding SHARE ROW EXCLUSIVE here waits for
  -- such an ingest to commit (its rows are then seen) or makes it wait for this one (it then
  -- inserts the set again), so a set is never deleted under a run being recorded.
  if exists (select 1 from benchwatch_private.example_sets e
             where not exists (select 1 from benchwatch_private.run_examples r
                               where r.example_set_id = e.id)) then
    lock table benchwatch_private.example_sets in share row exclusive mode;
    delete from benchwatch_private.example_sets e
    where not exists (select 1 from benchwatch_private.run_examples r where r.example_set_id = e.id);
    get diagnostics v_sets = row_count;
  end if;

  return query select v_examples, v_paired, v_sets;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."sweep_run_examples"() IS 'Removes the per-example rows of runs no longer in benchmark_transactions (archived or deleted): their run_examples (except those of a run a pinned baseline still points at, which later runs are paired with), their paired_results, and the example_sets no run_examples row points at. Returns how many rows of each it removed. archive_benchmarks calls it in its transaction.';

REVOKE ALL ON FUNCTION "benchwatch_private"."sweep_run_examples"() FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."sweep_run_examples"() TO "service_role";

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

COMMENT ON FUNCTION "public"."archive_benchmarks"(interval) IS 'Moves runs older than older_than (default 1 year) from benchmark_transactions into benchmark_transactions_archive, and removes their per-example rows (run_examples, paired_results, unused example_sets; a pinned baseline''s examples stay) in the same transaction; returns how many runs it moved.';

REVOKE ALL ON FUNCTION "public"."archive_benchmarks"(interval) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "public"."archive_benchmarks"(interval) TO "service_role";
