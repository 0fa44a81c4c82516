// The soak (`--soak`, 10 minutes; `--soak-minutes N` to shorten it): a steady mixed load of
// ingest (service role and token), dashboard reads and alerts (a series regressing and
// recovering every 20 s). No request may fail, every alert must reach Slack once, and the
// memory of the function workers and of PostgreSQL must stay flat within 10% (the mean of
// the last minute against the first minute after warm-up).

import {
  BAD,
  Checks,
  type Ctx,
  distribution,
  GOOD,
  type HardeningTest,
  type Outcome,
  post,
  postgresPids,
  pssKiB,
  rssKiB,
  run,
  seriesWithBaseline,
  sinkMessages,
  sleep,
  workerPids,
} from "./lib.ts";

async function memory(ctx: Ctx): Promise<{ workers: number; postgres: number }> {
  const workers = [...(await workerPids(ctx)).values()].reduce((n, p) => n + rssKiB(p), 0);
  const postgres = (await postgresPids(ctx)).reduce((n, p) => n + pssKiB(p), 0);
  return { workers, postgres };
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

export const soak: HardeningTest = {
  name: "soak",
  title: "Soak: steady mixed load of ingest, reads and alerts",
  soak: true,
  async run(ctx): Promise<Outcome> {
    const checks = new Checks();
    const minutes = ctx.soakMinutes;
    const tag = crypto.randomUUID().slice(0, 6);
    const alertModel = `soak-${tag}-alerts`;
    await seriesWithBaseline(ctx, alertModel);
    const [tok] = await ctx.sql`select benchwatch_private.create_ingest_token('soak') as t`;
    ctx.secrets.set("ingest token (soak)", tok.t.token);
    const errors: string[] = [];
    const latencies: number[] = [];
    let ingests = 0, reads = 0, alertRuns = 0, n = 0;
    const samples: { t: number; workers: number; postgres: number }[] = [];
    const start = Date.now();
    const end = start + minutes * 60_000;
    const timed = async (what: string, f: () => Promise<number>, ok: number) => {
      const t = performance.now();
      try {
        const status = await f();
        if (status !== ok) errors.push(`${what}: ${status}`);
      } catch (e) {
        errors.push(`${what}: ${(e as Error).message}`);
      }
      latencies.push(performance.now() - t);
    };
    const sampler = setInterval(async () => {
      samples.push({ t: Date.now() - start, ...(await memory(ctx)) });
    }, 10_000);
    try {
      while (Date.now() < end) {
        const tick = Date.now();
        n++;
        // 10 ingests, 10 reads a second.
        const jobs: Promise<void>[] = [];
        for (let i = 0; i < 10; i++) {
          ingests++;
          jobs.push(
            timed("ingest", async () =>
              (await post(
                ctx,
                "ingest",
                run(`soak-${tag}-${i}`, `c${n}`, { f1: 0.8 + (n % 7) / 100 }),
                {
                  bearer: i % 2 ? tok.t.token : undefined,
                },
              )).status, 201),
          );
          reads++;
          const view = ["snapshot", "filters", "series", "stability"][i % 4];
          jobs.push(timed(`read ${view}`, async () => {
            const res = await fetch(
              `${ctx.stack.cfg.apiUrl}/functions/v1/benchmarks?view=${view}`,
              {
                headers: { authorization: `Bearer ${ctx.stack.keys.anonKey}` },
              },
            );
            await res.body?.cancel();
            return res.status;
          }, 200));
        }
        // Every 20 s the alert series regresses, then recovers.
        if (n % 20 === 0) {
          alertRuns++;
          jobs.push(
            timed(
              "alert run",
              async () =>
                (await post(ctx, "ingest", run(alertModel, `a${n}`, alertRuns % 2 ? BAD : GOOD)))
                  .status,
              201,
            ),
          );
        }
        await Promise.all(jobs);
        await sleep(Math.max(0, tick + 1000 - Date.now()));
      }
    } finally {
      clearInterval(sampler);
    }
    await sleep(5_000);
    const messages = (await sinkMessages(ctx)).filter((m) =>
      m.answered === "ok" && JSON.stringify(m.body).includes(alertModel)
    );
    const warm = samples.filter((s) => s.t >= 60_000 && s.t < 120_000);
    const last = samples.filter((s) => s.t >= minutes * 60_000 - 60_000);
    const growth = (k: "workers" | "postgres") =>
      warm.length && last.length
        ? mean(last.map((s) => s[k])) / mean(warm.map((s) => s[k])) - 1
        : NaN;
    const gw = growth("workers"), gp = growth("postgres");
    checks.that(
      errors.length === 0,
      `${errors.length} failed requests (${errors.slice(0, 3).join("; ")})`,
    );
    checks.that(
      messages.length === alertRuns,
      `${messages.length} Slack posts for ${alertRuns} alert runs`,
    );
    checks.that(Math.abs(gw) <= 0.1, `worker memory changed ${(gw * 100).toFixed(1)}%`);
    checks.that(Math.abs(gp) <= 0.1, `PostgreSQL memory changed ${(gp * 100).toFixed(1)}%`);
    const mib = (k: number) => `${(k / 1024).toFixed(0)} MiB`;
    return {
      failures: checks.failures,
      figures: {
        "duration": `${minutes} min`,
        "load":
          "10 ingests/s (half with an ingest token), 10 dashboard reads/s, an alert or recovery every 20 s",
        "ingests / reads / alert runs": `${ingests} / ${reads} / ${alertRuns}`,
        "failed requests": errors.length,
        "Slack posts for the alert series": messages.length,
        "latency": distribution(latencies, " ms", 0),
        "worker RSS, minute 2 → last minute": warm.length && last.length
          ? `${mib(mean(warm.map((s) => s.workers)))} → ${mib(mean(last.map((s) => s.workers)))} (${
            (gw * 100).toFixed(1)
          }%)`
          : "not enough samples",
        "PostgreSQL PSS, minute 2 → last minute": warm.length && last.length
          ? `${mib(mean(warm.map((s) => s.postgres)))} → ${
            mib(mean(last.map((s) => s.postgres)))
          } (${(gp * 100).toFixed(1)}%)`
          : "not enough samples",
      },
    };
  },
};
