CREATE OR REPLACE FUNCTION benchwatch_private.tg_benchmark_snapshots__pin()
  RETURNS TRIGGER
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
begin
  if tg_op = 'UPDATE' and old.pinned_at is not null and old.is_baseline = new.is_baseline then
    -- A baseline row touched without a pin change (e.g. is_active) needs nothing.
    return null;
  end if;

  if not new.is_baseline then
    -- Unpin: the series keeps its latest row; the baseline row goes.
    delete from public.benchmark_snapshots where id = new.id;
    return null;
  end if;

  -- A second pin replaces the first.
  delete from public.benchmark_snapshots s
  where s.pinned_at is not null
    and s.id <> new.id
    and s.model_version = new.model_version
    and s.model_provider = new.model_provider
    and s.dataset_version = new.dataset_version
    and s.prompt_version = new.prompt_version
    and s.environment = new.environment;

  if tg_op = 'UPDATE' and old.pinned_at is null then
    -- The pinned row was the series' latest row: put a latest row back.
    insert into public.benchmark_snapshots (
      transaction_id, commit_sha, branch_name, model_version, model_provider, dataset_version,
      dataset_size, prompt_version, environment, run_id, triggered_by, metrics, duration_seconds,
      tags, notes, created_at, is_active, is_baseline, updated_at)
    values (
      new.transaction_id, new.commit_sha, new.branch_name, new.model_version, new.model_provider,
      new.dataset_version, new.dataset_size, new.prompt_version, new.environment, new.run_id,
      new.triggered_by, new.metrics, new.duration_seconds, new.tags, new.notes, new.created_at,
      old.is_active, false, pg_catalog.now());
  end if;
  return null;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__pin"() TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__pin"() IS 'Trigger function: completes a pin (restores the latest row, replaces the previous baseline) or an unpin (removes the baseline row).';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__pin"() FROM PUBLIC;
