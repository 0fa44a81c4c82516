-- Alerts, the database webhook and delivery: how Slack hears about regressions, once.
--
-- * `public.regression_alerts`: one alert per (series, metric), open until a later run of the
--   series is no longer regressed, with the delivery state of its opened and resolved events.
-- * The database webhook: a deferred constraint trigger on benchmark_transactions that, at
--   COMMIT of a transaction that opened or resolved alerts, sends one signed, thin request of
--   ids (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature, HMAC-SHA256 with
--   the vault secret) to notify-slack with pg_net, which sends only after commit. Without
--   configuration nothing is sent and alerts stay pending; a webhook problem never fails a run.
-- * Delivery: notify-slack claims events, reports each attempt (kept in
--   `benchwatch_private.alert_delivery_attempts`) and de-duplicates requests by webhook-id
--   (`webhook_receipts`). pg_net never retries and its queue is unlogged, so the pg_cron job
--   `sweep-alert-deliveries` re-sends, every minute, what is left undelivered.
-- * Acknowledging an alert.

do $$
begin
  -- Hosted Supabase ships pg_net; the local stack provides its SQL API instead.
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net;
  end if;
end
$$;

-- Sequences -----------------------------------------------------------------------------------

CREATE SEQUENCE "benchwatch_private"."alert_delivery_attempts_id_seq" AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1 NO CYCLE;

REVOKE ALL ON SEQUENCE "benchwatch_private"."alert_delivery_attempts_id_seq" FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE SEQUENCE "benchwatch_private"."webhook_requests_id_seq" AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1 NO CYCLE;

REVOKE ALL ON SEQUENCE "benchwatch_private"."webhook_requests_id_seq" FROM PUBLIC, "anon", "authenticated", "service_role";

-- Tables --------------------------------------------------------------------------------------

CREATE TABLE "public"."regression_alerts" (
  "id"                         uuid                     NOT NULL DEFAULT gen_random_uuid(),
  "model_version"              text                     NOT NULL,
  "model_provider"             text                     NOT NULL,
  "dataset_version"            text                     NOT NULL,
  "prompt_version"             text                     NOT NULL,
  "environment"                text                     NOT NULL,
  "metric_name"                text                     NOT NULL,
  "status"                     text                     NOT NULL DEFAULT 'open'::text,
  "direction"                  text                     NOT NULL,
  "relative_threshold"         numeric                  NOT NULL,
  "absolute_floor"             numeric                  NOT NULL,
  "baseline_snapshot_id"       uuid,
  "baseline_transaction_id"    uuid,
  "baseline_model_version"     text,
  "baseline_prompt_version"    text,
  "baseline_value"             numeric                  NOT NULL,
  "opened_transaction_id"      uuid                     NOT NULL,
  "opened_value"               numeric                  NOT NULL,
  "opened_relative_change"     numeric,
  "opened_at"                  timestamp with time zone NOT NULL DEFAULT now(),
  "last_transaction_id"        uuid                     NOT NULL,
  "last_value"                 numeric                  NOT NULL,
  "last_relative_change"       numeric,
  "last_seen_at"               timestamp with time zone NOT NULL DEFAULT now(),
  "regressing_run_count"       integer                  NOT NULL DEFAULT 1,
  "resolved_transaction_id"    uuid,
  "resolved_value"             numeric,
  "resolved_at"                timestamp with time zone,
  "opened_delivery_status"     text                     NOT NULL DEFAULT 'pending'::text,
  "opened_delivery_attempts"   integer                  NOT NULL DEFAULT 0,
  "opened_last_error"          text,
  "opened_last_attempt_at"     timestamp with time zone,
  "opened_notified_at"         timestamp with time zone,
  "resolved_delivery_status"   text,
  "resolved_delivery_attempts" integer                  NOT NULL DEFAULT 0,
  "resolved_last_error"        text,
  "resolved_last_attempt_at"   timestamp with time zone,
  "resolved_notified_at"       timestamp with time zone,
  "opened_next_attempt_at"     timestamp with time zone,
  "resolved_next_attempt_at"   timestamp with time zone,
  "opened_claimed_until"       timestamp with time zone,
  "resolved_claimed_until"     timestamp with time zone,
  "acknowledged_at"            timestamp with time zone,
  "acknowledged_by"            text,
  CONSTRAINT "regression_alerts_attempts_nonnegative" CHECK (((opened_delivery_attempts >= 0) AND (resolved_delivery_attempts >= 0))),
  CONSTRAINT "regression_alerts_direction_valid" CHECK ((direction = ANY (ARRAY['higher'::text, 'lower'::text]))),
  CONSTRAINT "regression_alerts_opened_delivery_valid"
    CHECK ((opened_delivery_status = ANY (ARRAY['pending'::text, 'sent'::text, 'skipped'::text, 'failed'::text, 'permanent_failure'::text]))),
  CONSTRAINT "regression_alerts_pkey" PRIMARY KEY (id),
  CONSTRAINT "regression_alerts_resolution_consistent"
    CHECK
    ((((status = 'open'::text) AND (resolved_at IS NULL) AND (resolved_transaction_id IS NULL) AND (resolved_delivery_status IS NULL)) OR ((status = 'resolved'::text) AND
    (resolved_at IS NOT NULL) AND (resolved_transaction_id IS NOT NULL) AND (resolved_delivery_status IS NOT NULL)))),
  CONSTRAINT "regression_alerts_resolved_delivery_valid"
    CHECK
    (((resolved_delivery_status IS NULL) OR (resolved_delivery_status = ANY (ARRAY['pending'::text, 'sent'::text, 'skipped'::text, 'failed'::text, 'permanent_failure'::text])))),
  CONSTRAINT "regression_alerts_status_valid" CHECK ((status = ANY (ARRAY['open'::text, 'resolved'::text])))
);

ALTER TABLE "public"."regression_alerts"
  ENABLE ROW LEVEL SECURITY;

CREATE UNIQUE INDEX regression_alerts_one_open_per_series_metric ON public.regression_alerts
  USING btree (model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
  WHERE (status = 'open'::text);

CREATE INDEX regression_alerts_opened_transaction_idx ON public.regression_alerts USING btree (opened_transaction_id);

CREATE INDEX regression_alerts_opened_undelivered_idx ON public.regression_alerts USING btree (opened_at)
  WHERE (opened_delivery_status = ANY (ARRAY['pending'::text, 'failed'::text]));

CREATE INDEX regression_alerts_resolved_transaction_idx ON public.regression_alerts USING btree (resolved_transaction_id)
  WHERE (resolved_transaction_id IS NOT NULL);

CREATE INDEX regression_alerts_resolved_undelivered_idx ON public.regression_alerts USING btree (resolved_at)
  WHERE (resolved_delivery_status = ANY (ARRAY['pending'::text, 'failed'::text]));

CREATE INDEX regression_alerts_status_opened_at_idx ON public.regression_alerts USING btree (status, opened_at DESC);

COMMENT ON COLUMN "public"."regression_alerts"."acknowledged_at" IS 'When someone acknowledged the alert; null if nobody has.';

COMMENT ON COLUMN "public"."regression_alerts"."acknowledged_by" IS 'Who acknowledged the alert, as they named themselves.';

COMMENT ON COLUMN "public"."regression_alerts"."opened_claimed_until" IS 'A deliverer holds the "opened" event until then; after it, the event may be claimed again.';

COMMENT ON COLUMN "public"."regression_alerts"."opened_delivery_status" IS 'Delivery of the "opened" event: pending, sent, skipped, failed (will retry) or permanent_failure.';

COMMENT ON COLUMN "public"."regression_alerts"."opened_next_attempt_at" IS 'When a failed "opened" delivery may be tried again (exponential backoff); null means now.';

COMMENT ON COLUMN "public"."regression_alerts"."regressing_run_count" IS 'How many runs in a row regressed while this alert was open.';

COMMENT ON COLUMN "public"."regression_alerts"."resolved_claimed_until" IS 'A deliverer holds the "resolved" event until then; after it, the event may be claimed again.';

COMMENT ON COLUMN "public"."regression_alerts"."resolved_delivery_status" IS 'Delivery of the "resolved" event; null while the alert is open.';

COMMENT ON COLUMN "public"."regression_alerts"."resolved_next_attempt_at" IS 'When a failed "resolved" delivery may be tried again (exponential backoff); null means now.';

COMMENT ON TABLE "public"."regression_alerts" IS 'One alert per regressed (series, metric): open until a later run of the series no longer regresses. Opening and resolving are separate Slack deliveries, each with its own delivery state.';

CREATE TABLE "benchwatch_private"."alert_delivery_attempts" (
  "id"           bigint                   NOT NULL DEFAULT nextval('benchwatch_private.alert_delivery_attempts_id_seq'::regclass),
  "alert_id"     uuid                     NOT NULL,
  "event"        text                     NOT NULL,
  "outcome"      text                     NOT NULL,
  "http_status"  integer,
  "error"        text,
  "attempted_at" timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "alert_delivery_attempts_event_valid" CHECK ((event = ANY (ARRAY['opened'::text, 'resolved'::text]))),
  CONSTRAINT "alert_delivery_attempts_outcome_valid" CHECK ((outcome = ANY (ARRAY['sent'::text, 'skipped'::text, 'permanent'::text, 'transient'::text]))),
  CONSTRAINT "alert_delivery_attempts_pkey" PRIMARY KEY (id),
  CONSTRAINT "alert_delivery_attempts_alert_fkey" FOREIGN KEY (alert_id) REFERENCES public.regression_alerts(id) ON DELETE CASCADE
);

ALTER TABLE "benchwatch_private"."alert_delivery_attempts"
  ENABLE ROW LEVEL SECURITY;

ALTER SEQUENCE "benchwatch_private"."alert_delivery_attempts_id_seq" OWNED BY "benchwatch_private"."alert_delivery_attempts"."id";

CREATE INDEX alert_delivery_attempts_alert_id_idx ON benchwatch_private.alert_delivery_attempts USING btree (alert_id, attempted_at);

COMMENT ON TABLE "benchwatch_private"."alert_delivery_attempts" IS 'One row per attempt to deliver an alert event (opened or resolved) to Slack, with its outcome, HTTP status and error.';

CREATE TABLE "benchwatch_private"."webhook_requests" (
  "id"             bigint                   NOT NULL DEFAULT nextval('benchwatch_private.webhook_requests_id_seq'::regclass),
  "net_request_id" bigint,
  "webhook_id"     text                     NOT NULL,
  "reason"         text                     NOT NULL,
  "record"         jsonb,
  "created_at"     timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "webhook_requests_pkey" PRIMARY KEY (id),
  CONSTRAINT "webhook_requests_reason_valid" CHECK ((reason = ANY (ARRAY['run'::text, 'sweep'::text])))
);

ALTER TABLE "benchwatch_private"."webhook_requests"
  ENABLE ROW LEVEL SECURITY;

ALTER SEQUENCE "benchwatch_private"."webhook_requests_id_seq" OWNED BY "benchwatch_private"."webhook_requests"."id";

CREATE INDEX webhook_requests_created_at_idx ON benchwatch_private.webhook_requests USING btree (created_at);

COMMENT ON TABLE "benchwatch_private"."webhook_requests" IS 'Every signed request the database webhook queued with pg_net: its pg_net request id, webhook-id, why (run or sweep) and the record it named.';

CREATE TABLE "benchwatch_private"."webhook_receipts" (
  "webhook_id"  text                     NOT NULL,
  "received_at" timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "webhook_receipts_pkey" PRIMARY KEY (webhook_id)
);

ALTER TABLE "benchwatch_private"."webhook_receipts"
  ENABLE ROW LEVEL SECURITY;

CREATE INDEX webhook_receipts_received_at_idx ON benchwatch_private.webhook_receipts USING btree (received_at);

COMMENT ON TABLE "benchwatch_private"."webhook_receipts" IS 'webhook-ids notify-slack has already accepted, so a replayed webhook does nothing; kept for a day (the signature window is 5 minutes).';

-- Functions -----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benchwatch_private.alert_severity (
  p_relative_change    numeric,
  p_relative_threshold numeric
)
  RETURNS text
  LANGUAGE sql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
  select case
    -- A change from a zero baseline is unbounded.
    when p_relative_change is null then 'critical'
    when abs(p_relative_change) >= 4 * p_relative_threshold then 'critical'
    when abs(p_relative_change) >= 2 * p_relative_threshold then 'major'
    else 'minor'
  end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."alert_severity"(numeric, numeric) IS 'critical if |relative change| >= 4x the relative threshold (or the baseline was 0), major if >= 2x, else minor.';

REVOKE ALL ON FUNCTION "benchwatch_private"."alert_severity"(numeric, numeric) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."alert_severity"(numeric, numeric) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.webhook_config()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
  select pg_catalog.jsonb_build_object(
    'functions_url', (select s.decrypted_secret from vault.decrypted_secrets s
                      where s.name = 'benchwatch_functions_url' limit 1),
    'secret', (select s.decrypted_secret from vault.decrypted_secrets s
               where s.name = 'benchwatch_webhook_secret' limit 1))
$function$;

COMMENT ON FUNCTION "benchwatch_private"."webhook_config"() IS 'The database webhook settings from vault: {functions_url, secret}, each null when not configured. For notify-slack''s signature check.';

REVOKE ALL ON FUNCTION "benchwatch_private"."webhook_config"() FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."webhook_config"() TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.configure_webhook (
  p_functions_url text,
  p_secret        text
)
  RETURNS void
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."configure_webhook"(text, text) IS 'Validates and stores the database webhook settings in vault (benchwatch_functions_url, benchwatch_webhook_secret), creating or updating each secret.';

REVOKE ALL ON FUNCTION "benchwatch_private"."configure_webhook"(text, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."configure_webhook"(text, text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.webhook_signature (
  p_webhook_id text,
  p_timestamp  text,
  p_body       text,
  p_secret     text
)
  RETURNS text
  LANGUAGE sql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
  select 'v1,' || pg_catalog.encode(
    extensions.hmac(
      pg_catalog.convert_to(p_webhook_id || '.' || p_timestamp || '.' || p_body, 'UTF8'),
      pg_catalog.decode(pg_catalog.regexp_replace(p_secret, '^whsec_', ''), 'base64'),
      'sha256'),
    'base64')
$function$;

COMMENT ON FUNCTION "benchwatch_private"."webhook_signature"(text, text, text, text) IS 'Standard Webhooks v1 signature of <id>.<timestamp>.<body> with a whsec_<base64> secret: v1,base64(HMAC-SHA256).';

REVOKE ALL ON FUNCTION "benchwatch_private"."webhook_signature"(text, text, text, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."webhook_signature"(text, text, text, text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.webhook_status()
  RETURNS jsonb
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."webhook_status"() IS 'Whether the database webhook is configured, and how many alert events (opened or resolved) are pending or failed.';

REVOKE ALL ON FUNCTION "benchwatch_private"."webhook_status"() FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."webhook_status"() TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.send_alert_webhook (
  p_record jsonb,
  p_reason text
)
  RETURNS bigint
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_url text;
  v_secret text;
  v_body jsonb;
  v_webhook_id text;
  v_timestamp text;
  v_signature text;
  v_headers jsonb;
  v_request_id bigint;
begin
  if p_reason is null or p_reason not in ('run', 'sweep') then
    raise exception using
      errcode = '22023',
      message = 'Cannot send the alert webhook: p_reason must be run or sweep',
      detail = pg_catalog.format('p_reason = %s', coalesce(p_reason, 'null'));
  end if;

  select s.decrypted_secret into v_url
  from vault.decrypted_secrets s where s.name = 'benchwatch_functions_url' limit 1;
  select s.decrypted_secret into v_secret
  from vault.decrypted_secrets s where s.name = 'benchwatch_webhook_secret' limit 1;
  if coalesce(v_url, '') = '' or coalesce(v_secret, '') = '' then
    -- Not configured: nothing to send; the alerts stay pending.
    return null;
  end if;

  v_body := case p_reason
    when 'run' then pg_catalog.jsonb_build_object(
      'type', 'INSERT', 'table', 'benchmark_transactions', 'schema', 'public',
      'record', p_record, 'old_record', null)
    else pg_catalog.jsonb_build_object(
      'type', 'SWEEP', 'table', 'regression_alerts', 'schema', 'public',
      'record', null, 'old_record', null)
  end;

  v_webhook_id := gen_random_uuid()::text;
  v_timestamp := pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()))::bigint::text;
  -- The signed content is exactly what pg_net sends: v_body::text as UTF-8.
  v_signature := benchwatch_private.webhook_signature(v_webhook_id, v_timestamp, v_body::text, v_secret);
  v_headers := pg_catalog.jsonb_build_object(
    'Content-Type', 'application/json',
    'webhook-id', v_webhook_id,
    'webhook-timestamp', v_timestamp,
    'webhook-signature', v_signature);

  v_request_id := net.http_post(
    url := v_url || '/notify-slack',
    body := v_body,
    headers := v_headers,
    timeout_milliseconds := 5000);

  insert into benchwatch_private.webhook_requests (net_request_id, webhook_id, reason, record)
  values (v_request_id, v_webhook_id, p_reason, p_record);

  return v_request_id;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."send_alert_webhook"(jsonb, text) IS 'Queues one Standard Webhooks-signed POST to <functions_url>/notify-slack with pg_net (reason run: an INSERT of benchmark_transactions naming p_record; sweep: a SWEEP of regression_alerts). Returns the pg_net request id, or null when the webhook is not configured.';

REVOKE ALL ON FUNCTION "benchwatch_private"."send_alert_webhook"(jsonb, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."send_alert_webhook"(jsonb, text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.tg_benchmark_transactions__notify_webhook()
  RETURNS TRIGGER
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_txid text := pg_catalog.pg_current_xact_id()::text;
begin
  if pg_catalog.current_setting('benchwatch.webhook_sent', true) is not distinct from v_txid then
    return null;
  end if;

  if exists (select 1 from public.regression_alerts a
             where a.opened_transaction_id = new.id and a.opened_delivery_status = 'pending')
     or exists (select 1 from public.regression_alerts a
                where a.resolved_transaction_id = new.id and a.resolved_delivery_status = 'pending')
  then
    perform pg_catalog.set_config('benchwatch.webhook_sent', v_txid, true);
    begin
      perform benchwatch_private.send_alert_webhook(pg_catalog.jsonb_build_object('id', new.id), 'run');
    exception
      when others then
        -- Never fail the run over a notification: the sweeper re-sends.
        raise warning 'benchwatch: could not queue the alert webhook: %', sqlerrm;
    end;
  end if;
  return null;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."tg_benchmark_transactions__notify_webhook"() IS 'Deferred trigger function: at commit, sends one alert webhook per transaction if the new run opened or resolved alerts whose delivery is pending.';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_benchmark_transactions__notify_webhook"() FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.claim_alert_events (
  p_limit         integer DEFAULT 100,
  p_lease_seconds integer DEFAULT 60
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 100), 1), 1000);
  v_lease interval := pg_catalog.make_interval(secs => least(greatest(coalesce(p_lease_seconds, 60), 1), 3600));
  v_opened_tx uuid[];
  v_resolved_tx uuid[];
  v_opened uuid[];
  v_resolved uuid[];
begin
  -- Choose the oldest due groups (one per run and kind), up to p_limit of them.
  select coalesce(pg_catalog.array_agg(g.tx) filter (where g.kind = 'regressed'), '{}'),
         coalesce(pg_catalog.array_agg(g.tx) filter (where g.kind = 'recovered'), '{}')
  into v_opened_tx, v_resolved_tx
  from (
    select e.kind, e.tx
    from (
      select 'regressed' as kind, a.opened_transaction_id as tx, pg_catalog.min(a.opened_at) as at
      from public.regression_alerts a
      where a.opened_delivery_status in ('pending', 'failed')
        and (a.opened_next_attempt_at is null or a.opened_next_attempt_at <= pg_catalog.now())
        and (a.opened_claimed_until is null or a.opened_claimed_until < pg_catalog.now())
      group by a.opened_transaction_id
      union all
      select 'recovered', a.resolved_transaction_id, pg_catalog.min(a.resolved_at)
      from public.regression_alerts a
      where a.resolved_delivery_status in ('pending', 'failed')
        and (a.resolved_next_attempt_at is null or a.resolved_next_attempt_at <= pg_catalog.now())
        and (a.resolved_claimed_until is null or a.resolved_claimed_until < pg_catalog.now())
      group by a.resolved_transaction_id
    ) as e
    order by e.at, e.kind desc, e.tx
    limit v_limit
  ) as g;

  -- Lease every due event of those groups; rows another deliverer holds are skipped,
  -- and the due conditions are checked again on the locked rows.
  with locked as (
    select a.id
    from public.regression_alerts a
    where a.opened_transaction_id = any (v_opened_tx)
      and a.opened_delivery_status in ('pending', 'failed')
      and (a.opened_next_attempt_at is null or a.opened_next_attempt_at <= pg_catalog.now())
      and (a.opened_claimed_until is null or a.opened_claimed_until < pg_catalog.now())
    for update skip locked
  ),
  leased as (
    update public.regression_alerts a
    set opened_claimed_until = pg_catalog.now() + v_lease
    from locked
    where a.id = locked.id
    returning a.id
  )
  select coalesce(pg_catalog.array_agg(leased.id), '{}') into v_opened from leased;

  with locked as (
    select a.id
    from public.regression_alerts a
    where a.resolved_transaction_id = any (v_resolved_tx)
      and a.resolved_delivery_status in ('pending', 'failed')
      and (a.resolved_next_attempt_at is null or a.resolved_next_attempt_at <= pg_catalog.now())
      and (a.resolved_claimed_until is null or a.resolved_claimed_until < pg_catalog.now())
    for update skip locked
  ),
  leased as (
    update public.regression_alerts a
    set resolved_claimed_until = pg_catalog.now() + v_lease
    from locked
    where a.id = locked.id
    returning a.id
  )
  select coalesce(pg_catalog.array_agg(leased.id), '{}') into v_resolved from leased;

  return (
    with events as (
      select 'regressed' as kind, a.opened_transaction_id as tx, a.opened_at as at, a.opened_value as current_value,
             a.opened_relative_change as relative_change, a.*
      from public.regression_alerts a
      where a.id = any (v_opened)
      union all
      select 'recovered', a.resolved_transaction_id, a.resolved_at, a.resolved_value,
             case when a.baseline_value <> 0
                  then pg_catalog.round((a.resolved_value - a.baseline_value) / abs(a.baseline_value), 6) end,
             a.*
      from public.regression_alerts a
      where a.id = any (v_resolved)
    ),
    groups as (
      select e.kind, e.tx,
             pg_catalog.min(e.at) as at,
             pg_catalog.min(e.model_version) as model_version,
             pg_catalog.min(e.model_provider) as model_provider,
             pg_catalog.min(e.dataset_version) as dataset_version,
             pg_catalog.min(e.prompt_version) as prompt_version,
             pg_catalog.min(e.environment) as environment,
             pg_catalog.min(e.baseline_model_version) as baseline_model_version,
             pg_catalog.array_agg(e.id order by e.metric_name) as alert_ids,
             pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'metric', e.metric_name,
               'direction', case e.direction when 'higher' then 'higher_is_better' else 'lower_is_better' end,
               'baseline', e.baseline_value,
               'current', e.current_value,
               'relative_change', e.relative_change,
               'severity', benchwatch_private.alert_severity(e.opened_relative_change, e.relative_threshold))
               order by e.metric_name) as metrics
      from events e
      group by e.kind, e.tx
    )
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'kind', g.kind,
             'transaction_id', g.tx,
             'series', pg_catalog.jsonb_build_object(
               'model_version', g.model_version,
               'model_provider', g.model_provider,
               'dataset_version', g.dataset_version,
               'prompt_version', g.prompt_version,
               'environment', g.environment),
             'baseline_model_version', g.baseline_model_version,
             'commit_sha', r.commit_sha,
             'branch_name', r.branch_name,
             'run_id', r.run_id,
             'created_at', r.created_at,
             'alert_ids', pg_catalog.to_jsonb(g.alert_ids),
             'metrics', g.metrics)
           order by g.at, g.kind desc, g.tx), '[]'::jsonb)
    from groups g
    left join lateral (
      select x.commit_sha, x.branch_name, x.run_id, x.created_at
      from (
        select t.commit_sha, t.branch_name, t.run_id, t.created_at
        from public.benchmark_transactions t where t.id = g.tx
        union all
        select ar.commit_sha, ar.branch_name, ar.run_id, ar.created_at
        from public.benchmark_transactions_archive ar where ar.id = g.tx
      ) as x
      limit 1
    ) as r on true
  );
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."claim_alert_events"(integer, integer) IS 'Leases due alert events (pending, or failed and past their backoff; not leased) for p_lease_seconds and returns them as one group per run and kind (regressed / recovered), oldest first, at most p_limit groups, each with its series, run, alert ids and per-metric baseline, current, change and severity.';

REVOKE ALL ON FUNCTION "benchwatch_private"."claim_alert_events"(integer, integer) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."claim_alert_events"(integer, integer) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.complete_alert_events (
  p_alert_ids   uuid[],
  p_kind        text,
  p_outcome     text,
  p_error       text    DEFAULT NULL::text,
  p_http_status integer DEFAULT NULL::integer
)
  RETURNS void
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_status text;
begin
  if p_kind is null or p_kind not in ('regressed', 'recovered') then
    raise exception using
      errcode = 'BW017',
      message = 'Cannot complete alert events: kind must be regressed or recovered',
      detail = pg_catalog.format('kind = %s', coalesce(p_kind, 'null'));
  end if;
  v_status := case p_outcome
    when 'sent' then 'sent'
    when 'skipped' then 'skipped'
    when 'permanent' then 'permanent_failure'
    when 'transient' then 'failed'
  end;
  if v_status is null then
    raise exception using
      errcode = 'BW017',
      message = 'Cannot complete alert events: outcome must be sent, skipped, permanent or transient',
      detail = pg_catalog.format('outcome = %s', coalesce(p_outcome, 'null'));
  end if;

  -- Only undelivered events change: a late or repeated completion never turns a
  -- delivered (or given-up) event back into one that would be posted again.
  if p_kind = 'regressed' then
    update public.regression_alerts a
    set opened_delivery_status = v_status,
        opened_delivery_attempts = a.opened_delivery_attempts + 1,
        opened_last_attempt_at = pg_catalog.now(),
        opened_claimed_until = null,
        opened_notified_at = case when v_status = 'sent' then pg_catalog.now() else a.opened_notified_at end,
        opened_last_error = case when v_status = 'sent' then a.opened_last_error else p_error end,
        opened_next_attempt_at = case
          when v_status = 'failed' then pg_catalog.now() + least(
            interval '30 seconds' * pg_catalog.power(2, least(a.opened_delivery_attempts, 20))::integer,
            interval '1 hour')
        end
    where a.id = any (p_alert_ids)
      and a.opened_delivery_status in ('pending', 'failed');
  else
    update public.regression_alerts a
    set resolved_delivery_status = v_status,
        resolved_delivery_attempts = a.resolved_delivery_attempts + 1,
        resolved_last_attempt_at = pg_catalog.now(),
        resolved_claimed_until = null,
        resolved_notified_at = case when v_status = 'sent' then pg_catalog.now() else a.resolved_notified_at end,
        resolved_last_error = case when v_status = 'sent' then a.resolved_last_error else p_error end,
        resolved_next_attempt_at = case
          when v_status = 'failed' then pg_catalog.now() + least(
            interval '30 seconds' * pg_catalog.power(2, least(a.resolved_delivery_attempts, 20))::integer,
            interval '1 hour')
        end
    where a.id = any (p_alert_ids)
      and a.resolved_delivery_status in ('pending', 'failed');
  end if;

  insert into benchwatch_private.alert_delivery_attempts (alert_id, event, outcome, http_status, error)
  select a.id, case p_kind when 'regressed' then 'opened' else 'resolved' end, p_outcome, p_http_status, p_error
  from public.regression_alerts a
  where a.id = any (p_alert_ids)
    and (p_kind = 'regressed' or a.resolved_delivery_status is not null);
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."complete_alert_events"(uuid[], text, text, text, integer) IS 'Records the outcome of delivering alert events (kind regressed = opened, recovered = resolved): sent, skipped, permanent (not retried) or transient (retried after 30 s x 2^(attempts-1), at most 1 hour); releases the lease and logs each attempt.';

REVOKE ALL ON FUNCTION "benchwatch_private"."complete_alert_events"(uuid[], text, text, text, integer) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."complete_alert_events"(uuid[], text, text, text, integer) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.record_webhook_receipt (
  p_webhook_id text
)
  RETURNS boolean
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
begin
  insert into benchwatch_private.webhook_receipts (webhook_id)
  values (p_webhook_id)
  on conflict (webhook_id) do nothing;
  return found;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."record_webhook_receipt"(text) IS 'Remembers a webhook-id notify-slack accepted; true the first time, false for a replay.';

REVOKE ALL ON FUNCTION "benchwatch_private"."record_webhook_receipt"(text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."record_webhook_receipt"(text) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.sweep_alert_deliveries (
  p_min_age interval DEFAULT '00:00:30'::interval
)
  RETURNS integer
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_min_age interval := coalesce(p_min_age, interval '30 seconds');
  v_due integer;
begin
  select
    (select count(*)
     from public.regression_alerts a
     where ((a.opened_delivery_status = 'pending' and a.opened_at < pg_catalog.now() - v_min_age)
            or (a.opened_delivery_status = 'failed'
                and (a.opened_next_attempt_at is null or a.opened_next_attempt_at <= pg_catalog.now())))
       and (a.opened_claimed_until is null or a.opened_claimed_until < pg_catalog.now()))
    +
    (select count(*)
     from public.regression_alerts a
     where ((a.resolved_delivery_status = 'pending' and a.resolved_at < pg_catalog.now() - v_min_age)
            or (a.resolved_delivery_status = 'failed'
                and (a.resolved_next_attempt_at is null or a.resolved_next_attempt_at <= pg_catalog.now())))
       and (a.resolved_claimed_until is null or a.resolved_claimed_until < pg_catalog.now()))
  into v_due;

  if v_due > 0 then
    perform benchwatch_private.send_alert_webhook(null, 'sweep');
  end if;

  delete from benchwatch_private.webhook_receipts r
  where r.received_at < pg_catalog.now() - interval '1 day';
  delete from benchwatch_private.webhook_requests w
  where w.created_at < pg_catalog.now() - interval '30 days';

  return v_due;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."sweep_alert_deliveries"(interval) IS 'Counts alert events that are due and overdue (pending for longer than p_min_age, or failed and past their backoff; not leased); if any, sends one SWEEP webhook to notify-slack. Also prunes old webhook receipts and request logs. Returns the count.';

REVOKE ALL ON FUNCTION "benchwatch_private"."sweep_alert_deliveries"(interval) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."sweep_alert_deliveries"(interval) TO "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.acknowledge_alert (
  p_alert_id uuid,
  p_by       text
)
  RETURNS jsonb
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
declare
  v_alert public.regression_alerts%rowtype;
begin
  -- The first acknowledgement stands; repeating it changes nothing.
  update public.regression_alerts a
  set acknowledged_at = coalesce(a.acknowledged_at, pg_catalog.now()),
      acknowledged_by = case when a.acknowledged_at is null
                             then nullif(pg_catalog.btrim(p_by), '') else a.acknowledged_by end
  where a.id = p_alert_id
  returning a.* into v_alert;

  if v_alert.id is null then
    raise exception using
      errcode = 'BW018',
      message = 'Cannot acknowledge alert: no alert with this id',
      detail = pg_catalog.format('alert id %s', coalesce(p_alert_id::text, 'null'));
  end if;
  return pg_catalog.to_jsonb(v_alert);
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."acknowledge_alert"(uuid, text) IS 'Marks an alert acknowledged by p_by (the first acknowledgement stands) and returns the alert row as jsonb; BW018 if there is no such alert.';

REVOKE ALL ON FUNCTION "benchwatch_private"."acknowledge_alert"(uuid, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."acknowledge_alert"(uuid, text) TO "service_role";

-- Triggers, row level security policies and grants --------------------------------------------

CREATE CONSTRAINT TRIGGER benchmark_transactions_notify_webhook
  AFTER INSERT ON public.benchmark_transactions DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW
  EXECUTE FUNCTION benchwatch_private.tg_benchmark_transactions__notify_webhook();

REVOKE ALL ON TABLE "public"."regression_alerts" FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE POLICY "regression_alerts_select_anon" ON "public"."regression_alerts"
  FOR SELECT
  TO "anon"
  USING (true);

CREATE POLICY "regression_alerts_select_authenticated" ON "public"."regression_alerts"
  FOR SELECT
  TO "authenticated"
  USING (true);

CREATE POLICY "regression_alerts_select_service_role" ON "public"."regression_alerts"
  FOR SELECT
  TO "service_role"
  USING (true);

CREATE POLICY "regression_alerts_update_service_role" ON "public"."regression_alerts"
  FOR UPDATE
  TO "service_role"
  USING (true)
  WITH CHECK (true);

GRANT SELECT ON TABLE "public"."regression_alerts" TO "anon", "authenticated";

GRANT SELECT, UPDATE ON TABLE "public"."regression_alerts" TO "service_role";

REVOKE ALL ON TABLE "benchwatch_private"."alert_delivery_attempts" FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE POLICY "alert_delivery_attempts_select_service_role" ON "benchwatch_private"."alert_delivery_attempts"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT SELECT ON TABLE "benchwatch_private"."alert_delivery_attempts" TO "service_role";

REVOKE ALL ON TABLE "benchwatch_private"."webhook_requests" FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE POLICY "webhook_requests_select_service_role" ON "benchwatch_private"."webhook_requests"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT SELECT ON TABLE "benchwatch_private"."webhook_requests" TO "service_role";

REVOKE ALL ON TABLE "benchwatch_private"."webhook_receipts" FROM PUBLIC, "anon", "authenticated", "service_role";

-- Job -----------------------------------------------------------------------------------------

SELECT cron.schedule(
  'sweep-alert-deliveries',
  '* * * * *',
  'select benchwatch_private.sweep_alert_deliveries()'
);
