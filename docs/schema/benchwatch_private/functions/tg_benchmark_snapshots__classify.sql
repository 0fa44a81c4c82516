CREATE OR REPLACE FUNCTION benchwatch_private.tg_benchmark_snapshots__classify()
  RETURNS TRIGGER
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
begin
  if tg_op = 'INSERT' then
    new.pinned_at := case when new.is_baseline then coalesce(new.pinned_at, pg_catalog.now()) end;
    return new;
  end if;

  if old.pinned_at is not null then
    -- A pinned baseline is frozen: only is_active may change, and is_baseline
    -- may be cleared to unpin it.
    if (new.transaction_id, new.commit_sha, new.branch_name, new.model_version, new.model_provider,
        new.dataset_version, new.dataset_size, new.prompt_version, new.environment, new.run_id,
        new.triggered_by, new.metrics, new.duration_seconds, new.tags, new.notes, new.created_at)
       is distinct from
       (old.transaction_id, old.commit_sha, old.branch_name, old.model_version, old.model_provider,
        old.dataset_version, old.dataset_size, old.prompt_version, old.environment, old.run_id,
        old.triggered_by, old.metrics, old.duration_seconds, old.tags, old.notes, old.created_at)
    then
      raise exception using
        errcode = 'BW011',
        message = 'Cannot change a pinned baseline: its metrics and series are frozen',
        detail = pg_catalog.format('baseline snapshot %s of model_version %s', old.id, old.model_version),
        hint = 'Unpin it (set is_baseline = false, or unpin_baseline()) and pin another run.';
    end if;
    new.pinned_at := old.pinned_at;
    return new;
  end if;

  -- A latest row: setting is_baseline pins it (the AFTER trigger does the rest).
  new.pinned_at := case when new.is_baseline then pg_catalog.now() end;
  return new;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__classify"() TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__classify"() IS 'Trigger function: sets pinned_at when a row is pinned, and rejects changes to a pinned baseline (BW011).';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__classify"() FROM PUBLIC;
