CREATE OR REPLACE FUNCTION benchwatch_private.configure_webhook (
  p_functions_url text,
  p_secret        text
)
  RETURNS void
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_key_bytes integer;
  v_url_id uuid;
  v_secret_id uuid;
begin
  if p_functions_url is null or p_functions_url !~ '^https?://[^/[:space:]]+' then
    raise exception using
      errcode = 'BW015',
      message = 'Cannot configure the webhook: the functions URL must start with http:// or https://',
      detail = pg_catalog.format('got %s', coalesce(p_functions_url, 'null')),
      hint = 'Pass the Edge Functions base URL, e.g. https://<project-ref>.supabase.co/functions/v1';
  end if;
  if p_functions_url ~ '[[:space:]]' then
    raise exception using
      errcode = 'BW015',
      message = 'Cannot configure the webhook: the functions URL must not contain spaces',
      detail = pg_catalog.format('got %s', p_functions_url),
      hint = 'Pass the Edge Functions base URL, e.g. https://<project-ref>.supabase.co/functions/v1';
  end if;
  if p_functions_url ~ '/$' then
    raise exception using
      errcode = 'BW015',
      message = 'Cannot configure the webhook: remove the trailing slash from the functions URL',
      detail = pg_catalog.format('got %s', p_functions_url),
      hint = 'benchwatch appends /notify-slack itself, e.g. https://<project-ref>.supabase.co/functions/v1';
  end if;

  if p_secret is null or p_secret !~ '^whsec_[A-Za-z0-9+/]+={0,2}$' then
    raise exception using
      errcode = 'BW016',
      message = 'Cannot configure the webhook: the secret must be whsec_ followed by base64',
      hint = 'Generate one with: select ''whsec_'' || encode(extensions.gen_random_bytes(32), ''base64'')';
  end if;
  begin
    v_key_bytes := pg_catalog.length(pg_catalog.decode(pg_catalog.substr(p_secret, 7), 'base64'));
  exception
    when invalid_parameter_value then
      v_key_bytes := 0;
  end;
  if v_key_bytes < 24 then
    raise exception using
      errcode = 'BW016',
      message = 'Cannot configure the webhook: the secret must be whsec_ followed by base64 of at least 24 bytes',
      detail = pg_catalog.format('the base64 decodes to %s bytes', v_key_bytes),
      hint = 'Generate one with: select ''whsec_'' || encode(extensions.gen_random_bytes(32), ''base64'')';
  end if;

  -- Serialise concurrent setups, so neither creates a secret the other just created.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('benchwatch.configure_webhook'));

  select s.id into v_url_id from vault.decrypted_secrets s where s.name = 'benchwatch_functions_url';
  if v_url_id is null then
    perform vault.create_secret(p_functions_url, 'benchwatch_functions_url',
      'benchwatch: base URL of the Edge Functions; the database webhook posts to <url>/notify-slack');
  else
    perform vault.update_secret(v_url_id, p_functions_url);
  end if;

  select s.id into v_secret_id from vault.decrypted_secrets s where s.name = 'benchwatch_webhook_secret';
  if v_secret_id is null then
    perform vault.create_secret(p_secret, 'benchwatch_webhook_secret',
      'benchwatch: Standard Webhooks signing secret (whsec_<base64>) shared with notify-slack');
  else
    perform vault.update_secret(v_secret_id, p_secret);
  end if;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."configure_webhook"(text, text) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."configure_webhook"(text, text) IS 'Validates and stores the database webhook settings in vault (benchwatch_functions_url, benchwatch_webhook_secret), creating or updating each secret.';

REVOKE ALL ON FUNCTION "benchwatch_private"."configure_webhook"(text, text) FROM PUBLIC;
