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

GRANT EXECUTE ON FUNCTION "benchwatch_private"."authenticate_ingest_request"(text, integer) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."authenticate_ingest_request"(text, integer) IS 'authenticate_ingest_token plus the per-token rate limit: counts the request in the token''s current minute and returns {token_id, requests, limit, retry_after}; token_id is null for an unknown or revoked token, retry_after > 0 (seconds to the next minute) once the token made more than p_limit_per_minute requests this minute. A limit of 0 or null means no limit.';

REVOKE ALL ON FUNCTION "benchwatch_private"."authenticate_ingest_request"(text, integer) FROM PUBLIC;
