// Guarantees the runner can break on purpose (`--break <name>`), on its own throwaway stack
// only, to show that the test guarding each one fails. Nothing here touches a file.

import type { Ctx } from "./lib.ts";

export const BREAKS: Record<string, { what: string; sql: string }> = {
  idempotency: {
    what:
      "every run identity (Idempotency-Key or run identity) is forgotten once its answer is stored, so a retry stores again",
    // The identity is renamed to random bytes right after record_runs stores the run's answer
    // with it (step 9), so the run is answered as usual but a retry finds no identity.
    sql: `
      create function benchwatch_private.hardening_break_identity() returns trigger
      language plpgsql as $$ begin
        update benchwatch_private.run_identities set identity_hash = extensions.gen_random_bytes(32)
         where identity_hash = new.identity_hash;
        return null; end $$;
      create trigger hardening_break_identity after update of response on benchwatch_private.run_identities
        for each row execute function benchwatch_private.hardening_break_identity();`,
  },
  "run-identity": {
    what:
      "a run sent with an Idempotency-Key is identified by the key alone again (as before run identities), so a copy under a new key stores again",
    sql: `
      create or replace function benchwatch_private.parse_run(p_run jsonb, p_idempotency_key text)
      returns benchwatch_private.run_input language sql volatile set search_path = '' as $$
        select benchwatch_private.parse_run_fields(p_run, p_idempotency_key) $$;`,
  },
  sweeper: {
    what: "the pg_cron sweeper is unscheduled and sweep_alert_deliveries does nothing",
    sql: `
      select cron.unschedule('sweep-alert-deliveries');
      create or replace function benchwatch_private.sweep_alert_deliveries(p_min_age interval default interval '30 seconds')
      returns integer language sql security definer set search_path = '' as $$ select 0 $$;`,
  },
  "delivery-dedupe": {
    what: "complete_alert_events no longer records a sent event, so every sweep posts it again",
    sql: `
      create or replace function benchwatch_private.complete_alert_events(
        p_alert_ids uuid[], p_kind text, p_outcome text, p_error text default null, p_http_status integer default null)
      returns void language sql security definer set search_path = '' as $$
        update public.regression_alerts set opened_claimed_until = null where id = any (p_alert_ids) $$;`,
  },
  "anon-grant": {
    what: "anon is granted insert on benchmark_transactions, with an RLS policy letting it in",
    sql: `
      grant insert on public.benchmark_transactions to anon;
      create policy hardening_break on public.benchmark_transactions for insert to anon
        with check (true);`,
  },
};

export async function applyBreak(ctx: Ctx, name: string): Promise<void> {
  await ctx.sql.unsafe(BREAKS[name].sql);
}
