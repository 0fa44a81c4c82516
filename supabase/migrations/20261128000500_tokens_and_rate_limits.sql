-- Tokens and rate limits: who may call ingest besides the service role key.
--
-- * `benchwatch_private.ingest_tokens`: per-project ingest tokens, shown once at creation,
--   stored only as a SHA-256 hash with a display prefix, revocable; a token may only insert.
-- * `benchwatch_private.ingest_rate_counters`: requests per token per minute, for the
--   per-token rate limit counted when a request is authenticated.
-- * create / list / revoke tokens (the CLI's `token` commands) and the authentication of an
--   ingest request.

-- Tables --------------------------------------------------------------------------------------

CREATE TABLE "benchwatch_private"."ingest_tokens" (
  "id"           uuid                     NOT NULL DEFAULT gen_random_uuid(),
  "name"         text                     NOT NULL,
  "token_hash"   text                     NOT NULL,
  "token_prefix" text                     NOT NULL,
  "created_at"   timestamp with time zone NOT NULL DEFAULT now(),
  "last_used_at" timestamp with time zone,
  "revoked_at"   timestamp with time zone,
  CONSTRAINT "ingest_tokens_hash_is_sha256_hex" CHECK ((token_hash ~ '^[0-9a-f]{64}$'::text)),
  CONSTRAINT "ingest_tokens_name_not_blank" CHECK ((btrim(name) <> ''::text)),
  CONSTRAINT "ingest_tokens_pkey" PRIMARY KEY (id),
  CONSTRAINT "ingest_tokens_token_hash_key" UNIQUE (token_hash)
);

ALTER TABLE "benchwatch_private"."ingest_tokens"
  ENABLE ROW LEVEL SECURITY;

COMMENT ON COLUMN "benchwatch_private"."ingest_tokens"."last_used_at" IS 'Last successful authentication, to within a minute.';

COMMENT ON COLUMN "benchwatch_private"."ingest_tokens"."token_hash" IS 'encode(sha256(token), ''hex''); the token itself is never stored.';

COMMENT ON COLUMN "benchwatch_private"."ingest_tokens"."token_prefix" IS 'The first 10 characters of the token (bw_ and 7 more), so a user can tell tokens apart.';

COMMENT ON TABLE "benchwatch_private"."ingest_tokens" IS 'Per-project ingest tokens for CI: only the SHA-256 hash (hex) of each token is kept, with its first 10 characters to recognise it; revoked_at ends it.';

CREATE TABLE "benchwatch_private"."ingest_rate_counters" (
  "token_id"     uuid                     NOT NULL,
  "window_start" timestamp with time zone NOT NULL,
  "requests"     integer                  NOT NULL DEFAULT 0,
  CONSTRAINT "ingest_rate_counters_pkey" PRIMARY KEY (token_id, window_start),
  CONSTRAINT "ingest_rate_counters_token_fkey" FOREIGN KEY (token_id) REFERENCES benchwatch_private.ingest_tokens(id) ON DELETE CASCADE
);

ALTER TABLE "benchwatch_private"."ingest_rate_counters"
  ENABLE ROW LEVEL SECURITY;

COMMENT ON TABLE "benchwatch_private"."ingest_rate_counters" IS 'Requests per ingest token per calendar minute, for the per-token rate limit; pruned after an hour.';

-- Functions -----------------------------------------------------------------------------------

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

COMMENT ON FUNCTION "benchwatch_private"."create_ingest_token"(text) IS 'Creates an ingest token and returns it once, as {id, name, token, token_prefix, created_at}; only its SHA-256 hash is stored.';

REVOKE ALL ON FUNCTION "benchwatch_private"."create_ingest_token"(text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."create_ingest_token"(text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.list_ingest_tokens()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'id', t.id,
           'name', t.name,
           'token_prefix', t.token_prefix,
           'created_at', t.created_at,
           'last_used_at', t.last_used_at,
           'revoked_at', t.revoked_at)
         order by t.created_at desc, t.id), '[]'::jsonb)
  from benchwatch_private.ingest_tokens t
$function$;

COMMENT ON FUNCTION "benchwatch_private"."list_ingest_tokens"() IS 'Lists ingest tokens, newest first, as {id, name, token_prefix, created_at, last_used_at, revoked_at}; never the token or its hash.';

REVOKE ALL ON FUNCTION "benchwatch_private"."list_ingest_tokens"() FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."list_ingest_tokens"() TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.revoke_ingest_token (
  p_id uuid
)
  RETURNS boolean
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
begin
  update benchwatch_private.ingest_tokens
  set revoked_at = pg_catalog.now()
  where id = p_id
    and revoked_at is null;
  return found;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."revoke_ingest_token"(uuid) IS 'Revokes an ingest token; true if it was active and is now revoked, false if unknown or already revoked.';

REVOKE ALL ON FUNCTION "benchwatch_private"."revoke_ingest_token"(uuid) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."revoke_ingest_token"(uuid) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.authenticate_ingest_token (
  p_token_hash text
)
  RETURNS uuid
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."authenticate_ingest_token"(text) IS 'Returns the id of the active ingest token whose SHA-256 hex hash is p_token_hash, or null; updates last_used_at at most once a minute.';

REVOKE ALL ON FUNCTION "benchwatch_private"."authenticate_ingest_token"(text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."authenticate_ingest_token"(text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.authenticate_ingest_request (
  p_token_hash       text,
  p_limit_per_minute integer DEFAULT 600
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_id uuid := benchwatch_private.authenticate_ingest_token(p_token_hash);
  v_window timestamptz := pg_catalog.date_trunc('minute', pg_catalog.now());
  v_requests integer;
begin
  if v_id is null then
    return pg_catalog.jsonb_build_object('token_id', null, 'retry_after', 0);
  end if;
  -- 0 or less (or null) turns the limit off.
  if coalesce(p_limit_per_minute, 0) <= 0 then
    return pg_catalog.jsonb_build_object('token_id', v_id, 'retry_after', 0);
  end if;

  insert into benchwatch_private.ingest_rate_counters as c (token_id, window_start, requests)
  values (v_id, v_window, 1)
  on conflict (token_id, window_start) do update set requests = c.requests + 1
  returning c.requests into v_requests;

  if v_requests = 1 then
    delete from benchwatch_private.ingest_rate_counters c
    where c.token_id = v_id and c.window_start < v_window - interval '1 hour';
  end if;

  return pg_catalog.jsonb_build_object(
    'token_id', v_id,
    'requests', v_requests,
    'limit', p_limit_per_minute,
    'retry_after', case when v_requests > p_limit_per_minute
      then greatest(1, pg_catalog.ceil(extract(epoch from (v_window + interval '1 minute' - pg_catalog.clock_timestamp()))))::integer
      else 0 end);
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."authenticate_ingest_request"(text, integer) IS 'authenticate_ingest_token plus the per-token rate limit: counts the request in the token''s current minute and returns {token_id, requests, limit, retry_after}; token_id is null for an unknown or revoked token, retry_after > 0 (seconds to the next minute) once the token made more than p_limit_per_minute requests this minute. A limit of 0 or null means no limit.';

REVOKE ALL ON FUNCTION "benchwatch_private"."authenticate_ingest_request"(text, integer) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."authenticate_ingest_request"(text, integer) TO "service_role";

-- Triggers, row level security policies and grants --------------------------------------------

REVOKE ALL ON TABLE "benchwatch_private"."ingest_tokens" FROM PUBLIC, "anon", "authenticated", "service_role";

REVOKE ALL ON TABLE "benchwatch_private"."ingest_rate_counters" FROM PUBLIC, "anon", "authenticated", "service_role";
