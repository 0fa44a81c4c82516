CREATE OR REPLACE FUNCTION benchwatch_private.list_ingest_tokens()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'id', t.id,
           'name', t.name,
           'token_prefix', t.token_prefix,
           'created_at', t.created_at,
           'last_used_at', t.last_used_at,
           'revoked_at', t.revoked_at)
         order by t.created_at desc, t.id), '[]'::jsonb)
  from benchwatch_private.ingest_tokens t
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."list_ingest_tokens"() TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."list_ingest_tokens"() IS 'Lists ingest tokens, newest first, as {id, name, token_prefix, created_at, last_used_at, revoked_at}; never the token or its hash.';

REVOKE ALL ON FUNCTION "benchwatch_private"."list_ingest_tokens"() FROM PUBLIC;
