// Single-run ingest under wrk, shared by the benchmark (`npm run bench`, its figure 2) and the
// hardening restart cases (`npm run test:hardening`, which calibrate their load with it on their
// own stack): 200 series are seeded and their baselines pinned, wrk warms up for 2 s, then
// `clients` connections POST a distinct run each (tools/bench/wrk.lua, mode "ingest") to
// /functions/v1/ingest for `seconds`.

import type postgres from "postgres";
import { wrk, type WrkResult } from "./measure.ts";

/** The six metrics every bench run carries; `jitter` stays within noise. */
export const GOOD_METRICS = (jitter = 0) => ({
  f1: 0.895 + jitter,
  precision: 0.9 + jitter,
  recall: 0.89 + jitter,
  accuracy: 0.91 + jitter,
  latency_ms: 412,
  analysis_cost: 0.0042,
});

/** How many series the single-run load spreads its runs over. */
export const SINGLE_RUN_SERIES = 200;

/** The series of wrk.lua's ingest mode: `<prefix>-m000` to `<prefix>-m199`. */
export function singleRunSeries(prefix: string, s: number) {
  return {
    model_version: `${prefix}-m${String(s).padStart(3, "0")}`,
    model_provider: "openai",
    dataset_version: "ds-1",
    prompt_version: "p1",
    environment: "bench",
  };
}

/**
 * A run as wrk.lua's ingest mode builds it (same series, fields and metrics), numbered n by the
 * caller, so another client (the hardening load) sends the same work per request.
 */
export function singleRunBody(prefix: string, n: number, ids: { commit: string; runId: string }) {
  const jitter = (n % 11) / 10000;
  return {
    ...singleRunSeries(prefix, (n * 7) % SINGLE_RUN_SERIES),
    commit_sha: ids.commit,
    run_id: ids.runId,
    branch_name: "main",
    triggered_by: "wrk",
    metrics: { ...GOOD_METRICS(jitter), latency_ms: 412 + n % 5, analysis_cost: 0.0042 },
  };
}

export interface SingleRunIngest extends WrkResult {
  series: number;
  runs_recorded: number;
}

/**
 * Seeds and pins the series of `prefix`, warms up, and measures single-run ingest under wrk.
 * `postBatch` records the seed runs (one batch) through the caller's own HTTP helper.
 */
export async function singleRunIngest(opts: {
  api: string;
  serviceKey: string;
  sql: postgres.Sql;
  prefix: string;
  clients: number;
  seconds: number;
  say: (s: string) => void;
  postBatch: (body: { runs: unknown[] }) => Promise<unknown>;
}): Promise<SingleRunIngest> {
  const { prefix, clients, say } = opts;
  const nSeries = SINGLE_RUN_SERIES;
  say(`single-run ingest: seeding and pinning ${nSeries} series`);
  await opts.postBatch({
    runs: Array.from({ length: nSeries }, (_, s) => ({
      ...singleRunSeries(prefix, s),
      commit_sha: `${prefix}-seed`,
      run_id: `${prefix}-seed-${s}`,
      metrics: GOOD_METRICS(),
    })),
  });
  await opts.sql`update public.benchmark_snapshots set is_baseline = true
                  where pinned_at is null and model_version like ${prefix + "-m%"}`;
  const url = `${opts.api}/functions/v1/ingest`;
  say("  warm-up (2 s, not measured)");
  await wrk(url, {
    seconds: 2,
    connections: clients,
    args: ["ingest", `${prefix}w`, String(nSeries), opts.serviceKey],
  });
  const before = await countRows(opts.sql);
  say(`  wrk: ${clients} connections, ${opts.seconds} s, each request a new run`);
  const w = await wrk(url, {
    seconds: opts.seconds,
    connections: clients,
    args: ["ingest", prefix, String(nSeries), opts.serviceKey],
  });
  const recorded = (await countRows(opts.sql)) - before;
  say(
    `  ingest: ${w.rps} runs/s, p50 ${w.p50_ms} ms, p95 ${w.p95_ms} ms, p99 ${w.p99_ms} ms; ` +
      `${recorded} runs recorded, ${w.non_2xx} non-2xx`,
  );
  return { ...w, series: nSeries, runs_recorded: recorded };
}

export async function countRows(sql: postgres.Sql): Promise<number> {
  const [r] = await sql`select count(*)::bigint as n from public.benchmark_transactions`;
  return Number(r.n);
}
