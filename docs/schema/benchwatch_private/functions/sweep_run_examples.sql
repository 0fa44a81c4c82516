CREATE OR REPLACE FUNCTION benchwatch_private.sweep_run_examples()
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

GRANT EXECUTE ON FUNCTION "benchwatch_private"."sweep_run_examples"() TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."sweep_run_examples"() IS 'Removes the per-example rows of runs no longer in benchmark_transactions (archived or deleted): their run_examples (except those of a run a pinned baseline still points at, which later runs are paired with), their paired_results, and the example_sets no run_examples row points at. Returns how many rows of each it removed. archive_benchmarks calls it in its transaction.';

REVOKE ALL ON FUNCTION "benchwatch_private"."sweep_run_examples"() FROM PUBLIC;
