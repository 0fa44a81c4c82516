CREATE OR REPLACE FUNCTION benchwatch_private.revoke_ingest_token (
  p_id uuid
)
  RETURNS boolean
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
begin
  update benchwatch_private.ingest_tokens
  set revoked_at = pg_catalog.now()
  where id = p_id
    and revoked_at is null;
  return found;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."revoke_ingest_token"(uuid) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."revoke_ingest_token"(uuid) IS 'Revokes an ingest token; true if it was active and is now revoked, false if unknown or already revoked.';

REVOKE ALL ON FUNCTION "benchwatch_private"."revoke_ingest_token"(uuid) FROM PUBLIC;
