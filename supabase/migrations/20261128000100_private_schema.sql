-- Why: benchwatch keeps its internals (helpers, security definer functions,
-- idempotency records, partitions) out of the exposed `public` schema, so the
-- Data API only ever shows the setup guide's API and what the dashboard reads.
-- `benchwatch_private` is not in the API's exposed schemas. anon and
-- authenticated get nothing in it; service_role may use it only through the
-- functions that are granted to it one by one in later migrations.

create schema if not exists benchwatch_private;

comment on schema benchwatch_private is
  'benchwatch internals: helpers, security definer functions, idempotency records and partitions. Never exposed by the Data API.';

revoke all on schema benchwatch_private from public, anon, authenticated, service_role;
grant usage on schema benchwatch_private to service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and a per-schema
-- ALTER DEFAULT PRIVILEGES cannot take that back. So every function in this
-- schema is followed by its own `revoke execute ... from public, anon,
-- authenticated` and, where intended, its own grant.
