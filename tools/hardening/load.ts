// Tests 1 and 2: a 60-second ingest load from the real CLI (`benchwatch push`, retries on,
// one Idempotency-Key per push) while a fault is injected: PostgreSQL fast shutdown and
// start, or the function workers and then the whole gateway killed and restarted.
//
// The CLI reaches the gateway through a small proxy that also loses answers on purpose:
// every 8th successful ingest answer is replaced with a 504 after the run was stored, as a
// load balancer that times out does. The CLI retries those with the same key, so the
// idempotency guarantee is exercised on every run, not only when a fault happens to land
// between a commit and its answer.

import { up } from "../../local/stack/stack.ts";
import { startCluster, stopCluster } from "../../local/stack/postgres.ts";
import {
  capture,
  Checks,
  type Ctx,
  gatewayPid,
  type HardeningTest,
  type Outcome,
  sleep,
  workerPids,
} from "./lib.ts";

const LOOPS = 4;
const DURATION_MS = 60_000;
const DROP_EVERY = 8;

interface Push {
  key: string;
  model: string;
  commit: string;
  ok: boolean;
  transactionId?: string;
  retries: number;
  cliRuns: number;
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

async function cliPush(
  ctx: Ctx,
  proxyUrl: string,
  p: Push,
  dir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const input = `${dir}/${p.key}.json`;
  await Deno.writeTextFile(
    input,
    JSON.stringify({
      model_version: p.model,
      dataset_version: "load-set-v1",
      prompt_version: "load-prompt-v1",
      model_provider: "openai",
      metrics: { f1: 0.8 + Math.random() / 10, latency_ms: 400 + Math.random() * 20 },
    }),
  );
  const out = await new Deno.Command("node", {
    args: [
      `${ctx.stack.cfg.repoRoot}/cli/bin/benchwatch.mjs`,
      "push",
      "--input",
      input,
      "--environment",
      "hardening",
      "--commit-sha",
      p.commit,
      "--idempotency-key",
      p.key,
      "--url",
      proxyUrl,
      "--key",
      ctx.stack.keys.serviceRoleKey,
    ],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function loadWithFault(
  ctx: Ctx,
  tag: string,
  fault: (log: (s: string) => void) => Promise<void>,
): Promise<Outcome> {
  const checks = new Checks();
  const dir = await Deno.makeTempDir({ prefix: `bw-${tag}-` });
  const proxy = startProxy(ctx.stack.cfg.apiUrl);
  const pushes: Push[] = [];
  const faultLog: string[] = [];
  const started = Date.now();
  const runTag = `${tag}-${crypto.randomUUID().slice(0, 6)}`;

  const loop = async (i: number) => {
    for (let n = 0; Date.now() - started < DURATION_MS; n++) {
      const p: Push = {
        key: `hard-${runTag}-${i}-${n}`,
        model: `load-${runTag}-${i}`,
        commit: `c${n}`,
        ok: false,
        retries: 0,
        cliRuns: 0,
      };
      pushes.push(p);
      // A push that gives up is run again with the same key, as CI re-running the step would.
      while (!p.ok && p.cliRuns < 5) {
        const r = await cliPush(ctx, proxy.url, p, dir);
        p.cliRuns++;
        p.retries += (r.stderr.match(/, retrying for another \d+ s$/gm) ?? []).length;
        await capture(ctx, `${tag} push ${p.key}`, r.stdout + r.stderr);
        const m = r.stdout.match(/persisted successfully: ([0-9a-f-]{36})/);
        if (r.code === 0 && m) {
          p.ok = true;
          p.transactionId = m[1];
        }
      }
    }
  };
  const faultDone = fault((s) =>
    faultLog.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${s}`)
  );
  await Promise.all([...Array(LOOPS).keys()].map(loop));
  await faultDone;
  await proxy.server.shutdown();
  await Deno.remove(dir, { recursive: true });

  const rows = await ctx.sql<{ id: string; model_version: string; commit_sha: string }[]>`
    select id, model_version, commit_sha from public.benchmark_transactions
     where model_version like ${`load-${runTag}-%`}`;
  const byRun = new Map<string, string[]>();
  for (const r of rows) {
    const k = `${r.model_version}/${r.commit_sha}`;
    byRun.set(k, [...(byRun.get(k) ?? []), r.id]);
  }
  const acked = pushes.filter((p) => p.ok);
  const lost = acked.filter((p) =>
    !(byRun.get(`${p.model}/${p.commit}`) ?? []).includes(p.transactionId!)
  );
  const duplicates = [...byRun.values()].reduce((n, ids) => n + ids.length - 1, 0);
  const unacknowledgedStored =
    rows.filter((r) => !acked.some((p) => p.model === r.model_version && p.commit === r.commit_sha))
      .length;
  const failedThenRetried = pushes.filter((p) => p.retries > 0 || p.cliRuns > 1);

  checks.that(pushes.length >= 12, `only ${pushes.length} pushes ran in 60 s`);
  checks.that(
    acked.length === pushes.length,
    `${pushes.length - acked.length} pushes never succeeded`,
  );
  checks.that(lost.length === 0, `${lost.length} acknowledged runs are not stored`);
  checks.that(duplicates === 0, `${duplicates} duplicate rows`);
  checks.that(
    unacknowledgedStored === 0,
    `${unacknowledgedStored} stored runs were never acknowledged`,
  );
  checks.that(proxy.stats.dropped > 0, "the proxy dropped no answers");
  checks.that(
    proxy.stats.upstream5xx + proxy.stats.upstreamUnreachable > 0,
    "the fault caused no failed request: it was not injected under load",
  );
  return {
    failures: checks.failures,
    figures: {
      "load": `${LOOPS} concurrent \`benchwatch push\` loops for ${DURATION_MS / 1000} s`,
      "faults injected": faultLog.join("; "),
      "pushes (CLI invocations)": pushes.reduce((n, p) => n + p.cliRuns, 0),
      "ingest requests sent": proxy.stats.ingestRequests,
      "retries (same Idempotency-Key)": pushes.reduce((n, p) => n + p.retries, 0),
      "requests failed by the fault (5xx / unreachable)":
        `${proxy.stats.upstream5xx} / ${proxy.stats.upstreamUnreachable}`,
      "answers lost on purpose (504 after commit)": proxy.stats.dropped,
      "pushes that needed a retry, all retried to success": failedThenRetried.length,
      "acknowledged": acked.length,
      "lost": lost.length,
      "duplicates": duplicates,
    },
  };
}

export const dbRestart: HardeningTest = {
  name: "db-restart",
  title: "PostgreSQL fast shutdown and start under a 60 s CLI ingest load",
  async run(ctx) {
    return await loadWithFault(ctx, "db", async (log) => {
      await sleep(20_000);
      const t0 = Date.now();
      log("pg_ctl stop -m fast");
      await stopCluster(ctx.stack.cfg);
      await sleep(2_000);
      await startCluster(ctx.stack.cfg);
      log(
        `PostgreSQL accepting connections again (down ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
    });
  },
};

export const functionsRestart: HardeningTest = {
  name: "functions-restart",
  title: "Function workers and the gateway killed and restarted under a 60 s CLI ingest load",
  async run(ctx) {
    return await loadWithFault(ctx, "fn", async (log) => {
      await sleep(15_000);
      for (const round of [1, 2]) {
        const pid = (await workerPids(ctx)).get("ingest");
        if (pid) {
          Deno.kill(pid, "SIGKILL");
          log(
            `SIGKILL ingest worker (pid ${pid}, round ${round}); the gateway restarts it on the next request`,
          );
        }
        await sleep(7_000);
      }
      await sleep(5_000);
      const gw = await gatewayPid(ctx);
      const t0 = Date.now();
      Deno.kill(gw, "SIGKILL");
      log(`SIGKILL gateway (pid ${gw}) with all its workers`);
      await sleep(2_000);
      await up(ctx.stack.cfg.profile, { say: () => {} });
      log(`gateway serving again (down ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    });
  },
};
