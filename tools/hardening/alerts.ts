// Tests 3 and 4: alert delivery survives a Slack outage and the loss of pg_net's queue.
//
// Stand-ins, said in RELIABILITY.md too: pg_cron's minute tick is stood in for by calling
// sweep_alert_deliveries('0 seconds') every 10 s (the real job also keeps running), and after
// the outage the backoff of failed events (30 s doubling) is waited out by moving their
// next_attempt_at to now. Leases (60 s) are left to lapse on their own.

import {
  BAD,
  Checks,
  clearSink,
  type Ctx,
  distribution,
  gatewayPid,
  type HardeningTest,
  type Outcome,
  post,
  run,
  seriesWithBaseline,
  setSink,
  type SinkMessage,
  sinkMessages,
  sleep,
  sweepNow,
} from "./lib.ts";

const OUTAGE_MS = Number(Deno.env.get("BENCHWATCH_HARDENING_OUTAGE_S") ?? 120) * 1000;
const RUNS = 50;

function okMessagesFor(messages: SinkMessage[], model: string): SinkMessage[] {
  // Model names are zero-padded, so none is a prefix of another.
  return messages.filter((m) => m.answered === "ok" && JSON.stringify(m.body).includes(model));
}

/** Waits until every model has an "ok" message, sweeping every 10 s; returns the messages. */
async function awaitDelivery(
  ctx: Ctx,
  models: string[],
  timeoutMs: number,
  onTick: () => Promise<unknown> = async () => {},
): Promise<SinkMessage[]> {
  const deadline = Date.now() + timeoutMs;
  let lastSweep = 0;
  while (true) {
    const all = await sinkMessages(ctx);
    if (models.every((m) => okMessagesFor(all, m).length > 0) || Date.now() > deadline) {
      await sleep(3_000); // room for a late duplicate to show up
      return await sinkMessages(ctx);
    }
    if (Date.now() - lastSweep > 10_000) {
      lastSweep = Date.now();
      await onTick();
      await sweepNow(ctx);
    }
    await sleep(1_000);
  }
}

function exactlyOnce(
  checks: Checks,
  messages: SinkMessage[],
  models: string[],
): { delivered: number; duplicates: number; lost: number } {
  let delivered = 0, duplicates = 0, lost = 0;
  for (const m of models) {
    const n = okMessagesFor(messages, m).length;
    if (n === 0) lost++;
    else delivered++;
    duplicates += Math.max(0, n - 1);
  }
  checks.that(lost === 0, `${lost} of ${models.length} alerts never reached Slack`);
  checks.that(duplicates === 0, `${duplicates} duplicate Slack posts`);
  return { delivered, duplicates, lost };
}

export const slackOutage: HardeningTest = {
  name: "slack-outage",
  title: `Slack answers 500 and then times out for ${
    OUTAGE_MS / 1000
  } s while ${RUNS} runs regress`,
  async run(ctx): Promise<Outcome> {
    const checks = new Checks();
    const tag = crypto.randomUUID().slice(0, 6);
    const models = [...Array(RUNS).keys()].map((i) =>
      `outage-${tag}-${String(i).padStart(3, "0")}`
    );
    for (const m of models) await seriesWithBaseline(ctx, m);
    await setSink(ctx, "ok");
    await clearSink(ctx);

    const started = Date.now();
    await setSink(ctx, "error_500");
    let phase = "error_500";
    const acked = new Map<string, number>();
    let sweeps = 0;
    const ticker = setInterval(() => {
      sweeps++;
      void sweepNow(ctx).catch(() => {});
    }, 10_000);
    const spacing = (OUTAGE_MS * 0.6) / RUNS;
    try {
      for (let i = 0; i < RUNS; i++) {
        if (phase === "error_500" && Date.now() - started > OUTAGE_MS / 2) {
          await setSink(ctx, "timeout");
          phase = "timeout";
        }
        const res = await post(ctx, "ingest", run(models[i], "regressed", BAD));
        checks.that(res.status === 201 && res.body.regression === true, `run ${i}: ${res.status}`);
        acked.set(models[i], Date.now());
        await sleep(Math.max(0, started + (i + 1) * spacing - Date.now()));
      }
      while (Date.now() - started < OUTAGE_MS) {
        if (phase === "error_500" && Date.now() - started > OUTAGE_MS / 2) {
          await setSink(ctx, "timeout");
          phase = "timeout";
        }
        await sleep(500);
      }
    } finally {
      clearInterval(ticker);
    }
    const during = await sinkMessages(ctx);
    const failedPosts = during.filter((m) => m.answered !== "ok").length;
    const okDuring = during.filter((m) => m.answered === "ok").length;
    checks.that(okDuring === 0, `${okDuring} posts succeeded during the outage`);

    await setSink(ctx, "ok");
    const recovered = Date.now();
    // Waiting out the backoff, at each tick: a post that was already timing out when Slack
    // recovered fails a few seconds later and backs off again.
    let moved = 0;
    const skipBackoff = async () => {
      const [m] = await ctx.sql`
        with m as (
          update public.regression_alerts set opened_next_attempt_at = now()
           where model_version like ${`outage-${tag}-%`} and opened_delivery_status = 'failed'
             and opened_next_attempt_at > now()
          returning 1)
        select count(*)::int as n from m`;
      moved += m.n;
    };
    const messages = await awaitDelivery(ctx, models, 150_000, skipBackoff);
    const counts = exactlyOnce(checks, messages, models);

    const delays: number[] = [];
    const afterRecovery: number[] = [];
    for (const m of models) {
      const first = okMessagesFor(messages, m)[0];
      if (!first) continue;
      const at = Date.parse(first.received_at);
      delays.push((at - acked.get(m)!) / 1000);
      afterRecovery.push((at - recovered) / 1000);
    }
    const [state] = await ctx.sql`
      select count(*) filter (where opened_delivery_status = 'sent')::int as sent,
             count(*)::int as alerts, max(opened_delivery_attempts)::int as max_attempts
        from public.regression_alerts where model_version like ${`outage-${tag}-%`}`;
    checks.that(state.sent === state.alerts, `${state.alerts - state.sent} alerts not marked sent`);
    return {
      failures: checks.failures,
      figures: {
        "outage": `${OUTAGE_MS / 2000} s of HTTP 500, then ${OUTAGE_MS / 2000} s of timeouts`,
        "regressing runs landed during the outage": acked.size,
        "alert rows (one per regressed metric)": state.alerts,
        "failed Slack posts during the outage": failedPosts,
        "sweeps run by the stand-in tick (every 10 s)": sweeps,
        "backoffs waited out by moving next_attempt_at": moved,
        "max delivery attempts of one alert": state.max_attempts,
        "runs whose alert reached Slack": `${counts.delivered} of ${RUNS}`,
        "alerts lost": counts.lost,
        "duplicate Slack posts": counts.duplicates,
        "delivery delay after the run landed": distribution(delays, " s"),
        "delivery delay after Slack recovered": distribution(afterRecovery, " s"),
      },
    };
  },
};

export const queueWiped: HardeningTest = {
  name: "queue-wiped",
  title: "net.http_request_queue wiped with webhooks in flight; the sweeper delivers everything",
  async run(ctx): Promise<Outcome> {
    const checks = new Checks();
    const tag = crypto.randomUUID().slice(0, 6);
    const models = [...Array(10).keys()].map((i) => `wipe-${tag}-${String(i).padStart(3, "0")}`);
    for (const m of models) await seriesWithBaseline(ctx, m);
    await setSink(ctx, "ok");
    await clearSink(ctx);

    // Freeze the relay (it lives in the gateway), so the webhooks stay queued, as pg_net's
    // worker holds them until it sends them.
    const gw = await gatewayPid(ctx);
    Deno.kill(gw, "SIGSTOP");
    let queued = 0, wiped = 0;
    try {
      for (const m of models) {
        await ctx.sql`select benchwatch_private.ingest_runs(${
          ctx.sql.json([
            run(m, "regressed", BAD),
          ] as never)
        }, null)`;
      }
      const [q] = await ctx.sql`select count(*)::int as n from net.http_request_queue`;
      queued = q.n;
      const w = await ctx.sql`delete from net.http_request_queue returning id`;
      wiped = w.length;
    } finally {
      Deno.kill(gw, "SIGCONT");
    }
    await sleep(3_000);
    const beforeSweep = (await sinkMessages(ctx)).filter((m) => m.answered === "ok").length;
    checks.that(queued >= models.length, `only ${queued} webhooks were queued`);
    checks.that(beforeSweep === 0, `${beforeSweep} posts arrived although the queue was wiped`);

    const t0 = Date.now();
    const messages = await awaitDelivery(ctx, models, 60_000);
    const counts = exactlyOnce(checks, messages, models);
    return {
      failures: checks.failures,
      figures: {
        "runs recorded with the relay frozen": models.length,
        "webhooks wiped from net.http_request_queue": wiped,
        "posts before the sweeper ran": beforeSweep,
        "runs whose alert reached Slack after the sweep": `${counts.delivered} of ${models.length}`,
        "alerts lost": counts.lost,
        "duplicate Slack posts": counts.duplicates,
        "time from first sweep to last delivery": `${((Date.now() - t0) / 1000 - 3).toFixed(1)} s`,
      },
    };
  },
};
