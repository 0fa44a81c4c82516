// Per-example results over HTTP: ingest takes a run's examples and answers with the
// paired comparison; GET /benchmarks?view=examples shows the flipped examples with filters.

import assert from "node:assert/strict";
import { call, closeDb, db, guideRun, pinRun, uniq } from "./helpers.ts";
import { functionsUrl, stackEnv } from "./env.ts";

/** 200 examples over two slices; example k (1-based) is right when right(k). */
function examples(right: (k: number) => boolean) {
  return Array.from({ length: 200 }, (_, i) => ({
    id: `doc-${String(i + 1).padStart(4, "0")}`,
    slice: i % 2 === 0 ? "invoices" : "receipts",
    scores: { f1: right(i + 1) ? 1 : 0 },
  }));
}

Deno.test("ingest pairs a run's examples with its baseline's, and view=examples lists the flips", async () => {
  const model = uniq("examples-http");
  const base = await call("ingest", {
    body: guideRun(model, { examples: examples((k) => k <= 179) }),
  });
  assert.equal(base.status, 201, JSON.stringify(base.body));
  await pinRun(base.body.transaction_id);
  const cand = await call("ingest", {
    body: guideRun(model, {
      commit_sha: "def456",
      metrics: { precision: 0.85, recall: 0.82, f1: 0.845, latency_ms: 420, analysis_cost: 0.0043 },
      examples: examples((k) => (k > 12 && k <= 179) || k === 180 || k === 181),
    }),
  });
  assert.equal(cand.status, 201, JSON.stringify(cand.body));
  const overall = cand.body.paired.find((p: { slice: string | null }) => p.slice === null);
  assert.equal(overall.worse, 12);
  assert.equal(overall.better, 2);
  assert.ok(Math.abs(overall.p_value - 0.012939453125) < 1e-12);
  assert.equal(cand.body.alerts_opened.length, 1, "f1's alert opens on this run");

  const tx = cand.body.transaction_id;
  const all = await call("benchmarks", {
    as: "anon",
    query: { view: "examples", transaction_id: tx },
  });
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assert.equal(all.body.total_flipped, 14);
  assert.equal(all.body.baseline_transaction_id, base.body.transaction_id);
  assert.equal(all.body.flipped[0].change, "worse", "worse first");
  assert.equal(all.body.paired.length, 3, "overall and two slices");

  const better = await call("benchmarks", {
    as: "anon",
    query: { view: "examples", transaction_id: tx, change: "better" },
  });
  assert.deepEqual(
    better.body.flipped.map((f: { example_id: string }) => f.example_id).sort(),
    ["doc-0180", "doc-0181"],
  );
  const slice = await call("benchmarks", {
    as: "anon",
    query: { view: "examples", transaction_id: tx, slice: "invoices", change: "worse" },
  });
  assert.equal(slice.body.total_flipped, 6, "odd ids 1..11 are invoices");
  assert.ok(slice.body.flipped.every((f: { slice: string }) => f.slice === "invoices"));

  const missing = await call("benchmarks", {
    as: "anon",
    query: { view: "examples", transaction_id: crypto.randomUUID() },
  });
  assert.equal(missing.status, 404);
  const bad = await call("benchmarks", {
    as: "anon",
    query: { view: "examples", transaction_id: tx, change: "sideways" },
  });
  assert.equal(bad.status, 400);
  const noExamples = await call("benchmarks", {
    as: "anon",
    query: { view: "examples", transaction_id: base.body.transaction_id },
  });
  assert.equal(noExamples.status, 200);
  assert.deepEqual(noExamples.body.flipped, []);
  await closeDb();
});

Deno.test("ingest refuses a duplicate example id with 400 and stores nothing", async () => {
  const model = uniq("examples-bad");
  const res = await call("ingest", {
    body: guideRun(model, {
      examples: [{ id: "a", scores: { f1: 1 } }, { id: "a", scores: { f1: 0 } }],
    }),
  });
  assert.equal(res.status, 400);
  assert.match(JSON.stringify(res.body), /examples\/1\/id/);
  await closeDb();
});

Deno.test("ingest accepts a gzip body through the gateway", async () => {
  const run = guideRun(uniq("examples-gzip"), { examples: examples((k) => k <= 150) });
  const packed = await new Response(
    new Blob([JSON.stringify(run)]).stream().pipeThrough(new CompressionStream("gzip")),
  ).arrayBuffer();
  const key = stackEnv("SUPABASE_SERVICE_ROLE_KEY");
  const res = await fetch(`${functionsUrl()}/ingest`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      apikey: key,
      "content-type": "application/json",
      "content-encoding": "gzip",
    },
    body: packed,
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  const stored = await db()`select n, mean from benchwatch_private.run_examples
                            where transaction_id = ${body.transaction_id}`;
  assert.deepEqual(stored.map((r) => [r.n, Number(r.mean)]), [[200, 0.75]]);
  await closeDb();
});
