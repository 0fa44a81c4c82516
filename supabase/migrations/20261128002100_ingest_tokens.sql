-- Why: CI should not need the service role key to push results. A per-project
-- ingest token may only record runs. It is shown once, when created, and only
-- its SHA-256 hash is stored, so a database dump never leaks a usable token.
-- Tokens are created, listed and revoked through SQL (the CLI wraps these
-- functions); the ingest function hashes the bearer token it receives and asks
-- authenticate_ingest_token for the token's id.

create table benchwatch_private.ingest_tokens (
  id uuid not null default gen_random_uuid(),
  name text not null,
  token_hash text not null,
  token_prefix text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  constraint ingest_tokens_pkey primary key (id),
  constraint ingest_tokens_token_hash_key unique (token_hash),
  constraint ingest_tokens_name_not_blank check (pg_catalog.btrim(name) <> ''),
  constraint ingest_tokens_hash_is_sha256_hex check (token_hash ~ '^[0-9a-f]{64}$')
);

comment on table benchwatch_private.ingest_tokens is
  'Per-project ingest tokens for CI: only the SHA-256 hash (hex) of each token is kept, with its first 10 characters to recognise it; revoked_at ends it.';
comment on column benchwatch_private.ingest_tokens.token_hash is 'encode(sha256(token), ''hex''); the token itself is never stored.';
comment on column benchwatch_private.ingest_tokens.token_prefix is 'The first 10 characters of the token (bw_ and 7 more), so a user can tell tokens apart.';
comment on column benchwatch_private.ingest_tokens.last_used_at is 'Last successful authentication, to within a minute.';

alter table benchwatch_private.ingest_tokens enable row level security;
revoke all on table benchwatch_private.ingest_tokens from public, anon, authenticated, service_role;

create or replace function benchwatch_private.create_ingest_token(p_name text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
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
$$;

comment on function benchwatch_private.create_ingest_token(text) is
  'Creates an ingest token and returns it once, as {id, name, token, token_prefix, created_at}; only its SHA-256 hash is stored.';

revoke execute on function benchwatch_private.create_ingest_token(text) from public, anon, authenticated;
grant execute on function benchwatch_private.create_ingest_token(text) to service_role;

create or replace function benchwatch_private.list_ingest_tokens()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'id', t.id,
           'name', t.name,
           'token_prefix', t.token_prefix,
           'created_at', t.created_at,
           'last_used_at', t.last_used_at,
           'revoked_at', t.revoked_at)
         order by t.created_at desc, t.id), '[]'::jsonb)
  from benchwatch_private.ingest_tokens t
$$;

comment on function benchwatch_private.list_ingest_tokens() is
  'Lists ingest tokens, newest first, as {id, name, token_prefix, created_at, last_used_at, revoked_at}; never the token or its hash.';

revoke execute on function benchwatch_private.list_ingest_tokens() from public, anon, authenticated;
grant execute on function benchwatch_private.list_ingest_tokens() to service_role;

create or replace function benchwatch_private.revoke_ingest_token(p_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  update benchwatch_private.ingest_tokens
  set revoked_at = pg_catalog.now()
  where id = p_id
    and revoked_at is null;
  return found;
end
$$;

comment on function benchwatch_private.revoke_ingest_token(uuid) is
  'Revokes an ingest token; true if it was active and is now revoked, false if unknown or already revoked.';

revoke execute on function benchwatch_private.revoke_ingest_token(uuid) from public, anon, authenticated;
grant execute on function benchwatch_private.revoke_ingest_token(uuid) to service_role;

create or replace function benchwatch_private.authenticate_ingest_token(p_token_hash text)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
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
$$;

comment on function benchwatch_private.authenticate_ingest_token(text) is
  'Returns the id of the active ingest token whose SHA-256 hex hash is p_token_hash, or null; updates last_used_at at most once a minute.';

revoke execute on function benchwatch_private.authenticate_ingest_token(text) from public, anon, authenticated;
grant execute on function benchwatch_private.authenticate_ingest_token(text) to service_role;
