CREATE OR REPLACE FUNCTION benchwatch_private.create_ingest_token (
  p_name text
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_token text;
  v_row benchwatch_private.ingest_tokens%rowtype;
begin
  if p_name is null or pg_catalog.btrim(p_name) = '' then
    raise exception using
      errcode = 'BW014',
      message = 'Cannot create an ingest token: name is required',
      hint = 'Name the token after where it is used, e.g. github-actions.';
  end if;

  -- 32 random bytes, base64url without padding (43 characters).
  v_token := 'bw_' || pg_catalog.translate(
    pg_catalog.rtrim(pg_catalog.encode(extensions.gen_random_bytes(32), 'base64'), '='),
    '+/', '-_');

  insert into benchwatch_private.ingest_tokens (name, token_hash, token_prefix)
  values (pg_catalog.btrim(p_name),
          pg_catalog.encode(extensions.digest(v_token, 'sha256'), 'hex'),
          pg_catalog.left(v_token, 10))
  returning * into v_row;

  return pg_catalog.jsonb_build_object(
    'id', v_row.id,
    'name', v_row.name,
    'token', v_token,
    'token_prefix', v_row.token_prefix,
    'created_at', v_row.created_at);
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."create_ingest_token"(text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."create_ingest_token"(text) IS 'Creates an ingest token and returns it once, as {id, name, token, token_prefix, created_at}; only its SHA-256 hash is stored.';

REVOKE ALL ON FUNCTION "benchwatch_private"."create_ingest_token"(text) FROM PUBLIC;
