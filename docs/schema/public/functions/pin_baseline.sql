CREATE OR REPLACE FUNCTION public.pin_baseline (
  p_transaction_id uuid
)
  RETURNS uuid
  LANGUAGE sql
  SET search_path TO ''
  AS $function$
  select benchwatch_private.pin_run(p_transaction_id)
$function$;

GRANT EXECUTE ON FUNCTION "public"."pin_baseline"(uuid) TO "postgres", "service_role";

COMMENT ON FUNCTION "public"."pin_baseline"(uuid) IS 'Pins the recorded run p_transaction_id as the pinned baseline of its series (replacing any earlier one) and returns the baseline snapshot id.';

REVOKE ALL ON FUNCTION "public"."pin_baseline"(uuid) FROM PUBLIC;
