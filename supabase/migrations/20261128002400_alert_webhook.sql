-- Why: Slack must hear about a regression within seconds of its run landing.
-- This is benchwatch's database webhook: a deferred constraint trigger on
-- benchmark_transactions that, at COMMIT of a transaction which opened or
-- resolved alerts, posts one signed, thin request to notify-slack with pg_net.
--   * At most one request per transaction: a transaction-local guard stops the
--     trigger after the first send, so a batch of 1000 runs makes one request,
--     and runs that changed no alert make none.
--   * pg_net sends only after COMMIT, so a rolled-back run sends nothing.
--   * The payload keeps Supabase's webhook shape {type, table, schema, record,
--     old_record} with only ids in it; notify-slack claims the events itself.
--   * Requests are signed the Standard Webhooks way (webhook-id,
--     webhook-timestamp, webhook-signature = v1,base64(HMAC-SHA256)) with the
--     vault secret, over exactly the bytes pg_net sends: body::text as UTF-8.
--   * Without configuration nothing is sent and alerts stay pending; a webhook
--     problem never fails the run's transaction. The sweeper (a later
--     migration) re-sends what is left undelivered, since pg_net never retries
--     and its queue is unlogged.

do $$
begin
  -- Hosted Supabase ships pg_net; the local stack provides its SQL API instead.
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net;
  end if;
end
$$;

create table benchwatch_private.webhook_requests (
  id bigserial,
  net_request_id bigint,
  webhook_id text not null,
  reason text not null,
  record jsonb,
  created_at timestamptz not null default now(),
  constraint webhook_requests_pkey primary key (id),
  constraint webhook_requests_reason_valid check (reason in ('run', 'sweep'))
);

comment on table benchwatch_private.webhook_requests is
  'Every signed request the database webhook queued with pg_net: its pg_net request id, webhook-id, why (run or sweep) and the record it named.';

create index webhook_requests_created_at_idx on benchwatch_private.webhook_requests (created_at);

alter table benchwatch_private.webhook_requests enable row level security;
revoke all on table benchwatch_private.webhook_requests from public, anon, authenticated, service_role;
revoke all on sequence benchwatch_private.webhook_requests_id_seq from public, anon, authenticated, service_role;
grant select on table benchwatch_private.webhook_requests to service_role;

create policy webhook_requests_select_service_role on benchwatch_private.webhook_requests
  for select to service_role using (true);

-- The Standard Webhooks signature, exactly as notify-slack's verifier computes it:
-- 'v1,' + base64(HMAC-SHA256(key = base64decode(secret minus 'whsec_'), '<id>.<timestamp>.<body>')).
-- (A 32-byte digest is 44 base64 characters, below encode()'s line wrap.)
create or replace function benchwatch_private.webhook_signature(
  p_webhook_id text,
  p_timestamp text,
  p_body text,
  p_secret text
)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select 'v1,' || pg_catalog.encode(
    extensions.hmac(
      pg_catalog.convert_to(p_webhook_id || '.' || p_timestamp || '.' || p_body, 'UTF8'),
      pg_catalog.decode(pg_catalog.regexp_replace(p_secret, '^whsec_', ''), 'base64'),
      'sha256'),
    'base64')
$$;

comment on function benchwatch_private.webhook_signature(text, text, text, text) is
  'Standard Webhooks v1 signature of <id>.<timestamp>.<body> with a whsec_<base64> secret: v1,base64(HMAC-SHA256).';

revoke execute on function benchwatch_private.webhook_signature(text, text, text, text) from public, anon, authenticated;
grant execute on function benchwatch_private.webhook_signature(text, text, text, text) to service_role;

create or replace function benchwatch_private.send_alert_webhook(p_record jsonb, p_reason text)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
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
$$;

comment on function benchwatch_private.send_alert_webhook(jsonb, text) is
  'Queues one Standard Webhooks-signed POST to <functions_url>/notify-slack with pg_net (reason run: an INSERT of benchmark_transactions naming p_record; sweep: a SWEEP of regression_alerts). Returns the pg_net request id, or null when the webhook is not configured.';

revoke execute on function benchwatch_private.send_alert_webhook(jsonb, text) from public, anon, authenticated;
grant execute on function benchwatch_private.send_alert_webhook(jsonb, text) to service_role;

-- Runs at COMMIT (deferred), once per inserted run until the first send.
-- Security definer because deferred triggers run as whoever commits, which is
-- not record_run's owner.
create or replace function benchwatch_private.tg_benchmark_transactions__notify_webhook()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
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
$$;

comment on function benchwatch_private.tg_benchmark_transactions__notify_webhook() is
  'Deferred trigger function: at commit, sends one alert webhook per transaction if the new run opened or resolved alerts whose delivery is pending.';

revoke execute on function benchwatch_private.tg_benchmark_transactions__notify_webhook() from public, anon, authenticated, service_role;

create constraint trigger benchmark_transactions_notify_webhook
  after insert on public.benchmark_transactions
  deferrable initially deferred
  for each row execute function benchwatch_private.tg_benchmark_transactions__notify_webhook();
