-- Why: the database webhook needs two settings: where the Edge Functions live
-- and the secret that signs each request. Both live in vault, under the names
-- the README documents (benchwatch_functions_url, benchwatch_webhook_secret), so
-- they never appear in a migration, a log or a table the API can read.
-- configure_webhook validates and upserts them (the CLI's `webhook setup` and
-- the local stack call it); webhook_config gives notify-slack the secret to
-- verify with; webhook_status tells an operator whether delivery is set up and
-- how many alert events wait.

create or replace function benchwatch_private.configure_webhook(p_functions_url text, p_secret text)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
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
$$;

comment on function benchwatch_private.configure_webhook(text, text) is
  'Validates and stores the database webhook settings in vault (benchwatch_functions_url, benchwatch_webhook_secret), creating or updating each secret.';

revoke execute on function benchwatch_private.configure_webhook(text, text) from public, anon, authenticated;
grant execute on function benchwatch_private.configure_webhook(text, text) to service_role;

create or replace function benchwatch_private.webhook_config()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'functions_url', (select s.decrypted_secret from vault.decrypted_secrets s
                      where s.name = 'benchwatch_functions_url' limit 1),
    'secret', (select s.decrypted_secret from vault.decrypted_secrets s
               where s.name = 'benchwatch_webhook_secret' limit 1))
$$;

comment on function benchwatch_private.webhook_config() is
  'The database webhook settings from vault: {functions_url, secret}, each null when not configured. For notify-slack''s signature check.';

revoke execute on function benchwatch_private.webhook_config() from public, anon, authenticated;
grant execute on function benchwatch_private.webhook_config() to service_role;

create or replace function benchwatch_private.webhook_status()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'functions_url_set', exists (select 1 from vault.decrypted_secrets s
                                 where s.name = 'benchwatch_functions_url'
                                   and coalesce(s.decrypted_secret, '') <> ''),
    'secret_set', exists (select 1 from vault.decrypted_secrets s
                          where s.name = 'benchwatch_webhook_secret'
                            and coalesce(s.decrypted_secret, '') <> ''),
    'pending_events',
      (select count(*) filter (where a.opened_delivery_status = 'pending')
            + count(*) filter (where a.resolved_delivery_status = 'pending')
       from public.regression_alerts a
       where a.opened_delivery_status in ('pending', 'failed')
          or a.resolved_delivery_status in ('pending', 'failed'))::integer,
    'failed_events',
      (select count(*) filter (where a.opened_delivery_status = 'failed')
            + count(*) filter (where a.resolved_delivery_status = 'failed')
       from public.regression_alerts a
       where a.opened_delivery_status in ('pending', 'failed')
          or a.resolved_delivery_status in ('pending', 'failed'))::integer)
$$;

comment on function benchwatch_private.webhook_status() is
  'Whether the database webhook is configured, and how many alert events (opened or resolved) are pending or failed.';

revoke execute on function benchwatch_private.webhook_status() from public, anon, authenticated;
grant execute on function benchwatch_private.webhook_status() to service_role;
