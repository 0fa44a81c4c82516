-- The Supabase compatibility surface the migrations rely on: roles and their attributes,
-- auth helpers, the extensions schema, pg_cron, and the SQL APIs of pg_net and vault.
-- On hosted Supabase these come with the platform; locally scripts/local/supabase-compat.sql
-- provides them, and this file proves it does so faithfully.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(27);

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

select * from finish();
rollback;
