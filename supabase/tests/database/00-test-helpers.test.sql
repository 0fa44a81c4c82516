-- The shared pgTAP helpers (local/stack/test-helpers.sql) are installed by the test stack,
-- not by a test file that must sort first: every file, run alone or with the others, finds
-- them.
begin;
set local search_path = public, extensions;
select plan(5);

select has_function('tests', 'rls_enabled', array['text'], 'helper tests.rls_enabled(schema) exists');
select has_function('tests', 'authenticate_as', array['text'], 'helper tests.authenticate_as(role) exists');
select has_function('tests', 'run', array['text', 'jsonb', 'jsonb'], 'helper tests.run(model, metrics, overrides) exists');
select has_function('tests', 'use_immediate_alert_policy', 'helper tests.use_immediate_alert_policy() exists');
select ok(not pg_catalog.has_function_privilege('anon', 'tests.run(text, jsonb, jsonb)', 'execute'),
  'the API roles cannot record runs through the test helpers');

select * from finish();
rollback;
