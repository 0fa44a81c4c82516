CREATE OR REPLACE FUNCTION benchwatch_private.tg_benchmark_snapshots__detector_state()
  RETURNS TRIGGER
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_s public.benchmark_snapshots;
begin
  if tg_op = 'DELETE' then
    v_s := old;
  else
    if tg_op = 'UPDATE' and old.pinned_at is not null and old.is_baseline = new.is_baseline
       and old.transaction_id = new.transaction_id then
      -- A baseline row touched without a pin change (e.g. is_active) needs nothing.
      return null;
    end if;
    v_s := new;
  end if;
  perform benchwatch_private.rebuild_detector_state(
    v_s.model_version, v_s.model_provider, v_s.dataset_version, v_s.prompt_version, v_s.environment);
  return null;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__detector_state"() TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__detector_state"() IS 'Trigger function: a baseline pinned, replaced or unpinned rebuilds the series'' detector_state rows (their baseline and reference runs).';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__detector_state"() FROM PUBLIC;
