// What every hardening test shares: the stack it runs against, a database client, process
// and memory probes, and the small figures helpers (percentiles, tables).

import postgres from "postgres";
import type { Stack } from "../../local/stack/stack.ts";

export interface Ctx {
  stack: Stack;
  sql: postgres.Sql;
  /** Every secret in use; test 7 scans the logs for each. Tests add the tokens they create. */
  secrets: Map<string, string>;
  /** Where captured outputs (CLI stdout/stderr...) go, for the secret scan. */
  captureFile: string;
  /** A guarantee deliberately broken for this run (`--break`), to show the tests catch it. */
  broken?: string;
  soakMinutes: number;
}

export interface Outcome {
  /** label -> value, printed and tabled in RELIABILITY.md. */
  figures: Record<string, string | number>;
  /** Extra markdown for RELIABILITY.md (the authorization matrix). */
  markdown?: string;
  /** Failed checks; empty means the test passed. */
  failures: string[];
}

export interface HardeningTest {
  name: string;
  title: string;
  /** True for the soak, which runs only with --soak. */
  soak?: boolean;
  run(ctx: Ctx): Promise<Outcome>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Collects failed checks instead of throwing, so a test reports all its figures. */
export class Checks {
  readonly failures: string[] = [];
  that(ok: boolean, what: string): void {
    if (!ok) this.failures.push(what);
  }
}

export async function capture(ctx: Ctx, label: string, text: string): Promise<void> {
  if (!text) return;
  await Deno.writeTextFile(ctx.captureFile, `--- ${label}\n${text}\n`, { append: true });
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function distribution(values: number[], unit: string, digits = 1): string {
  if (values.length === 0) return "n/a";
  const f = (v: number) => `${v.toFixed(digits)}${unit}`;
  return `min ${f(Math.min(...values))}, p50 ${f(percentile(values, 50))}, p90 ${
    f(percentile(values, 90))
  }, max ${f(Math.max(...values))}`;
}

/** Resident memory of a process in KiB (VmRSS), or 0 when it is gone. */
export function rssKiB(pid: number): number {
  try {
    const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmRSS:\s+(\d+)/m);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Proportional set size in KiB (shared pages split between sharers), for postgres. */
export function pssKiB(pid: number): number {
  try {
    const m = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`).match(/^Pss:\s+(\d+)/m);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function cmdline(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** The gateway's function workers, by function name, from <stack dir>/workers.pids. */
export async function workerPids(ctx: Ctx): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let text = "";
  try {
    text = await Deno.readTextFile(`${ctx.stack.cfg.dir}/workers.pids`);
  } catch { /* none yet */ }
  for (const pid of text.split("\n").map(Number).filter((n) => n > 0)) {
    // The function's folder is the worker's last argument (an earlier one names the
    // functions' import map, under the same folder).
    const m = cmdline(pid).trimEnd().match(/supabase\/functions\/([A-Za-z0-9_-]+)\/?$/);
    if (m) out.set(m[1], pid);
  }
  return out;
}

export async function gatewayPid(ctx: Ctx): Promise<number> {
  return Number((await Deno.readTextFile(`${ctx.stack.cfg.dir}/gateway.pid`)).trim());
}

/** Every process of the cluster: the postmaster (first line of postmaster.pid) and its children. */
export async function postgresPids(ctx: Ctx): Promise<number[]> {
  const dataDir = `${await Deno.realPath(`${ctx.stack.cfg.dir}/db`)}/data`;
  const master = Number((await Deno.readTextFile(`${dataDir}/postmaster.pid`)).split("\n")[0]);
  const pids = [master];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === master) pids.push(Number(e.name));
    } catch { /* gone */ }
  }
  return pids;
}

export function mdTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export async function sweepNow(ctx: Ctx): Promise<number> {
  const [r] = await ctx.sql`select benchwatch_private.sweep_alert_deliveries('0 seconds') as n`;
  return r.n;
}

export const sinkUrl = (ctx: Ctx): string => `http://127.0.0.1:${ctx.stack.cfg.slackSinkPort}`;

export interface SinkMessage {
  received_at: string;
  path: string;
  body: unknown;
  answered: string;
}

export async function sinkMessages(ctx: Ctx): Promise<SinkMessage[]> {
  return await (await fetch(`${sinkUrl(ctx)}/_sink/messages`)).json();
}

export async function setSink(ctx: Ctx, mode: string): Promise<void> {
  const res = await fetch(`${sinkUrl(ctx)}/_sink/behaviour`, {
    method: "POST",
    body: JSON.stringify({ mode }),
  });
  if (!res.ok) throw new Error(`the sink refused mode ${mode}: ${await res.text()}`);
  await res.body?.cancel();
}

export async function clearSink(ctx: Ctx): Promise<void> {
  await (await fetch(`${sinkUrl(ctx)}/_sink/messages`, { method: "DELETE" })).body?.cancel();
}

/** POST /functions/v1/<fn> with the service role key unless told otherwise. */
export async function post(
  ctx: Ctx,
  fn: string,
  body: unknown,
  opts: { bearer?: string | null; headers?: Record<string, string> } = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any; headers: Headers }> {
  const bearer = opts.bearer === undefined ? ctx.stack.keys.serviceRoleKey : opts.bearer;
  const res = await fetch(`${ctx.stack.cfg.apiUrl}/functions/v1/${fn}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...opts.headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

export function run(
  model: string,
  commit: string,
  metrics: Record<string, number>,
): Record<string, unknown> {
  return {
    model_version: model,
    dataset_version: "hard-set-v1",
    prompt_version: "hard-prompt-v1",
    model_provider: "openai",
    environment: "hardening",
    commit_sha: commit,
    metrics,
  };
}

/**
 * The metric the alert tests regress. Its policy opens an alert on the first run past the
 * 5% tolerance (no history or confirmation needed), so each BAD run after a pinned GOOD one
 * opens exactly one alert, and a GOOD run after it resolves it.
 */
export const ALERT_METRIC = "hardening_score";
export const GOOD = { [ALERT_METRIC]: 0.9, latency_ms: 412 };
export const BAD = { [ALERT_METRIC]: 0.8, latency_ms: 420 };

async function alertPolicy(ctx: Ctx): Promise<void> {
  await ctx.sql`
    insert into public.metric_policies
      (metric, direction, relative_threshold, description, sensitivity, confirmation_runs, min_history)
    values (${ALERT_METRIC}, 'higher', 0.05, 'npm run test:hardening: alert on the first bad run', 0, 1, 1)
    on conflict (metric) do nothing`;
}

/** A new series with a pinned baseline, so a BAD run regresses and opens an alert. */
export async function seriesWithBaseline(ctx: Ctx, model: string): Promise<void> {
  await alertPolicy(ctx);
  const first = await post(ctx, "ingest", run(model, "base", GOOD));
  if (first.status !== 201) throw new Error(`baseline run: ${first.status}`);
  const pin = await post(ctx, "regressions", {
    action: "pin",
    transaction_id: first.body.transaction_id,
  });
  if (pin.status !== 200) throw new Error(`pin: ${pin.status} ${JSON.stringify(pin.body)}`);
}
