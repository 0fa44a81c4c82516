// Concurrency check for the SQL core, outside pgTAP
// because it needs many real connections at once: 32 connections record runs of
// one series with shuffled created_at. Afterwards the series' snapshot must point
// at the newest run by created_at, and every run must be in the log exactly once,
// even though each run is also submitted a second time by another connection.
//
// Run with SUPABASE_DB_URL pointing at a database that has the migrations applied.

import assert from "node:assert/strict";
import postgres from "postgres";

const CONNECTIONS = 32;
const RUNS_PER_CONNECTION = 8;

type RunPayload = {
  commit_sha: string;
  model_version: string;
  model_provider: string;
  dataset_version: string;
  prompt_version: string;
  environment: string;
  run_id: string;
  metrics: Record<string, number>;
  created_at: string;
};

function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

Deno.test("32 concurrent writers leave the snapshot on the newest run, with no run lost or duplicated", async () => {
  const url = Deno.env.get("SUPABASE_DB_URL");
  if (!url) {
    throw new Error("Set SUPABASE_DB_URL to a database with the benchwatch migrations applied");
  }

  const sql = postgres(url, { max: CONNECTIONS, prepare: false, onnotice: () => {} });
  const modelVersion = `race-${crypto.randomUUID()}`;
  const total = CONNECTIONS * RUNS_PER_CONNECTION;
  // Distinct timestamps within the last day, so they fall in existing partitions.
  const base = Date.now() - 24 * 60 * 60 * 1000;
  const runs: RunPayload[] = Array.from({ length: total }, (_, i) => ({
    commit_sha: `sha-${i}`,
    model_version: modelVersion,
    model_provider: "openai",
    dataset_version: "race-set",
    prompt_version: "race-prompt",
    environment: "concurrency-test",
    run_id: `run-${i}`,
    metrics: { f1: 0.5 + (i % 50) / 100, latency_ms: 100 + i },
    created_at: new Date(base + i * 1000).toISOString(),
  }));
  const newest = runs[runs.length - 1];

  try {
    // Each run is submitted twice, by two different connections, in shuffled order.
    const submissions = shuffle([...runs, ...runs]);
    const lanes: RunPayload[][] = Array.from({ length: CONNECTIONS }, () => []);
    submissions.forEach((run, i) => lanes[i % CONNECTIONS].push(run));

    const reserved = await Promise.all(lanes.map(() => sql.reserve()));
    const answers = await Promise.all(lanes.map(async (lane, i) => {
      const conn = reserved[i];
      const ids: Array<[string, string]> = [];
      try {
        for (const run of lane) {
          const [row] = await conn<{ id: string }[]>`
            select benchwatch_private.record_run(${conn.json(run)}) ->> 'transaction_id' as id`;
          ids.push([run.run_id, row.id]);
        }
      } finally {
        conn.release();
      }
      return ids;
    }));

    const idByRun = new Map<string, string>();
    for (const [runId, id] of answers.flat()) {
      const seen = idByRun.get(runId);
      if (seen) assert.equal(id, seen, `both submissions of ${runId} got the same uuid`);
      idByRun.set(runId, id);
    }
    assert.equal(idByRun.size, total, "every run got a uuid");

    const [log] = await sql<{ rows: number; runs: number; ids: number }[]>`
      select count(*)::int as rows, count(distinct run_id)::int as runs, count(distinct id)::int as ids
      from public.benchmark_transactions where model_version = ${modelVersion}`;
    assert.deepEqual(log, { rows: total, runs: total, ids: total }, "no run lost or duplicated");

    const latest = await sql<{ run_id: string; transaction_id: string; created_at: Date }[]>`
      select run_id, transaction_id, created_at from public.benchmark_snapshots
      where model_version = ${modelVersion} and pinned_at is null`;
    assert.equal(latest.length, 1, "the series has exactly one latest snapshot");
    assert.equal(
      latest[0].run_id,
      newest.run_id,
      "the snapshot points at the newest run by created_at",
    );
    assert.equal(latest[0].transaction_id, idByRun.get(newest.run_id));
    assert.equal(latest[0].created_at.toISOString(), newest.created_at);
  } finally {
    await sql.begin(async (tx) => {
      await tx`delete from benchwatch_private.run_identities where transaction_id in (
                 select id from public.benchmark_transactions where model_version = ${modelVersion})`;
      await tx`delete from public.regression_alerts where model_version = ${modelVersion}`;
      await tx`delete from public.benchmark_snapshots where model_version = ${modelVersion}`;
      await tx`delete from public.benchmark_transactions where model_version = ${modelVersion}`;
    });
    await sql.end();
  }
});
