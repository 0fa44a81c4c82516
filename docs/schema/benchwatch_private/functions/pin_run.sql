CREATE OR REPLACE FUNCTION benchwatch_private.pin_run (
  p_transaction_id uuid
)
  RETURNS uuid
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_run public.benchmark_transactions%rowtype;
  v_snapshot_id uuid;
begin
  select t.* into v_run
  from public.benchmark_transactions t
  where t.id = p_transaction_id
  order by t.created_at desc
  limit 1;

  if v_run.id is null then
    raise exception using
      errcode = 'BW010',
      message = 'Cannot pin baseline: no run with this id',
      detail = pg_catalog.format('transaction id %s', coalesce(p_transaction_id::text, 'null')),
      hint = 'Pass the uuid that upsert_benchmark_result returned; archived runs cannot be pinned.';
  end if;

  insert into public.benchmark_snapshots (
    transaction_id, commit_sha, branch_name, model_version, model_provider, dataset_version,
    dataset_size, prompt_version, environment, run_id, triggered_by, metrics, duration_seconds,
    tags, notes, created_at, is_active, is_baseline, updated_at)
  values (
    v_run.id, v_run.commit_sha, v_run.branch_name, v_run.model_version, v_run.model_provider,
    v_run.dataset_version, v_run.dataset_size, v_run.prompt_version, v_run.environment, v_run.run_id,
    v_run.triggered_by, v_run.metrics, v_run.duration_seconds, v_run.tags, v_run.notes,
    v_run.created_at, true, true, pg_catalog.now())
  returning id into v_snapshot_id;

  return v_snapshot_id;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."pin_run"(uuid) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."pin_run"(uuid) IS 'Inserts a frozen baseline row for the recorded run p_transaction_id (the pin trigger replaces any earlier baseline of the series).';

REVOKE ALL ON FUNCTION "benchwatch_private"."pin_run"(uuid) FROM PUBLIC;
