// The mixed load of `npm run bench`: the read API timed as the read phase times it (same endpoints,
// same client) while single-run ingest runs at a paced share of the single-run throughput measured
// earlier in the same run: a dashboard open during a CI burst.
//
// The ingest is open loop, in a worker thread (tools/bench/paced.ts) so that its answers never
// delay the reads' own timing: run n starts at t0 + n / rate whatever the answers do, at most
// MAX_IN_FLIGHT pending (a start that waits for a free slot shows as schedule lag), each a new run
// of the single-run phase's series (tools/bench/single.ts), posted with the CLI's API client
// (cli/src/api.ts, what `benchwatch push` runs) with retries off, so a failure is counted, not
// hidden. The reads run on this thread one at a time, round-robin over the endpoints, so every
// endpoint sees the same load.

import { type Latency, latency, loadAverage, ownCpuSeconds } from "./measure.ts";
import { rate } from "../hardening/recovery.ts";

/** The share of the measured single-run throughput the ingest is paced at (Done-when 6: ≥ 0.5). */
export const MIX_SHARE = 0.58;
/** Pending ingest requests at most: twice the 16 connections that measured the throughput. */
export const MAX_IN_FLIGHT = 32;
/** Ingest runs alone this long before the reads start (connections, JIT, the rate settling). */
const WARMUP_MS = 3_000;
const PROGRESS_MS = 5_000;

/** Epoch milliseconds, comparable between this thread and the worker's. */
export const clock = (): number => performance.timeOrigin + performance.now();

/** What the worker is told to send. */
export interface PaceStart {
  api: string;
  serviceKey: string;
  /** The single-run phase's series prefix (pinned baselines). */
  prefix: string;
  /** Commit and run id prefix of this load's runs, so none is a replay. */
  idPrefix: string;
  perSecond: number;
  maxInFlight: number;
}

/** One paced ingest request, in epoch ms. */
export interface PacedRequest {
  /** When the schedule wanted it sent. */
  due: number;
  sentAt: number;
  /** When its answer (or failure) came; undefined if still pending at the end. */
  doneAt?: number;
  ok: boolean;
  error?: string;
}

/** Worker → main thread messages. */
export type PaceMessage =
  | { progress: { sent: number; ok: number; failed: number } }
  | { requests: PacedRequest[] };

const r1 = (x: number) => Math.round(x * 10) / 10;

export interface IngestDuringMix {
  target_runs_per_s: number;
  measured_single_run_rps: number;
  achieved_runs_per_s: number;
  /** Achieved rate over the single-run throughput measured earlier in the same run. */
  ratio_to_single_run: number;
  sent: number;
  answered_201: number;
  failed: number;
  failures: string[];
  /** Send to answer, of the requests sent while the reads ran. */
  latency: Latency;
  /** Due (per the schedule) to answer: includes any wait for a free slot. */
  latency_from_schedule: Latency;
  schedule_lag_p99_ms: number;
}

/**
 * The paced ingest over the reads' window [from, to): the rate of successful answers in it, its
 * ratio to the measured throughput, and the latency of the requests sent in it.
 */
export function summarizeIngest(
  requests: PacedRequest[],
  window: { from: number; to: number },
  opts: { targetPerSecond: number; measuredRps: number },
): IngestDuringMix {
  const acks = requests.filter((r) => r.ok).map((r) => r.doneAt!);
  const achieved = rate(acks, window.from, window.to);
  const inWindow = requests.filter((r) => r.ok && r.sentAt >= window.from && r.sentAt < window.to);
  const failed = requests.filter((r) => !r.ok);
  return {
    target_runs_per_s: r1(opts.targetPerSecond),
    measured_single_run_rps: opts.measuredRps,
    achieved_runs_per_s: r1(achieved),
    ratio_to_single_run: Math.round((achieved / opts.measuredRps) * 1000) / 1000,
    sent: requests.length,
    answered_201: requests.length - failed.length,
    failed: failed.length,
    failures: [...new Set(failed.map((r) => r.error ?? "no answer by the end of the load"))]
      .slice(0, 5),
    latency: latency(inWindow.map((r) => r.doneAt! - r.sentAt)),
    latency_from_schedule: latency(inWindow.map((r) => r.doneAt! - r.due)),
    schedule_lag_p99_ms: latency(requests.map((r) => r.sentAt - r.due)).p99_ms,
  };
}

/**
 * Times `get` on every endpoint in turn, one request at a time, after one untimed round, until
 * every endpoint has `samples` latencies and `minMs` have passed, or `boxMs` are spent (after at
 * least 20 rounds).
 */
export async function roundRobinReads(opts: {
  endpoints: Record<string, string>;
  get: (path: string) => Promise<ArrayBuffer>;
  samples: number;
  minMs: number;
  boxMs: number;
  onRound?: (round: number) => void;
}): Promise<Record<string, number[]>> {
  const ms: Record<string, number[]> = {};
  for (const name of Object.keys(opts.endpoints)) ms[name] = [];
  const start = performance.now();
  for (let round = -1;; round++) {
    for (const [name, path] of Object.entries(opts.endpoints)) {
      const t = performance.now();
      await opts.get(path);
      if (round >= 0) ms[name].push(performance.now() - t);
    }
    opts.onRound?.(round);
    const elapsed = performance.now() - start;
    if (round + 1 >= opts.samples && elapsed >= opts.minMs) break;
    if (round + 1 >= 20 && elapsed >= opts.boxMs) break;
  }
  return ms;
}

export interface MixedLoad {
  rows: number;
  share_planned: number;
  max_in_flight: number;
  warmup_s: number;
  reads_seconds: number;
  reads: Record<string, Latency & { unloaded_p50_ms?: number; unloaded_p95_ms?: number }>;
  ingest: IngestDuringMix;
  /** CPU of this process (the reads' client and the ingest worker) over the reads, in cores. */
  generator_cpu_cores: number;
  load_average_before: number[];
  load_average_after: number[];
}

/** The mixed phase: paced single-run ingest in a worker, the reads timed meanwhile. */
export async function mixedLoad(opts: {
  api: string;
  serviceKey: string;
  /** The single-run phase's series prefix. */
  prefix: string;
  tag: string;
  rows: number;
  /** Single-run ingest throughput measured earlier in this run (runs/s). */
  singleRunRps: number;
  endpoints: Record<string, string>;
  get: (path: string) => Promise<ArrayBuffer>;
  /** The same endpoints' latencies without load, from the read phase of this run. */
  unloaded: Record<string, Latency | undefined>;
  samples: number;
  minSeconds: number;
  boxSeconds: number;
  say: (s: string) => void;
}): Promise<MixedLoad> {
  const { say } = opts;
  const perSecond = MIX_SHARE * opts.singleRunRps;
  const loadBefore = await loadAverage();
  say(
    `mixed load at ${opts.rows} rows: single-run ingest paced at ${perSecond.toFixed(1)} runs/s ` +
      `(${
        Math.round(MIX_SHARE * 100)
      }% of the ${opts.singleRunRps} runs/s measured above, open loop, ` +
      `≤ ${MAX_IN_FLIGHT} in flight), the read API timed meanwhile; load average ${
        loadBefore.join(" ")
      }`,
  );
  const worker = new Worker(new URL("./paced.ts", import.meta.url).href, { type: "module" });
  const finished = new Promise<PacedRequest[]>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<PaceMessage>) => {
      if ("requests" in e.data) resolve(e.data.requests);
      else {
        const p = e.data.progress;
        say(`  ingest so far: ${p.sent} sent, ${p.ok} answered 201, ${p.failed} failed`);
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`The paced ingest worker failed: ${e.message}`));
    };
  });
  const start: PaceStart = {
    api: opts.api,
    serviceKey: opts.serviceKey,
    prefix: opts.prefix,
    idPrefix: `mx${opts.tag}`,
    perSecond,
    maxInFlight: MAX_IN_FLIGHT,
  };
  let from = 0;
  let to = 0;
  let cpuFrom = 0;
  let cpu = 0;
  let ms: Record<string, number[]>;
  try {
    worker.postMessage({ start, progressMs: PROGRESS_MS });
    await Promise.race([new Promise((r) => setTimeout(r, WARMUP_MS)), finished]);
    say(
      `  reads: ${
        Object.keys(opts.endpoints).join(", ")
      } in turn, one at a time, ≥ ${opts.samples} each and ≥ ${opts.minSeconds} s`,
    );
    from = clock();
    cpuFrom = ownCpuSeconds();
    ms = await roundRobinReads({
      endpoints: opts.endpoints,
      get: opts.get,
      samples: opts.samples,
      minMs: opts.minSeconds * 1000,
      boxMs: opts.boxSeconds * 1000,
    });
    to = clock();
    cpu = ownCpuSeconds() - cpuFrom;
    worker.postMessage({ stop: true });
  } catch (e) {
    worker.terminate();
    throw e;
  }
  const requests = await finished;
  worker.terminate();
  const ingest = summarizeIngest(requests, { from, to }, {
    targetPerSecond: perSecond,
    measuredRps: opts.singleRunRps,
  });
  const reads: MixedLoad["reads"] = {};
  for (const [name, samples] of Object.entries(ms)) {
    const u = opts.unloaded[name];
    reads[name] = { ...latency(samples), unloaded_p50_ms: u?.p50_ms, unloaded_p95_ms: u?.p95_ms };
    say(
      `  read ${name} under load: p50 ${reads[name].p50_ms} ms, p95 ${reads[name].p95_ms} ms ` +
        `(${samples.length} reads; without load p95 ${u?.p95_ms ?? "n/a"} ms)`,
    );
  }
  say(
    `  ingest during the reads: ${ingest.achieved_runs_per_s} runs/s = ` +
      `${(ingest.ratio_to_single_run * 100).toFixed(1)}% of ${opts.singleRunRps} runs/s ` +
      `(paced at ${ingest.target_runs_per_s}); p50 ${ingest.latency.p50_ms} ms, ` +
      `p99 ${ingest.latency.p99_ms} ms; ${ingest.sent} sent, ${ingest.failed} failed`,
  );
  const generatorCpu = Math.round((cpu / ((to - from) / 1000)) * 1000) / 1000;
  say(`  the bench process's own CPU meanwhile: ${(generatorCpu * 100).toFixed(0)}% of one core`);
  return {
    rows: opts.rows,
    share_planned: MIX_SHARE,
    max_in_flight: MAX_IN_FLIGHT,
    warmup_s: WARMUP_MS / 1000,
    reads_seconds: Math.round((to - from) / 100) / 10,
    reads,
    ingest,
    generator_cpu_cores: generatorCpu,
    load_average_before: loadBefore,
    load_average_after: await loadAverage(),
  };
}
