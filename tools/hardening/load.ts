// Tests 1 and 2: a fault injected under real ingest load: PostgreSQL fast shutdown and start,
// or the function workers and then the whole gateway killed and restarted.
//
// The load is sized against the machine as it is now. Just before each case, a 15 s calibration
// measures single-run ingest on this stack exactly as `npm run bench` does (tools/bench/single.ts:
// 200 pinned series, wrk with 16 connections, each request a new run); the case then runs 24
// concurrent single-run clients and fails unless the steady part before the fault reaches at
// least half of that throughput.
//
// Each client is a CI job pushing one run at a time through the CLI's own API client
// (cli/src/api.ts, the code `benchwatch push` runs): an Idempotency-Key per run, network errors,
// 429 and 5xx retried with backoff and jitter for push's default --retry-for of 2 minutes. A run
// whose client gives up is pushed again with the same key, as CI re-running the step would, up
// to three times; a run that never got an answer is counted as not acknowledged.
//
// The clients reach the gateway through a small proxy that also loses answers on purpose: every
// 8th successful ingest answer is replaced with a 504 after the run was stored, as a load
// balancer that times out does. The client retries those with the same key, so the idempotency
// guarantee is exercised all along, not only when a fault lands between a commit and its answer.

import { up } from "../../local/stack/stack.ts";
import { startCluster, stopCluster } from "../../local/stack/postgres.ts";
import { Api, DEFAULT_RETRY_FOR_MS } from "../../cli/src/api.ts";
import { loadAverage, ownCpuSeconds } from "../bench/measure.ts";
import { singleRunBody, singleRunIngest } from "../bench/single.ts";
import {
  account,
  backAt,
  type Disruption,
  perSecond,
  rate,
  type SentRun,
  splitLatencies,
} from "./recovery.ts";
import {
  capture,
  Checks,
  type Ctx,
  gatewayPid,
  type HardeningTest,
  type Outcome,
  percentile,
  post,
  sleep,
  workerPids,
} from "./lib.ts";

/** wrk connections in the calibration: the bench's 16. */
const CALIBRATION_CONNECTIONS = 16;
/**
 * Concurrent clients in the load. More than the calibration's 16: a client whose answer was lost
 * on purpose (one run in 8) sits out the CLI's backoff (0.25–0.5 s) before its retry, so about a
 * third of the clients are idle at any moment, where wrk's connections never wait.
 */
const LOAD_CLIENTS = 24;
const CALIBRATION_SECONDS = 15;
/** New runs are started for this long; runs still retrying then are waited for. */
const DURATION_MS = 45_000;
/** The first seconds of the load (connections, JIT) are not part of its steady rate. */
const WARMUP_MS = 3_000;
const DROP_EVERY = 8;
/** `benchwatch push` invocations per run at most (the step re-run by CI after a give-up). */
const CI_ATTEMPTS = 3;
/** The load must reach this share of the calibrated single-run throughput before the fault. */
const MIN_RATIO = 0.5;
/** Throughput is back once a 1 s window after the fault holds this share of the steady rate. */
const BACK_SHARE = 0.8;

export interface Calibration {
  /** The series the calibration seeded and pinned; the load sends its runs to them too. */
  prefix: string;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  runsRecorded: number;
  non2xx: number;
  loadAverage: number[];
}

/** Single-run ingest on this stack, measured just before each case. */
async function calibrate(ctx: Ctx): Promise<Calibration> {
  const prefix = `cal${Date.now().toString(36)}`;
  console.log(
    `  calibration: single-run ingest as \`npm run bench\` measures it (${CALIBRATION_SECONDS} s)`,
  );
  const w = await singleRunIngest({
    api: ctx.stack.cfg.apiUrl,
    serviceKey: ctx.stack.keys.serviceRoleKey,
    sql: ctx.sql,
    prefix,
    clients: CALIBRATION_CONNECTIONS,
    seconds: CALIBRATION_SECONDS,
    say: (s) => console.log(`    ${s}`),
    postBatch: async (body) => {
      const r = await post(ctx, "ingest", body);
      if (r.status !== 201) {
        throw new Error(`seeding the calibration series: ingest answered ${r.status}`);
      }
    },
  });
  if (w.non_2xx || w.socket_errors || w.runs_recorded < w.requests) {
    throw new Error(
      `the calibration was not clean (${w.non_2xx} non-2xx, ${w.socket_errors} socket errors, ` +
        `${w.runs_recorded} runs recorded for ${w.requests} requests): its throughput cannot size the load`,
    );
  }
  return {
    prefix,
    rps: w.rps,
    p50_ms: w.p50_ms,
    p99_ms: w.p99_ms,
    runsRecorded: w.runs_recorded,
    non2xx: w.non_2xx,
    loadAverage: await loadAverage(),
  };
}

interface ProxyStats {
  ingestRequests: number;
  upstream5xx: number;
  upstreamUnreachable: number;
  dropped: number;
}

/** Forwards to the gateway; every DROP_EVERY-th 201 from ingest is answered 504 instead. */
function startProxy(target: string): { url: string; stats: ProxyStats; server: Deno.HttpServer } {
  const stats: ProxyStats = {
    ingestRequests: 0,
    upstream5xx: 0,
    upstreamUnreachable: 0,
    dropped: 0,
  };
  let created = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const isIngest = url.pathname === "/functions/v1/ingest" && req.method === "POST";
    if (isIngest) stats.ingestRequests++;
    let res: Response;
    try {
      res = await fetch(`${target}${url.pathname}${url.search}`, {
        method: req.method,
        headers: req.headers,
        body: req.body,
      });
    } catch {
      stats.upstreamUnreachable++;
      return new Response('{"message":"upstream unreachable"}', { status: 502 });
    }
    const body = await res.arrayBuffer();
    if (res.status >= 500) stats.upstream5xx++;
    if (isIngest && res.status === 201 && ++created % DROP_EVERY === 0) {
      stats.dropped++;
      return new Response('{"message":"answer lost"}', { status: 504 });
    }
    return new Response(body, { status: res.status, headers: res.headers });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, stats, server };
}

/** One run pushed by one client; times in ms since the load started. */
interface Run {
  key: string;
  body: ReturnType<typeof singleRunBody>;
  startedAt: number;
  ackAt?: number;
  transactionId?: string;
  /** Retries inside the CLI's API client (same Idempotency-Key). */
  retries: number;
  /** CLI invocations (CI re-runs after a give-up). */
  attempts: number;
  lastError?: string;
}

interface FaultLog {
  /** Runs `action` and records it as a disruption from its start to its end. */
  disrupt(what: string, action: () => Promise<string | void>): Promise<void>;
}

/** Latency figures of runs (first try to acknowledgment, retries included). */
function latencyFigure(ms: number[]): string {
  if (!ms.length) return "no runs";
  const f = (v: number) => `${Math.round(v).toLocaleString("en-US")} ms`;
  return `p50 ${f(percentile(ms, 50))}, p95 ${f(percentile(ms, 95))}, max ${f(Math.max(...ms))} (${
    ms.length.toLocaleString("en-US")
  } runs)`;
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** A log's text from a byte offset on (what was written during the case). */
async function readFrom(path: string, offset: number): Promise<string> {
  const bytes = await Deno.readFile(path).catch(() => new Uint8Array());
  return new TextDecoder().decode(bytes.subarray(offset));
}

async function loadWithFault(
  ctx: Ctx,
  tag: string,
  fault: (f: FaultLog) => Promise<void>,
): Promise<Outcome> {
  const checks = new Checks();
  const cal = await calibrate(ctx);
  const gatewayLog = `${ctx.stack.cfg.logDir}/gateway.log`;
  const logFrom = await fileSize(gatewayLog);
  const proxy = startProxy(ctx.stack.cfg.apiUrl);
  const runs: Run[] = [];
  const disruptions: Disruption[] = [];
  const faultLog: string[] = [];
  const retryReasons = new Map<string, number>();
  const runTag = `${tag}-${crypto.randomUUID().slice(0, 6)}`;
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  let seq = 0;

  const client = async () => {
    while (now() < DURATION_MS) {
      const n = seq++;
      const run: Run = {
        key: `hard-${runTag}-${n}`,
        body: singleRunBody(cal.prefix, n, { commit: `${runTag}-c${n}`, runId: `${runTag}-r${n}` }),
        startedAt: now(),
        retries: 0,
        attempts: 0,
      };
      runs.push(run);
      while (run.ackAt === undefined && run.attempts < CI_ATTEMPTS) {
        run.attempts++;
        const api = new Api(
          { url: proxy.url, key: ctx.stack.keys.serviceRoleKey, keyKind: "service_role" },
          {
            retryForMs: DEFAULT_RETRY_FOR_MS,
            onRetry: ({ reason }) => {
              run.retries++;
              retryReasons.set(reason, (retryReasons.get(reason) ?? 0) + 1);
            },
          },
        );
        try {
          const answer = await api.call<{ transaction_id: string }>("ingest", {
            body: run.body,
            headers: { "Idempotency-Key": run.key },
          });
          run.ackAt = now();
          run.transactionId = answer.transaction_id;
        } catch (e) {
          run.lastError = (e as Error).message;
        }
      }
    }
  };
  const faultDone = fault({
    async disrupt(what, action) {
      const start = now();
      const said = await action();
      const end = now();
      disruptions.push({ what, start, end });
      faultLog.push(`${secs(start)}–${secs(end)}: ${what}${said ? ` (${said})` : ""}`);
    },
  });
  const cpuBefore = ownCpuSeconds();
  await Promise.all(Array.from({ length: LOAD_CLIENTS }, client));
  const loadCpu = ownCpuSeconds() - cpuBefore;
  await faultDone;
  const loadEnd = now();
  await proxy.server.shutdown();
  // A worker that exits is restarted by the gateway on the next request; the killed ones are
  // the fault itself, any other is a crash under the fault.
  const exits =
    ((await readFrom(gatewayLog, logFrom)).match(/function ingest exited \(code \d+\)/g) ??
      []).map((m) => m.match(/\d+/)![0]);

  // Every stored run of this load, by run identity (series, commit, run id; the metrics of a run
  // are the same on every try).
  const rows = await ctx.sql<{ id: string; identity: string }[]>`
    select id::text, concat_ws('/', model_version, model_provider, dataset_version,
                               prompt_version, environment, commit_sha, run_id) as identity
      from public.benchmark_transactions
     where model_version like ${`${cal.prefix}-m%`} and run_id like ${`${runTag}-r%`}`;
  const sent: SentRun[] = runs.map((r) => ({
    identity: [
      r.body.model_version,
      r.body.model_provider,
      r.body.dataset_version,
      r.body.prompt_version,
      r.body.environment,
      r.body.commit_sha,
      r.body.run_id,
    ].join("/"),
    startedAt: r.startedAt,
    ackAt: r.ackAt,
    transactionId: r.transactionId,
  }));
  const n = account(sent, rows);
  const notAcked = runs.filter((r) => r.ackAt === undefined);

  // The steady part: after the warm-up, before the first disruption.
  const acks = sent.flatMap((r) => r.ackAt === undefined ? [] : [r.ackAt]).sort((a, b) => a - b);
  const firstFault = disruptions.length ? disruptions[0].start : loadEnd;
  const steadyMs = firstFault - WARMUP_MS;
  const steadyPerS = rate(acks, WARMUP_MS, firstFault);
  const ratio = steadyPerS / cal.rps;
  const windows = disruptions.map((d) => ({
    ...d,
    back: backAt(acks, d, steadyPerS, BACK_SHARE),
  }));
  const latencies = splitLatencies(sent, windows, WARMUP_MS);
  const retried = runs.filter((r) => r.retries > 0 || r.attempts > 1);

  // Every run's timeline, for a closer look than the figures give (not tracked).
  await Deno.writeTextFile(
    `${ctx.stack.cfg.logDir}/hardening-${tag}-runs.json`,
    JSON.stringify({
      columns: ["started_ms", "acknowledged_ms", "retries", "pushes", "last_error"],
      disruptions: windows,
      runs: runs.map((r) => [r.startedAt, r.ackAt ?? null, r.retries, r.attempts, r.lastError]),
    }),
  );
  await capture(
    ctx,
    `${tag} load`,
    [
      ...[...retryReasons].map(([reason, n]) => `retry ×${n}: ${reason}`),
      ...notAcked.map((r) => `not acknowledged ${r.key}: ${r.lastError}`),
    ].join("\n"),
  );

  const figures = `calibration ${cal.rps} runs/s, steady load ${
    steadyPerS.toFixed(1)
  } runs/s (ratio ${ratio.toFixed(2)})`;
  checks.that(
    steadyMs > 5_000,
    `the fault came ${secs(firstFault)} into the load: too early for a steady rate`,
  );
  checks.that(
    ratio >= MIN_RATIO,
    `the load before the fault reached ${steadyPerS.toFixed(1)} runs/s, ${
      ratio.toFixed(2)
    } of the ${cal.rps} runs/s single-run ingest measured by the calibration (needs ≥ ${MIN_RATIO}): ` +
      `the fault was not injected under real load (${LOAD_CLIENTS} clients; is the machine overloaded? uptime)`,
  );
  checks.that(
    n.notAcknowledged === 0,
    `${n.notAcknowledged} of ${n.sent} runs were never acknowledged after ${CI_ATTEMPTS} pushes (${figures})`,
  );
  checks.that(
    n.lost === 0,
    `${n.lost} acknowledged runs are not stored under their transaction id (${figures})`,
  );
  checks.that(
    n.duplicated === 0,
    `${n.duplicated} runs are stored more than once (more than one row per run identity; ${figures})`,
  );
  checks.that(
    n.storedNotAcknowledged === 0,
    `${n.storedNotAcknowledged} stored runs were never acknowledged`,
  );
  checks.that(proxy.stats.dropped > 0, "the proxy dropped no answers");
  checks.that(
    proxy.stats.upstream5xx + proxy.stats.upstreamUnreachable > 0,
    "the fault caused no failed request: it was not injected under load",
  );
  return {
    failures: checks.failures,
    figures: {
      "load": `${LOAD_CLIENTS} concurrent single-run clients (the CLI's API client, retries on, ` +
        `one Idempotency-Key per run) for ${DURATION_MS / 1000} s`,
      "calibration (single-run ingest, as the bench)":
        `${cal.rps} runs/s, p50 ${cal.p50_ms} ms, p99 ${cal.p99_ms} ms (wrk, ${CALIBRATION_CONNECTIONS} connections, ` +
        `${CALIBRATION_SECONDS} s, ${cal.runsRecorded.toLocaleString("en-US")} runs recorded; ` +
        `load average ${cal.loadAverage.join(" ")})`,
      "steady load before the fault": `${steadyPerS.toFixed(1)} runs/s over ${secs(steadyMs)}`,
      "load generator's own CPU (clients and proxy, in this process)": `${
        loadCpu.toFixed(1)
      } s over ${secs(loadEnd)} (${Math.round((loadCpu / (loadEnd / 1000)) * 100)}% of one core)`,
      "achieved ratio to the calibration": ratio.toFixed(2),
      "faults injected": faultLog.join("; "),
      "throughput back (≥ 0.8 of steady over 1 s)": windows.map((w) =>
        w.back === undefined
          ? `not back by the end of the load (${secs(loadEnd)}) after ${w.what}`
          : `${secs(w.back)} (${secs(w.back - w.start)} after the fault)`
      ).join("; "),
      "runs acknowledged per second": perSecond(acks, loadEnd).join(" "),
      "ingest worker exits (gateway log)": exits.length
        ? `${exits.length} (exit codes ${exits.join(", ")})`
        : 0,
      "runs sent": n.sent,
      "ingest requests sent": proxy.stats.ingestRequests,
      "requests failed by the fault (5xx / unreachable)":
        `${proxy.stats.upstream5xx} / ${proxy.stats.upstreamUnreachable}`,
      "answers lost on purpose (504 after commit)": proxy.stats.dropped,
      "retries (same Idempotency-Key)": runs.reduce((n, r) => n + r.retries, 0),
      "runs that needed a retry": retried.length,
      "acknowledged": n.acknowledged,
      "not acknowledged": n.notAcknowledged,
      "lost": n.lost,
      "duplicated": n.duplicated,
      "ingest latency during recovery (first try to answer)": latencyFigure(latencies.recovery),
      "ingest latency outside recovery": latencyFigure(latencies.outside),
    },
  };
}

export const dbRestart: HardeningTest = {
  name: "db-restart",
  title: "PostgreSQL fast shutdown and start under single-run ingest at ≥ 50% of its throughput",
  async run(ctx) {
    return await loadWithFault(ctx, "db", async (f) => {
      await sleep(15_000);
      await f.disrupt("pg_ctl stop -m fast, 2 s down, pg_ctl start", async () => {
        const t = Date.now();
        await stopCluster(ctx.stack.cfg);
        const stopped = Date.now();
        await sleep(2_000);
        const started = Date.now();
        await startCluster(ctx.stack.cfg);
        return `stop took ${((stopped - t) / 1000).toFixed(1)} s, start ${
          ((Date.now() - started) / 1000).toFixed(1)
        } s`;
      });
    });
  },
};

export const functionsRestart: HardeningTest = {
  name: "functions-restart",
  title:
    "Function workers and the gateway killed and restarted under single-run ingest at ≥ 50% of its throughput",
  async run(ctx) {
    return await loadWithFault(ctx, "fn", async (f) => {
      await sleep(12_000);
      for (const round of [1, 2]) {
        await f.disrupt(`SIGKILL ingest worker (round ${round})`, async () => {
          const pid = (await workerPids(ctx)).get("ingest");
          if (!pid) return "no ingest worker was running";
          Deno.kill(pid, "SIGKILL");
          return `pid ${pid}; the gateway starts a new one on the next request`;
        });
        await sleep(6_000);
      }
      await f.disrupt("SIGKILL gateway with all its workers, 2 s down, stack up", async () => {
        const gw = await gatewayPid(ctx);
        Deno.kill(gw, "SIGKILL");
        await sleep(2_000);
        await up(ctx.stack.cfg.profile, { say: () => {} });
        return `pid ${gw}`;
      });
    });
  },
};
