// Scores benchwatch itself through the real path: a fresh `eval` stack, every run
// POSTed to /functions/v1/ingest in order (batches of one time step, several series
// streams in parallel), the baseline pinned on each series' first run with the
// guide's UPDATE, and the alert openings read back from regression_alerts.

import postgres from "postgres";
import { down, up } from "../../local/stack/stack.ts";
import type { Corpus } from "./corpus.ts";

const EPOCH = Date.parse("2026-01-01T00:00:00Z");

/** One series of one corpus, with the model_version it is ingested under. */
interface Entry {
  key: string;
  model: string;
  series: Corpus["series"][number];
  i: number;
}

function runPayload(e: Entry, t: number) {
  const s = e.series;
  const i = e.i;
  const metrics: Record<string, number> = {};
  for (const m of s.metrics) metrics[m.metric] = m.values[t];
  return {
    commit_sha: `c${t.toString(16).padStart(7, "0")}`,
    branch_name: "main",
    model_version: e.model,
    model_provider: "synthetic",
    dataset_version: "eval-set",
    dataset_size: s.datasetSize,
    prompt_version: "p1",
    environment: "eval",
    run_id: `${e.model}-r${t}`,
    triggered_by: "eval-detection",
    metrics,
    created_at: new Date(EPOCH + (t * 3600 + i) * 1000).toISOString(),
  };
}

/**
 * Ingests every corpus together (each series under its own model_version) and returns
 * openings["<corpus index>/<series id>/<metric>"] = run indices where an alert opened.
 */
export async function runProduct(
  corpora: Corpus[],
  log: (s: string) => void,
  streams = 4,
  policySql: string[] = [],
  keep = false,
): Promise<Map<string, number[]>> {
  return await withEvalStack("run", log, policySql, keep, async ({ sql, post }) => {
    const entries: Entry[] = corpora.flatMap((c, ci) =>
      c.series.map((s) => ({
        key: `${ci}/${s.id}`,
        model: `eval-c${ci}-s${s.id}`,
        series: s,
        i: ci * 1000 + s.id,
      }))
    );
    const byModel = new Map(entries.map((e) => [e.model, e]));
    const n = entries.length;
    const longest = Math.max(...corpora.map((c) => c.runs));
    const total = entries.reduce((a, e) => a + e.series.runs, 0);
    const started = performance.now();
    // Run 0 of every series, then pin it as the guide does.
    for (let a = 0; a < n; a += 500) {
      await post(entries.slice(a, a + 500).map((e) => runPayload(e, 0)));
    }
    await sql`update public.benchmark_snapshots set is_baseline = true
              where model_version like 'eval-c%' and pinned_at is null`;
    log(`ingested and pinned run 0 of ${n} series`);
    const groups = Array.from(
      { length: streams },
      (_, g) => entries.filter((_, i) => i % streams === g),
    );
    let done = n;
    await Promise.all(groups.map(async (g) => {
      for (let t = 1; t < longest; t++) {
        const live = g.filter((e) => t < e.series.runs);
        for (let a = 0; a < live.length; a += 500) {
          await post(live.slice(a, a + 500).map((e) => runPayload(e, t)));
        }
        done += live.length;
        if (g === groups[0] && t % 10 === 0) {
          const rate = done / ((performance.now() - started) / 1000);
          log(
            `  run ${t}/${longest - 1}: ${done} of ${total} runs ingested (${
              rate.toFixed(0)
            } runs/s)`,
          );
        }
      }
    }));
    const secs = (performance.now() - started) / 1000;
    log(`ingested ${total} runs over HTTP in ${secs.toFixed(1)} s`);
    const rows = await sql<{ model_version: string; metric_name: string; run_id: string }[]>`
      select a.model_version, a.metric_name, t.run_id
      from public.regression_alerts a
      join public.benchmark_transactions t on t.id = a.opened_transaction_id
      where a.model_version like 'eval-c%'`;
    const out = new Map<string, number[]>();
    for (const r of rows) {
      const e = byModel.get(r.model_version);
      if (!e) continue;
      const t = Number(r.run_id.slice(e.model.length + 2));
      const k = `${e.key}/${r.metric_name}`;
      out.set(k, [...(out.get(k) ?? []), t]);
    }
    return out;
  });
}

/** What a run of the eval gets: the eval stack's database, and a POST of runs to ingest. */
export interface EvalStack {
  sql: postgres.Sql;
  post: (runs: unknown[]) => Promise<void>;
}

/**
 * Brings up a fresh eval stack in its own folder, applies `policySql` (a policy to try instead
 * of the shipped defaults, `--policy-sql`, e.g. "update benchwatch_private.detection_defaults
 * set sensitivity = 2.5"), runs `fn`, then stops and removes the stack unless `keep`.
 */
export async function withEvalStack<T>(
  name: string,
  log: (s: string) => void,
  policySql: string[],
  keep: boolean,
  fn: (stack: EvalStack) => Promise<T>,
): Promise<T> {
  const dir = `${new URL("../..", import.meta.url).pathname}.local/eval/${name}-${Date.now()}`;
  Deno.env.set("BENCHWATCH_EVAL_LOCAL_DIR", dir);
  log(`bringing up the eval stack in ${dir}`);
  const stack = await up("eval", { say: (s) => log(`  ${s}`) });
  const sql = postgres(stack.env.SUPABASE_DB_URL, { max: 2, onnotice: () => {} });
  const url = `${stack.env.SUPABASE_URL}/functions/v1/ingest`;
  const key = stack.env.SUPABASE_SERVICE_ROLE_KEY;
  const post = async (runs: unknown[]) => {
    for (let attempt = 0;; attempt++) {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          apikey: key,
          "content-type": "application/json",
        },
        body: JSON.stringify({ runs }),
      });
      const text = await res.text();
      if (res.ok) return;
      // A worker restarting answers 502/503; ingest is idempotent by run identity.
      if (attempt < 3 && (res.status === 429 || res.status >= 500)) {
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
        continue;
      }
      throw new Error(`ingest failed: HTTP ${res.status} ${text.slice(0, 500)}`);
    }
  };
  try {
    for (const stmt of policySql) {
      log(`policy: ${stmt}`);
      await sql.unsafe(stmt);
    }
    return await fn({ sql, post });
  } finally {
    await sql.end();
    if (keep) {
      log(`--keep-stack: the eval stack stays up in ${dir} (${stack.env.SUPABASE_DB_URL})`);
    } else {
      await down("eval", (s) => log(`  ${s}`));
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}
