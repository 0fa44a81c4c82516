-- The Supabase compatibility surface the migrations rely on: roles and their attributes,
-- auth helpers, the extensions schema, pg_cron, and the SQL APIs of pg_net and vault.
-- On hosted Supabase these come with the platform; locally local/compat/supabase-compat.sql
-- provides them, and this file proves it does so faithfully.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(54);

-- Roles
select has_role('anon', 'role anon exists');
select has_role('authenticated', 'role authenticated exists');
select has_role('service_role', 'role service_role exists');
select has_role('authenticator', 'role authenticator exists');
select ok((select rolbypassrls from pg_roles where rolname = 'service_role'),
  'service_role bypasses row level security');
select ok(not (select rolbypassrls from pg_roles where rolname = 'anon'),
  'anon does not bypass row level security');
select ok((select rolcanlogin and not rolinherit from pg_roles where rolname = 'authenticator'),
  'authenticator can log in and does not inherit');
select ok(not (select rolcanlogin from pg_roles where rolname = 'anon'), 'anon cannot log in');
select is_member_of('anon', 'authenticator', 'authenticator is a member of anon');
select is_member_of('authenticated', 'authenticator', 'authenticator is a member of authenticated');
select is_member_of('service_role', 'authenticator', 'authenticator is a member of service_role');

select ok((select rolinherit from pg_roles where rolname = 'anon')
  and (select rolinherit from pg_roles where rolname = 'authenticated')
  and (select rolinherit from pg_roles where rolname = 'service_role'),
  'the API roles inherit, as on hosted');

-- Hosted's role model: the suite itself runs as a demoted postgres.
select is(current_user::text, 'postgres', 'the pgTAP suite runs as postgres');
select ok(not (select rolsuper from pg_roles where rolname = 'postgres'), 'postgres is not a superuser');
select ok((select rolcreaterole and rolcreatedb and rolreplication and rolbypassrls and rolcanlogin
           from pg_roles where rolname = 'postgres'),
  'postgres keeps CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS and LOGIN, as hosted demotes it');
select ok((select rolsuper from pg_roles where rolname = 'supabase_admin'), 'supabase_admin is the superuser');
select is_member_of('service_role', 'postgres', 'postgres may act as service_role');
select is_member_of('pg_read_all_data', 'postgres', 'postgres is a member of pg_read_all_data');
select is(
  array(select nspname || ':' || pg_get_userbyid(nspowner) from pg_namespace
        where nspname in ('cron', 'net', 'vault') order by 1),
  array['cron:supabase_admin', 'net:supabase_admin', 'vault:supabase_admin'],
  'supabase_admin owns the cron, net and vault schemas');
select is(
  array(select extname || ':' || pg_get_userbyid(extowner) from pg_extension
        where extname in ('pg_cron', 'pgtap', 'plpgsql_check') order by 1),
  array['pg_cron:supabase_admin', 'pgtap:supabase_admin', 'plpgsql_check:supabase_admin'],
  'pg_cron, pgtap and plpgsql_check are created by supabase_admin, as supautils does for postgres');
select is(pg_get_userbyid((select datdba from pg_database where datname = current_database()))::text,
  'postgres', 'postgres owns the database');
select throws_ok($$create event trigger compat_test_evtrig on ddl_command_end execute function pg_catalog.now()$$,
  '42501', null, 'postgres cannot create event triggers itself (supautils does it on hosted)');

-- No default privileges for the API roles on new public objects (hosted since 2026-10-30).
create table public.compat_default_privs (id int);
create function public.compat_default_privs_fn() returns int language sql immutable as 'select 1';
select ok(not has_table_privilege('anon', 'public.compat_default_privs', 'select')
  and not has_table_privilege('authenticated', 'public.compat_default_privs', 'select')
  and not has_table_privilege('service_role', 'public.compat_default_privs', 'select,insert'),
  'a new public table is granted to no API role by default');
select is(
  (select count(*)::int from aclexplode((select proacl from pg_proc where proname = 'compat_default_privs_fn'))
   where grantee in ('anon'::regrole, 'authenticated'::regrole, 'service_role'::regrole)),
  0, 'a new public function is granted to no API role by default (only PUBLIC''s EXECUTE)');

-- pg_cron as hosted grants it: postgres schedules and reads jobs, never writes cron.job.
select throws_ok($$insert into cron.job (schedule, command) values ('* * * * *', 'select 1')$$,
  '42501', null, 'postgres cannot insert into cron.job directly');
select ok(not has_table_privilege('postgres', 'cron.job_run_details', 'trigger'),
  'postgres cannot add triggers to cron.job_run_details');

-- auth helpers read request.jwt.claims, as PostgREST sets it
set local request.jwt.claims =
  '{"sub": "7d3f5c2e-1a4b-4c6d-8e9f-0a1b2c3d4e5f", "role": "authenticated", "email": "a@b.test"}';
select is(auth.uid(), '7d3f5c2e-1a4b-4c6d-8e9f-0a1b2c3d4e5f'::uuid, 'auth.uid() returns the sub claim');
select is(auth.role(), 'authenticated', 'auth.role() returns the role claim');
select is(auth.jwt() ->> 'email', 'a@b.test', 'auth.jwt() returns every claim');
set local request.jwt.claims = '';
select is(auth.uid(), null, 'auth.uid() is null without claims');

-- extensions schema, pgtap, pg_cron
select has_schema('extensions', 'the extensions schema exists');
select ok(exists(select 1 from pg_extension where extname = 'pgtap'), 'pgtap is installed');
select ok(cron.schedule('compat-test-job', '*/5 * * * *', 'select 1') > 0,
  'pg_cron schedules a job');
select is((select schedule from cron.job where jobname = 'compat-test-job'), '*/5 * * * *',
  'pg_cron keeps the schedule');

-- pg_net's API
select function_returns('net', 'http_post', array['text', 'jsonb', 'jsonb', 'jsonb', 'integer'],
  'bigint', 'net.http_post(url, body, params, headers, timeout_milliseconds) returns bigint');
select has_table('net', 'http_request_queue', 'net.http_request_queue exists');
select has_table('net', '_http_response', 'net._http_response exists');
select ok(net.http_post('http://127.0.0.1:9/never-sent', '{"a": 1}'::jsonb) > 0,
  'net.http_post queues a request and returns its id');
select is((select convert_from(body, 'UTF8')::jsonb from net.http_request_queue order by id desc limit 1),
  '{"a": 1}'::jsonb, 'the queued body is the JSON that was posted');
select is((select headers ->> 'Content-Type' from net.http_request_queue order by id desc limit 1),
  'application/json', 'a JSON content type is added when none is given');

-- vault's API
select ok(vault.create_secret('s3cr3t-value', 'compat_test_secret', 'for the compat test') is not null,
  'vault.create_secret returns an id');
select is((select decrypted_secret from vault.decrypted_secrets where name = 'compat_test_secret'),
  's3cr3t-value', 'vault.decrypted_secrets returns the secret');

select ok((select secret from vault.decrypted_secrets where name = 'compat_test_secret') <> 's3cr3t-value'
  and (select secret from vault.decrypted_secrets where name = 'compat_test_secret') !~ 's3cr3t',
  'vault stores ciphertext, not the secret');
select lives_ok($$select vault.update_secret(
    (select id from vault.decrypted_secrets where name = 'compat_test_secret'), 'n3w-value')$$,
  'vault.update_secret replaces a secret');
select is((select decrypted_secret from vault.decrypted_secrets where name = 'compat_test_secret'),
  'n3w-value', 'vault.decrypted_secrets returns the updated secret');
select throws_ok($$select vault.create_secret('dup', 'compat_test_secret')$$, '23505', null,
  'secret names are unique');
select throws_ok($$select vault._crypto_aead_det_decrypt(decode(s.secret, 'base64'),
    convert_to(extensions.gen_random_uuid()::text, 'utf8'), 0, 'pgsodium', s.nonce)
    from vault.secrets s where s.name = 'compat_test_secret'$$,
  '22000', 'invalid ciphertext', 'a ciphertext decrypted under another secret''s id is refused');
select throws_ok($$select pg_read_file('benchwatch_vault_root.key')$$, '42501', null,
  'postgres cannot read the vault root key');
select throws_ok($$select vault._crypto_aead_det_encrypt('x', 'y', 0, 'pgsodium', extensions.gen_random_bytes(24))$$,
  '42501', null, 'postgres cannot encrypt with the vault key directly');
select ok(has_table_privilege('service_role', 'vault.decrypted_secrets', 'select')
  and has_function_privilege('service_role', 'vault.create_secret(text, text, text, uuid)', 'execute'),
  'service_role may read vault.decrypted_secrets and create secrets, as hosted grants');
select ok(not has_table_privilege('anon', 'vault.decrypted_secrets', 'select')
  and not has_table_privilege('authenticated', 'vault.decrypted_secrets', 'select'),
  'anon and authenticated cannot read vault');
set local role service_role;
select is((select decrypted_secret from vault.decrypted_secrets where name = 'compat_test_secret'),
  'n3w-value', 'service_role reads a decrypted secret');
reset role;
set local role anon;
select throws_ok($$select 1 from vault.decrypted_secrets$$, '42501', null,
  'anon is refused vault.decrypted_secrets');
reset role;
delete from vault.decrypted_secrets where name = 'compat_test_secret';
select is((select count(*)::int from vault.decrypted_secrets where name = 'compat_test_secret'), 0,
  'postgres deletes a secret through vault.decrypted_secrets');

select * from finish();
rollback;
