CREATE OR REPLACE FUNCTION benchwatch_private.tg_policies__bump_version()
  RETURNS TRIGGER
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
begin
  update benchwatch_private.policy_version set version = version + 1;
  return null;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."tg_policies__bump_version"() TO "postgres";

COMMENT ON FUNCTION "benchwatch_private"."tg_policies__bump_version"() IS 'Trigger function on metric_policies and detection_defaults: any change bumps policy_version, so every resolved_policies row is resolved again by the next run that needs it.';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_policies__bump_version"() FROM PUBLIC;
