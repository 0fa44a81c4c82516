CREATE OR REPLACE FUNCTION benchwatch_private.authenticate_ingest_token (
  p_token_hash text
)
  RETURNS uuid
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_id uuid;
  v_last_used timestamptz;
begin
  select t.id, t.last_used_at into v_id, v_last_used
  from benchwatch_private.ingest_tokens t
  where t.token_hash = pg_catalog.lower(p_token_hash)
    and t.revoked_at is null;

  if v_id is null then
    return null;
  end if;

  -- Record use at most once a minute, and never wait for a concurrent request
  -- that is already recording it.
  if v_last_used is null or v_last_used < pg_catalog.now() - interval '1 minute' then
    update benchwatch_private.ingest_tokens t
    set last_used_at = pg_catalog.now()
    where t.id = (select l.id from benchwatch_private.ingest_tokens l
                  where l.id = v_id
                  for update skip locked);
  end if;
  return v_id;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."authenticate_ingest_token"(text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."authenticate_ingest_token"(text) IS 'Returns the id of the active ingest token whose SHA-256 hex hash is p_token_hash, or null; updates last_used_at at most once a minute.';

REVOKE ALL ON FUNCTION "benchwatch_private"."authenticate_ingest_token"(text) FROM PUBLIC;
