// Per-example results: push sends a run's examples, and prints the paired
// comparison with the baseline's examples; the alert opens on the run whose drop is beyond
// tolerance when the paired evidence is significant (the guide's JSON with 200 examples, 12
// flipped to wrong and 2 to right: p = 0.0129).

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { after, test } from "node:test";
import { cli, closeDb, db, guideFile, REGRESSED, uniq } from "./helpers.ts";
import { cutBatches } from "../src/commands/push.ts";

after(closeDb);

/** The guide's file for `model` with 200 examples of f1, right where `right(i)` holds. */
function withExamples(
  model: string,
  metrics: Record<string, number>,
  right: (i: number) => boolean,
) {
  const file = guideFile(model, metrics);
  const run = JSON.parse(readFileSync(file, "utf8"));
  run.examples = Array.from({ length: 200 }, (_, k) => ({
    id: `doc-${String(k + 1).padStart(4, "0")}`,
    slice: k % 4 === 0 ? "invoices" : "receipts",
    scores: { f1: right(k + 1) ? 1 : 0 },
  }));
  writeFileSync(file, JSON.stringify(run));
  return file;
}

test("push and check print the paired line (12 worse, 2 better of 200, p = 0.013) and the alert opens on that run", async () => {
  const model = uniq("examples-guide");
  const base = withExamples(
    model,
    { precision: 0.91, recall: 0.88, f1: 0.895, latency_ms: 412, analysis_cost: 0.0042 },
    (i) => i <= 179,
  );
  const first = await cli(["push", "--input", base, "--commit-sha", "ex-1"]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  await db()`select public.pin_baseline(t.id) from public.benchmark_transactions t
             where t.model_version = ${model}`;

  // 12 of the 179 right become wrong, 2 wrong become right: 169 right, f1 0.845 (-5.6%).
  const cand = withExamples(
    model,
    { ...REGRESSED, f1: 0.845 },
    (i) => (i > 12 && i <= 179) || i === 180 || i === 181,
  );
  const second = await cli(["push", "--input", cand, "--commit-sha", "ex-2", "--show-examples"]);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /f1: 12 examples worse, 2 better of 200 \(p = 0\.013, q = 0\.0\d+\)/);
  assert.match(second.stdout, /worst slices: receipts \(9 worse, 1 better, q = /);
  assert.match(
    second.stdout,
    /worse examples \(10 of 12\): doc-0001 \[invoices\] \(f1\), doc-0005 \[invoices\] \(f1\), /,
  );

  // check reads the recorded verdict and prints the same paired lines (push's pairedLines).
  const [run] = await db()<{ id: string }[]>`
    select t.id from public.benchmark_transactions t
    where t.model_version = ${model} and t.commit_sha = 'ex-2'`;
  const checked = await cli(["check", "--transaction-id", run.id]);
  assert.equal(checked.code, 1, checked.stdout + checked.stderr);
  assert.match(
    checked.stdout,
    /f1: 12 examples worse, 2 better of 200 \(p = 0\.013, q = 0\.0\d+\)/,
  );
  assert.match(checked.stdout, /worst slices: receipts \(9 worse, 1 better, q = /);
  const plain = await db()<{ id: string }[]>`
    select t.id from public.benchmark_transactions t
    where t.model_version = ${model} and t.commit_sha = 'ex-1'`;
  const firstCheck = await cli(["check", "--transaction-id", plain[0].id]);
  assert.equal(firstCheck.code, 0, firstCheck.stdout + firstCheck.stderr);
  assert.doesNotMatch(
    firstCheck.stdout,
    /examples worse/,
    "a run with no baseline has no paired line",
  );

  const alerts = await db()<{ metric_name: string; commit_sha: string }[]>`
    select a.metric_name, t.commit_sha from public.regression_alerts a
    join public.benchmark_transactions t on t.id = a.opened_transaction_id
    where a.model_version = ${model} order by a.metric_name`;
  assert.deepEqual(
    alerts.map((a) => [a.metric_name, a.commit_sha]),
    [["f1", "ex-2"]],
    "f1's alert opens on the very run (precision and recall carry no examples: history rule)",
  );
});

test("cutBatches() keeps each batch's JSON under the byte budget and the runs in order", () => {
  const runs = Array.from({ length: 7 }, (_, i) => ({ i, pad: "x".repeat(300) }));
  const batches = cutBatches(runs, 5, 1000);
  assert.deepEqual(batches.map((b) => b.map((r) => r.i)), [[0, 1, 2], [3, 4, 5], [6]]);
  assert.ok(batches.every((b) => JSON.stringify(b).length < 1000));
  assert.deepEqual(cutBatches(runs, 2).map((b) => b.length), [2, 2, 2, 1]);
});
