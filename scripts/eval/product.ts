// Scores benchwatch itself through the real path: a fresh `eval` stack, every run
// POSTed to /functions/v1/ingest in order (batches of one time step, several series
// streams in parallel), the baseline pinned on each series' first run with the
// guide's UPDATE, and the alert openings read back from regression_alerts.

import postgres from "postgres";
import { down, up } from "../stack/stack.ts";
import type { Corpus } from "./corpus.ts";

const EPOCH = Date.parse("2026-01-01T00:00:00Z");

function runPayload(corpus: Corpus, i: number, t: number) {
  const s = corpus.series[i];
  const metrics: Record<string, number> = {};
  for (const m of s.metrics) metrics[m.metric] = m.values[t];
  return {
    commit_sha: `c${t.toString(16).padStart(7, "0")}`,
    branch_name: "main",
    model_version: `eval-s${i}`,
    model_provider: "synthetic",
    dataset_version: "eval-set",
    dataset_size: s.datasetSize,
    prompt_version: "p1",
    environment: "eval",
    run_id: `s${i}-r${t}`,
    triggered_by: "eval-detection",
    metrics,
    created_at: new Date(EPOCH + (t * 3600 + i) * 1000).toISOString(),
  };
}

/** Returns openings[series][metric] = run indices where an alert opened. */
export async function runProduct(
  corpus: Corpus,
  log: (s: string) => void,
  streams = 4,
  policySql: string[] = [],
  keep = false,
): Promise<Map<string, number[]>> {
  const dir = `${new URL("../..", import.meta.url).pathname}.local/eval/run-${Date.now()}`;
  Deno.env.set("BENCHWATCH_EVAL_LOCAL_DIR", dir);
  log(`bringing up the eval stack in ${dir}`);
  const stack = await up("eval", { say: (s) => log(`  ${s}`) });
  const sql = postgres(stack.env.SUPABASE_DB_URL, { max: 2, onnotice: () => {} });
  try {
    // A policy to try instead of the shipped defaults (`--policy-sql`), e.g.
    // "update benchwatch_private.detection_defaults set sensitivity = 2.5".
    for (const stmt of policySql) {
      log(`policy: ${stmt}`);
      await sql.unsafe(stmt);
    }
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
        if (attempt < 3 && (res.status === 429 || res.status >= 500)) {
          await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
          continue;
        }
        throw new Error(`ingest failed: HTTP ${res.status} ${text.slice(0, 500)}`);
      }
    };
    const n = corpus.series.length;
    const started = performance.now();
    // Run 0 of every series, then pin it as the guide does.
    for (let a = 0; a < n; a += 500) {
      await post(
        Array.from({ length: Math.min(500, n - a) }, (_, k) => runPayload(corpus, a + k, 0)),
      );
    }
    await sql`update public.benchmark_snapshots set is_baseline = true
              where model_version like 'eval-s%' and pinned_at is null`;
    log(`ingested and pinned run 0 of ${n} series`);
    const groups = Array.from(
      { length: streams },
      (_, g) => Array.from({ length: n }, (_, i) => i).filter((i) => i % streams === g),
    );
    let done = 0;
    await Promise.all(groups.map(async (g) => {
      for (let t = 1; t < corpus.runs; t++) {
        await post(g.map((i) => runPayload(corpus, i, t)));
        done += g.length;
        if (g === groups[0] && t % 10 === 0) {
          const rate = done / ((performance.now() - started) / 1000);
          log(`  run ${t}/${corpus.runs - 1}: ${done} runs ingested (${rate.toFixed(0)} runs/s)`);
        }
      }
    }));
    const secs = (performance.now() - started) / 1000;
    log(`ingested ${n * corpus.runs} runs over HTTP in ${secs.toFixed(1)} s`);
    const rows = await sql<{ model_version: string; metric_name: string; run_id: string }[]>`
      select a.model_version, a.metric_name, t.run_id
      from public.regression_alerts a
      join public.benchmark_transactions t on t.id = a.opened_transaction_id
      where a.model_version like 'eval-s%'`;
    const out = new Map<string, number[]>();
    for (const r of rows) {
      const i = Number(r.model_version.slice("eval-s".length));
      const t = Number(r.run_id.split("-r")[1]);
      const k = `${i}/${r.metric_name}`;
      out.set(k, [...(out.get(k) ?? []), t]);
    }
    return out;
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
