-- Ingest tokens: shown once, stored only as a SHA-256 hash,
-- listed without secrets, authenticated by hash, revocable.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;

select plan(22);

select has_table('benchwatch_private', 'ingest_tokens', 'benchwatch_private.ingest_tokens exists');
select columns_are('benchwatch_private', 'ingest_tokens',
  array['id', 'name', 'token_hash', 'token_prefix', 'created_at', 'last_used_at', 'revoked_at'],
  'ingest_tokens keeps a hash and a prefix, never the token');
select col_is_unique('benchwatch_private', 'ingest_tokens', array['token_hash'], 'token_hash is unique');

create temp table tokens (name text primary key, created jsonb) on commit drop;
insert into tokens values ('ci', benchwatch_private.create_ingest_token('github-actions'));

select is((select array(select jsonb_object_keys(created) order by 1) from tokens where name = 'ci'),
  array['created_at', 'id', 'name', 'token', 'token_prefix'],
  'create_ingest_token answers id, name, token, token_prefix and created_at');
select matches((select created ->> 'token' from tokens where name = 'ci'), '^bw_[A-Za-z0-9_-]{43}$',
  'the token is bw_ and 32 random bytes in unpadded base64url');
select is((select created ->> 'token_prefix' from tokens where name = 'ci'),
          (select left(created ->> 'token', 10) from tokens where name = 'ci'),
  'the prefix is the token''s first 10 characters');
select is((select t.token_hash from benchwatch_private.ingest_tokens t join tokens k on k.name = 'ci'
           where t.id = (k.created ->> 'id')::uuid),
          (select encode(digest(created ->> 'token', 'sha256'), 'hex') from tokens where name = 'ci'),
  'only the SHA-256 hex hash of the token is stored');
select is_empty(
  $$select 1 from benchwatch_private.ingest_tokens t, tokens k
    where to_jsonb(t)::text like '%' || (k.created ->> 'token') || '%'$$,
  'the token itself is stored nowhere in the row');
select isnt((select created ->> 'token' from tokens where name = 'ci'),
            (benchwatch_private.create_ingest_token('github-actions-2') ->> 'token'),
  'every token is different');

select throws_ok($$select benchwatch_private.create_ingest_token('  ')$$,
  'BW014', 'Cannot create an ingest token: name is required', 'BW014: a blank token name is rejected');
select throws_ok($$select benchwatch_private.create_ingest_token(null)$$,
  'BW014', 'Cannot create an ingest token: name is required', 'BW014: a missing token name is rejected');

-- Listing never shows the token or its hash.
select is(
  (select array(select jsonb_object_keys(benchwatch_private.list_ingest_tokens() -> 0) order by 1)),
  array['created_at', 'id', 'last_used_at', 'name', 'revoked_at', 'token_prefix'],
  'list_ingest_tokens shows id, name, token_prefix, created_at, last_used_at and revoked_at');
select ok(
  (select benchwatch_private.list_ingest_tokens()::text not like '%' || (created ->> 'token') || '%'
      and benchwatch_private.list_ingest_tokens()::text not like
          '%' || encode(digest(created ->> 'token', 'sha256'), 'hex') || '%'
   from tokens where name = 'ci'),
  'the list contains neither tokens nor hashes');
update benchwatch_private.ingest_tokens set created_at = created_at - interval '1 day' where name = 'github-actions';
select is(benchwatch_private.list_ingest_tokens() -> 0 ->> 'name', 'github-actions-2', 'the list is newest first');

-- Authentication by hash.
select is(
  (select benchwatch_private.authenticate_ingest_token(encode(digest(created ->> 'token', 'sha256'), 'hex')) from tokens where name = 'ci'),
  (select (created ->> 'id')::uuid from tokens where name = 'ci'),
  'authenticate_ingest_token returns the id of the token with that hash');
select ok((select last_used_at is not null from benchwatch_private.ingest_tokens where name = 'github-actions'),
  'authenticating records last_used_at');
update benchwatch_private.ingest_tokens set last_used_at = now() - interval '30 seconds' where name = 'github-actions';
select benchwatch_private.authenticate_ingest_token(encode(digest(created ->> 'token', 'sha256'), 'hex')) from tokens where name = 'ci';
select is((select last_used_at from benchwatch_private.ingest_tokens where name = 'github-actions'), now() - interval '30 seconds',
  'last_used_at is not rewritten more than once a minute');
select is(benchwatch_private.authenticate_ingest_token(encode(digest('bw_not-a-real-token', 'sha256'), 'hex')), null,
  'an unknown token authenticates as nobody');

-- Revocation.
select is((select benchwatch_private.revoke_ingest_token((created ->> 'id')::uuid) from tokens where name = 'ci'), true,
  'revoking an active token returns true');
select is((select benchwatch_private.revoke_ingest_token((created ->> 'id')::uuid) from tokens where name = 'ci'), false,
  'revoking it again returns false');
select is(
  (select benchwatch_private.authenticate_ingest_token(encode(digest(created ->> 'token', 'sha256'), 'hex')) from tokens where name = 'ci'),
  null, 'a revoked token authenticates as nobody');
select ok((select (t ->> 'revoked_at') is not null from jsonb_array_elements(benchwatch_private.list_ingest_tokens()) t
           where t ->> 'name' = 'github-actions'),
  'the list shows when a token was revoked');

select * from finish();
rollback;
