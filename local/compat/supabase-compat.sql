-- Supabase compatibility bootstrap for the local, Docker-free stack.
--
-- A hosted Supabase database already has these roles, schemas and platform APIs
-- before any migration runs. The local cluster is plain PostgreSQL 15, so this
-- file rebuilds the same surface with hosted's role model, and the migrations
-- then run unchanged on both. It runs as `supabase_admin`, the cluster's
-- bootstrap superuser (initdb's user, as in supabase/postgres), on every `up`,
-- and is idempotent. Sources it follows (supabase/postgres):
--   migrations/db/migrate.sh and init-scripts/00000000000000-initial-schema.sql
--     (supabase_admin superuser; postgres created, then demoted by
--     migrations/10000000000000_demote-postgres.sql);
--   migrations/20230201083204, 20230306081037, 20240606060239, 20250605172253
--     (postgres is a member of the API roles and of pg_monitor, pg_read_all_data,
--     pg_signal_backend);
--   migrations/20230529180330 (the API roles inherit);
--   ansible/files/postgresql_extension_custom_scripts/{pg_cron,supabase_vault}/
--     after-create.sql and migrations/20260730000000 (grants on cron and vault);
--   migrations/20250220051611 and pg_net 0.12+'s own grants (net);
--   ansible/files/postgresql_config/supautils.conf.j2 (postgres may create
--     pgtap and plpgsql_check; supautils creates them as supabase_admin).
-- And since 2026-10-30 (Supabase changelog 45329) no default privileges give new
-- public tables, sequences or functions to anon, authenticated or service_role.
--
-- Stand-ins (pg_net and supabase_vault do not exist as Debian or npm packages):
--   * net.http_post / net.http_request_queue / net._http_response keep pg_net's
--     SQL API and grants. Requests are queued in the transaction and announced with
--     NOTIFY, which PostgreSQL delivers only after COMMIT, so the local gateway's
--     relay sends exactly what pg_net's worker would send: committed requests only.
--   * vault.create_secret / vault.update_secret / vault.decrypted_secrets keep
--     supabase_vault 0.3's SQL API and grants, and store ciphertext: AES-256-CBC
--     with an HMAC-SHA256 tag over the secret's id (vault authenticates the id
--     too), under a root key in a file of the data directory that only a
--     superuser can read (vault's key lives outside SQL too, in pgsodium's key
--     file). So neither postgres nor service_role can decrypt but through
--     vault.decrypted_secrets.
--
-- psql variable: postgres_password, the password of the `postgres` login.

do $$
begin
  if current_user <> 'supabase_admin'
     or not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
    raise exception 'Apply the compatibility bootstrap as the superuser supabase_admin, not %',
      current_user;
  end if;
end
$$;

-- Roles, with the attributes hosted Supabase gives them.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'postgres') then
    create role postgres login;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_functions_admin') then
    create role supabase_functions_admin noinherit createrole login noreplication;
  end if;
end
$$;

alter role supabase_admin superuser createdb createrole replication bypassrls;
-- The demotion, with the attributes postgres keeps on hosted.
alter role postgres nosuperuser createdb createrole login replication bypassrls;
alter role postgres password :'postgres_password';
alter role postgres set search_path to "$user", public, extensions;
alter database postgres owner to postgres;
grant all on database postgres to postgres;

alter role anon nologin inherit nobypassrls;
alter role authenticated nologin inherit nobypassrls;
alter role service_role nologin inherit bypassrls;
alter role authenticator login noinherit;
grant anon, authenticated, service_role to authenticator;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- postgres may act as the API roles (SET ROLE), and on PostgreSQL 16+ administer them.
do $$
begin
  if current_setting('server_version_num')::int >= 160000 then
    grant anon, authenticated, service_role to postgres with admin option;
  else
    grant anon, authenticated, service_role to postgres;
  end if;
end
$$;
grant pg_monitor, pg_read_all_data, pg_signal_backend to postgres;

-- The extensions schema: made by postgres before its demotion on hosted, so it owns it.
create schema if not exists extensions;
alter schema extensions owner to postgres;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
grant all privileges on all tables in schema extensions to postgres with grant option;
grant all privileges on all routines in schema extensions to postgres with grant option;
grant all privileges on all sequences in schema extensions to postgres with grant option;
alter default privileges in schema extensions grant all on tables to postgres with grant option;
alter default privileges in schema extensions grant all on routines to postgres with grant option;
alter default privileges in schema extensions grant all on sequences to postgres with grant option;

-- supautils' privileged extensions that the tooling needs: on hosted, postgres's
-- `create extension pgtap` (pgTAP) and the CLI's `create extension plpgsql_check`
-- (`supabase db lint`) are carried out by supabase_admin. Without supautils they
-- are made here, by supabase_admin, in the schema hosted puts them in.
do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pgtap') then
    create extension if not exists pgtap with schema extensions;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'plpgsql_check') then
    create extension if not exists plpgsql_check with schema extensions;
  end if;
end
$$;

-- The public schema belongs to postgres (the database owner). Since 2026-10-30 hosted
-- grants nothing by default on new public tables, sequences or functions: every grant
-- a migration needs is its own, as here.
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  revoke all on tables from anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  revoke all on sequences from anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  revoke all on functions from anon, authenticated, service_role;

-- auth: the helpers RLS policies use, reading PostgREST's request.jwt.claims. On hosted
-- supabase_auth_admin owns it; postgres may use it but not create in it.
create schema if not exists auth;
revoke create on schema auth from postgres;
grant usage on schema auth to postgres, anon, authenticated, service_role;
create or replace function auth.jwt() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claims', true), ''),
    '{}'
  )::jsonb
$$;

create or replace function auth.uid() returns uuid
language sql stable
set search_path = ''
as $$
  select nullif(
    coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      auth.jwt() ->> 'sub'
    ),
    ''
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
set search_path = ''
as $$
  select nullif(
    coalesce(
      nullif(current_setting('request.jwt.claim.role', true), ''),
      auth.jwt() ->> 'role'
    ),
    ''
  )
$$;

create or replace function auth.email() returns text
language sql stable
set search_path = ''
as $$
  select nullif(auth.jwt() ->> 'email', '')
$$;

grant execute on function auth.jwt(), auth.uid(), auth.role(), auth.email()
  to anon, authenticated, service_role;

-- pg_net's SQL API (stand-in), owned by supabase_admin like the extension on hosted.
create schema if not exists net;

do $$
begin
  if not exists (select 1 from pg_type t join pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = 'net' and t.typname = 'http_method') then
    create domain net.http_method as text
      check (value ilike 'get' or value ilike 'post' or value ilike 'delete');
  end if;
end
$$;

create unlogged table if not exists net.http_request_queue (
  id bigserial,
  method net.http_method not null,
  url text not null,
  headers jsonb not null,
  body bytea,
  timeout_milliseconds int not null
);

create unlogged table if not exists net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out bool,
  error_msg text,
  created timestamptz not null default now()
);
create index if not exists _http_response_created_idx on net._http_response (created);

create or replace function net._encode_url_with_params(url text, params jsonb)
returns text
language sql immutable
set search_path = ''
as $$
  select case
    when params is null or params = '{}'::jsonb then url
    else url || case when position('?' in url) > 0 then '&' else '?' end || (
      select string_agg(
        replace(replace(replace(replace(key, '%', '%25'), '&', '%26'), '=', '%3D'), ' ', '%20')
        || '=' ||
        replace(replace(replace(replace(value, '%', '%25'), '&', '%26'), '=', '%3D'), ' ', '%20'),
        '&')
      from jsonb_each_text(params)
    )
  end
$$;

create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds int default 5000
)
returns bigint
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  request_id bigint;
  content_type text;
begin
  select h.value into content_type
  from jsonb_each_text(coalesce(headers, '{}'::jsonb)) as h(key, value)
  where lower(h.key) = 'content-type'
  limit 1;

  if content_type is null then
    headers := coalesce(headers, '{}'::jsonb) || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;

  if body is null then
    raise exception 'body must not be null';
  end if;

  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('POST', net._encode_url_with_params(url, params), headers,
          convert_to(body::text, 'UTF8'), timeout_milliseconds)
  returning id into request_id;

  return request_id;
end
$$;

create or replace function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds int default 5000
)
returns bigint
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
  values ('GET', net._encode_url_with_params(url, params), coalesce(headers, '{}'::jsonb),
          timeout_milliseconds)
  returning id into request_id;
  return request_id;
end
$$;

-- NOTIFY is delivered at COMMIT and discarded on ROLLBACK: that is the
-- "sent after commit" guarantee the relay relies on.
create or replace function net._tg_http_request_queue__wake() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform pg_notify('net_http_request_queue', '');
  return null;
end
$$;

drop trigger if exists wake_relay on net.http_request_queue;
create trigger wake_relay
  after insert on net.http_request_queue
  for each statement execute function net._tg_http_request_queue__wake();

-- pg_net 0.12+ (hosted runs 0.20): the request functions are security invoker and
-- PUBLIC may use the schema, its tables and sequences, and execute its functions;
-- hosted's grant_pg_net_access() adds USAGE for the API roles and postgres.
grant usage on schema net to public;
grant usage on schema net to supabase_functions_admin, postgres, anon, authenticated, service_role;
grant all on all tables in schema net to public;
grant all on all sequences in schema net to public;
grant execute on all functions in schema net to public;

-- supabase_vault 0.3's SQL API (stand-in), owned by supabase_admin like the extension.
create schema if not exists vault;

-- The root key: 32 random bytes in a file of the data directory, written once by the
-- server (COPY as a superuser). Only a superuser may read server files, so postgres and
-- the API roles never see it; vault's own key likewise lives outside SQL.
do $$
begin
  if pg_catalog.pg_stat_file('benchwatch_vault_root.key', true) is null then
    execute pg_catalog.format(
      'copy (select pg_catalog.encode(extensions.gen_random_bytes(32), %L)) to %L',
      'hex', pg_catalog.current_setting('data_directory') || '/benchwatch_vault_root.key');
  end if;
end
$$;

-- Keys for one (context, key id): one to encrypt, one to authenticate.
create or replace function vault._stand_in_subkey(p_context bytea, p_key_id bigint, p_use text)
returns bytea
language sql stable
security definer
set search_path = ''
as $$
  select extensions.hmac(
    pg_catalog.convert_to(p_use, 'UTF8') || p_context || pg_catalog.int8send(p_key_id),
    pg_catalog.decode(pg_catalog.btrim(pg_catalog.pg_read_file('benchwatch_vault_root.key'), e' \n'), 'hex'),
    'sha256')
$$;
comment on function vault._stand_in_subkey(bytea, bigint, text) is
  'Local vault stand-in: derives an encryption or MAC key from the root key file; supabase_admin only.';

create or replace function vault._crypto_aead_det_noncegen()
returns bytea
language sql volatile
set search_path = ''
as $$
  select extensions.gen_random_bytes(24)
$$;
comment on function vault._crypto_aead_det_noncegen() is
  'Local vault stand-in: a fresh 24-byte nonce, as vault''s XChaCha20 nonce.';

-- Authenticated encryption with associated data: AES-256-CBC under a key derived from
-- the root key, then HMAC-SHA256 over (additional, nonce, ciphertext). Decrypting with
-- another secret's id as `additional`, or a tampered ciphertext, fails, as vault's does.
create or replace function vault._crypto_aead_det_encrypt(
  message bytea, additional bytea, key_id bigint, context bytea = 'pgsodium', nonce bytea = null
)
returns bytea
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_ct bytea;
begin
  if nonce is null or pg_catalog.length(nonce) < 16 then
    raise exception using errcode = '22023',
      message = 'Pass a nonce of at least 16 bytes to the local vault stand-in';
  end if;
  v_ct := extensions.encrypt_iv(message, vault._stand_in_subkey(context, key_id, 'enc'),
    pg_catalog.substr(nonce, 1, 16), 'aes-cbc/pad:pkcs');
  return v_ct || extensions.hmac(coalesce(additional, ''::bytea) || nonce || v_ct,
    vault._stand_in_subkey(context, key_id, 'mac'), 'sha256');
end
$$;
comment on function vault._crypto_aead_det_encrypt(bytea, bytea, bigint, bytea, bytea) is
  'Local vault stand-in: encrypts and authenticates message and additional data.';

create or replace function vault._crypto_aead_det_decrypt(
  message bytea, additional bytea, key_id bigint, context bytea = 'pgsodium', nonce bytea = null
)
returns bytea
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_len integer := pg_catalog.length(message);
  v_ct bytea;
begin
  if nonce is null or v_len < 48 then
    raise exception using errcode = '22000', message = 'invalid ciphertext';
  end if;
  v_ct := pg_catalog.substr(message, 1, v_len - 32);
  if extensions.hmac(coalesce(additional, ''::bytea) || nonce || v_ct,
       vault._stand_in_subkey(context, key_id, 'mac'), 'sha256')
     <> pg_catalog.substr(message, v_len - 31) then
    raise exception using errcode = '22000', message = 'invalid ciphertext';
  end if;
  return extensions.decrypt_iv(v_ct, vault._stand_in_subkey(context, key_id, 'enc'),
    pg_catalog.substr(nonce, 1, 16), 'aes-cbc/pad:pkcs');
end
$$;
comment on function vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea) is
  'Local vault stand-in: verifies and decrypts what _crypto_aead_det_encrypt produced.';

create table if not exists vault.secrets (
  id uuid primary key default extensions.gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea default vault._crypto_aead_det_noncegen(),
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);
comment on table vault.secrets is
  'Table with encrypted `secret` column for storing sensitive information on disk.';
create unique index if not exists secrets_name_idx on vault.secrets (name) where name is not null;

create or replace view vault.decrypted_secrets as
select s.id,
  s.name,
  s.description,
  s.secret,
  pg_catalog.convert_from(
    vault._crypto_aead_det_decrypt(
      message := pg_catalog.decode(s.secret, 'base64'),
      additional := pg_catalog.convert_to(s.id::text, 'utf8'),
      key_id := 0,
      context := 'pgsodium'::bytea,
      nonce := s.nonce),
    'utf8') as decrypted_secret,
  s.key_id,
  s.nonce,
  s.created_at,
  s.updated_at
from vault.secrets s;

-- Same contract as vault 0.3.0: returns the new id; new_key_id is accepted and unused.
-- The plaintext is encrypted before the row is written, so it never reaches a table.
create or replace function vault.create_secret(
  new_secret text,
  new_name text = null,
  new_description text = '',
  new_key_id uuid = null
)
returns uuid
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
  v_id uuid := extensions.gen_random_uuid();
  v_nonce bytea := vault._crypto_aead_det_noncegen();
begin
  insert into vault.secrets (id, secret, name, description, nonce)
  values (
    v_id,
    pg_catalog.encode(vault._crypto_aead_det_encrypt(
      message := pg_catalog.convert_to(new_secret, 'utf8'),
      additional := pg_catalog.convert_to(v_id::text, 'utf8'),
      key_id := 0,
      context := 'pgsodium'::bytea,
      nonce := v_nonce), 'base64'),
    new_name,
    new_description,
    v_nonce);
  return v_id;
end
$$;
comment on function vault.create_secret(text, text, text, uuid) is
  'Stores a secret encrypted and returns its id (supabase_vault 0.3 API).';

create or replace function vault.update_secret(
  secret_id uuid,
  new_secret text = null,
  new_name text = null,
  new_description text = null,
  new_key_id uuid = null
)
returns void
language plpgsql volatile
security definer
set search_path = ''
as $$
begin
  update vault.secrets s
     set secret = case when new_secret is null then s.secret
                       else pg_catalog.encode(vault._crypto_aead_det_encrypt(
                         message := pg_catalog.convert_to(new_secret, 'utf8'),
                         additional := pg_catalog.convert_to(s.id::text, 'utf8'),
                         key_id := 0,
                         context := 'pgsodium'::bytea,
                         nonce := s.nonce), 'base64') end,
         name = coalesce(new_name, s.name),
         description = coalesce(new_description, s.description),
         updated_at = pg_catalog.now()
   where s.id = secret_id;
end
$$;
comment on function vault.update_secret(uuid, text, text, text, uuid) is
  'Replaces a secret''s value, name or description (supabase_vault 0.3 API).';

-- Grants: vault's own (everything revoked from PUBLIC), then hosted's after-create script.
revoke all on schema vault from public;
revoke all on all tables in schema vault from public, anon, authenticated;
revoke all on all functions in schema vault from public;
grant usage on schema vault to postgres with grant option;
grant select, delete on vault.secrets, vault.decrypted_secrets to postgres with grant option;
grant execute on function vault.create_secret(text, text, text, uuid),
  vault.update_secret(uuid, text, text, text, uuid),
  vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea)
  to postgres with grant option;
grant usage on schema vault to service_role;
grant select, delete on vault.secrets, vault.decrypted_secrets to service_role;
grant execute on function vault.create_secret(text, text, text, uuid),
  vault.update_secret(uuid, text, text, text, uuid),
  vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea)
  to service_role;

-- pg_cron, created by supabase_admin (supautils does so for postgres on hosted) in the
-- database named by cron.database_name, with hosted's after-create grants: postgres may
-- schedule and read jobs, but not write cron.job or add triggers to the cron tables.
do $$
begin
  -- Always available on the PostgreSQL 15 stack (local/ensure-deps.sh installs it); the
  -- PostgreSQL 17 rehearsal brings a stand-in of its SQL surface (local/compat/pg17).
  if not exists (select 1 from pg_available_extensions where name = 'pg_cron') then
    raise exception 'Install pg_cron: apt-get install postgresql-15-cron';
  end if;
  create extension if not exists pg_cron with schema pg_catalog;
  grant usage on schema cron to postgres with grant option;
  grant all on all functions in schema cron to postgres with grant option;
  alter default privileges for user supabase_admin in schema cron
    grant all on sequences to postgres with grant option;
  alter default privileges for user supabase_admin in schema cron
    grant all on tables to postgres with grant option;
  alter default privileges for user supabase_admin in schema cron
    grant all on functions to postgres with grant option;
  grant all privileges on all tables in schema cron to postgres with grant option;
  revoke all on table cron.job from postgres;
  grant select on table cron.job to postgres with grant option;
  revoke trigger on cron.job_run_details from postgres;
end
$$;
