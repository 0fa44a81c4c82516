// Measurement helpers for the benchmark: percentiles, wrk and pgbench runners, and a
// sampler of the resident memory of the gateway, the function workers and PostgreSQL.

import { run } from "../../local/stack/proc.ts";

export const PG_BIN = Deno.env.get("BENCHWATCH_PG_BIN") || "/usr/lib/postgresql/15/bin";
const HERE = new URL(".", import.meta.url).pathname;

export interface Latency {
  n: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Nearest-rank percentiles of latencies in milliseconds. */
export function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : NaN;
  return {
    n: s.length,
    p50_ms: r2(at(0.5)),
    p95_ms: r2(at(0.95)),
    p99_ms: r2(at(0.99)),
    max_ms: r2(s[s.length - 1] ?? NaN),
    mean_ms: r2(s.reduce((a, b) => a + b, 0) / (s.length || 1)),
  };
}

export interface WrkResult {
  connections: number;
  threads: number;
  seconds: number;
  requests: number;
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  non_2xx: number;
  socket_errors: number;
}

/** Runs wrk with tools/bench/wrk.lua and parses its machine-readable summary line. */
export async function wrk(
  url: string,
  opts: { seconds: number; connections: number; threads?: number; args?: string[] },
): Promise<WrkResult> {
  const threads = opts.threads ?? 2;
  const res = await run([
    "wrk",
    `-t${threads}`,
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    "--timeout",
    "10s",
    "-s",
    `${HERE}wrk.lua`,
    url,
    "--",
    ...(opts.args ?? ["get"]),
  ]);
  const line = res.stdout.split("\n").find((l) => l.startsWith("WRKJSON "));
  if (!line) throw new Error(`wrk printed no summary:\n${res.stdout}${res.stderr}`);
  const j = JSON.parse(line.slice(8));
  const ms = (us: number) => r2(us / 1000);
  return {
    connections: opts.connections,
    threads,
    seconds: r2(j.duration_us / 1e6),
    requests: j.requests,
    rps: Math.round(j.requests / (j.duration_us / 1e6)),
    p50_ms: ms(j.p50_us),
    p90_ms: ms(j.p90_us),
    p95_ms: ms(j.p95_us),
    p99_ms: ms(j.p99_us),
    max_ms: ms(j.max_us),
    mean_ms: ms(j.mean_us),
    non_2xx: j.status_errors,
    socket_errors: j.connect_errors + j.read_errors + j.write_errors + j.timeouts,
  };
}

export interface PgbenchResult {
  clients: number;
  threads: number;
  seconds: number;
  transactions: number;
  tps: number;
  latency_avg_ms: number;
}

/** pgbench with a custom script file, against the bench database. */
export async function pgbench(
  port: number,
  script: string,
  opts: { seconds: number; clients: number; threads?: number },
): Promise<PgbenchResult> {
  const file = await Deno.makeTempFile({ prefix: "bw-pgbench-", suffix: ".sql" });
  await Deno.writeTextFile(file, script);
  try {
    const threads = opts.threads ?? 2;
    const res = await run([
      `${PG_BIN}/pgbench`,
      "-n",
      "-c",
      String(opts.clients),
      "-j",
      String(threads),
      "-T",
      String(opts.seconds),
      "-f",
      file,
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      "postgres",
      "postgres",
    ], { env: { PGPASSWORD: "postgres" } });
    const num = (re: RegExp) => Number(res.stdout.match(re)?.[1] ?? NaN);
    return {
      clients: opts.clients,
      threads,
      seconds: opts.seconds,
      transactions: num(/number of transactions actually processed: (\d+)/),
      tps: Math.round(num(/tps = ([\d.]+) \(without initial connection time\)/)),
      latency_avg_ms: r2(num(/latency average = ([\d.]+) ms/)),
    };
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/** The Deno.serve hello-world ceiling, started as its own process. */
export async function startHello(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", `${HERE}hello.ts`],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the hello-world server exited before listening");
    buf += value;
  }
  const port = JSON.parse(buf.split("\n")[0]).listening as number;
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

interface ProcMem {
  hwm_kb: number;
  rss_kb: number;
  rss_anon_kb: number;
}

function readMem(pid: number): ProcMem | undefined {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (k: string) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
    return { hwm_kb: kb("VmHWM"), rss_kb: kb("VmRSS"), rss_anon_kb: kb("RssAnon") };
  } catch {
    return undefined;
  }
}

function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === ppid) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

function cmdline(pid: number): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter((s) => s);
  } catch {
    return [];
  }
}

export interface MemorySummary {
  gateway_peak_rss_mb: number;
  workers: Record<string, { peak_rss_mb: number; peak_rss_anon_mb: number }>;
  postgres: {
    backends_seen: number;
    max_backend_peak_rss_mb: number;
    max_backend_peak_rss_anon_mb: number;
    max_total_rss_anon_mb: number;
    postmaster_rss_mb: number;
  };
  samples: number;
}

/**
 * Samples every `everyMs` the memory of the gateway, each function worker (named by its
 * folder) and every PostgreSQL process (children of the postmaster). VmHWM is the kernel's
 * own peak per process; RssAnon excludes the shared buffers a backend has touched.
 */
export class MemorySampler {
  #timer?: ReturnType<typeof setInterval>;
  #peak = new Map<string, ProcMem>();
  #pgTotalAnonMax = 0;
  #samples = 0;
  #backendPids = new Set<number>();

  constructor(
    private pids: () => { gateway?: number; workers: number[]; postmaster?: number },
    private everyMs = 500,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.sample(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #keep(key: string, m: ProcMem): void {
    const p = this.#peak.get(key) ?? { hwm_kb: 0, rss_kb: 0, rss_anon_kb: 0 };
    this.#peak.set(key, {
      hwm_kb: Math.max(p.hwm_kb, m.hwm_kb, m.rss_kb),
      rss_kb: Math.max(p.rss_kb, m.rss_kb),
      rss_anon_kb: Math.max(p.rss_anon_kb, m.rss_anon_kb),
    });
  }

  sample(): void {
    this.#samples++;
    const { gateway, workers, postmaster } = this.pids();
    if (gateway) {
      const m = readMem(gateway);
      if (m) this.#keep("gateway", m);
    }
    for (const pid of workers) {
      const m = readMem(pid);
      const name = (cmdline(pid).at(-1) ?? String(pid)).split("/").at(-1)!;
      if (m) this.#keep(`worker:${name}`, m);
    }
    if (postmaster) {
      const m = readMem(postmaster);
      if (m) this.#keep("postmaster", m);
      let totalAnon = 0;
      for (const pid of childrenOf(postmaster)) {
        const cm = readMem(pid);
        if (!cm) continue;
        this.#backendPids.add(pid);
        totalAnon += cm.rss_anon_kb;
        this.#keep("backend", cm);
      }
      this.#pgTotalAnonMax = Math.max(this.#pgTotalAnonMax, totalAnon);
    }
  }

  summary(): MemorySummary {
    const mb = (kb: number) => Math.round(kb / 102.4) / 10;
    const workers: MemorySummary["workers"] = {};
    for (const [k, v] of this.#peak) {
      if (k.startsWith("worker:")) {
        workers[k.slice(7)] = { peak_rss_mb: mb(v.hwm_kb), peak_rss_anon_mb: mb(v.rss_anon_kb) };
      }
    }
    const b = this.#peak.get("backend");
    return {
      gateway_peak_rss_mb: mb(this.#peak.get("gateway")?.hwm_kb ?? 0),
      workers,
      postgres: {
        backends_seen: this.#backendPids.size,
        max_backend_peak_rss_mb: mb(b?.hwm_kb ?? 0),
        max_backend_peak_rss_anon_mb: mb(b?.rss_anon_kb ?? 0),
        max_total_rss_anon_mb: mb(this.#pgTotalAnonMax),
        postmaster_rss_mb: mb(this.#peak.get("postmaster")?.hwm_kb ?? 0),
      },
      samples: this.#samples,
    };
  }
}

export async function loadAverage(): Promise<number[]> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

/** CPU time (user + system) this process has used, all its threads, in seconds. */
export function ownCpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime, fields 14 and 15 of proc(5)'s stat, in clock ticks (100 per second).
  return (Number(f[11]) + Number(f[12])) / 100;
}
