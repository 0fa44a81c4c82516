// The Slack alert names its paired evidence, through the whole chain: ingest (a baseline and
// a run with per-example results) → SQL (paired_results, the paired rule opens f1's alert,
// claim_alert_events adds "paired") → the database webhook → notify-slack (the real function,
// on the edge runtime's Deno) → the local Slack sink.

import assert from "node:assert/strict";
import { eventually } from "./env.ts";
import {
  call,
  closeDb,
  db,
  guideRun,
  pinRun,
  regressedRun,
  setSink,
  sinkMessages,
  sleep,
  uniq,
  withImmediateAlertPolicy,
} from "./helpers.ts";

/**
 * 200 examples: 1-60 are invoices, 61-200 receipts; example k is wrong when wrong(k). The
 * baseline gets 21 wrong (f1 0.895); the candidate loses 1-9 (invoices) and 61-63 (receipts)
 * and gains 10 and 64: 12 worse and 2 better of 200 (McNemar p = 0.0129), invoices 9 worse
 * and 1 better of 60. BH over the comparisons that can be discoveries (overall, invoices
 * p = 0.0215; receipts' 4 flips cannot reach 0.05 and get q = 1) gives q = 0.0215 to both the
 * overall row and invoices (pgTAP 26-paired-alert-events works it out).
 */
function examples(wrong: (k: number) => boolean) {
  return Array.from({ length: 200 }, (_, i) => ({
    id: `doc-${String(i + 1).padStart(4, "0")}`,
    slice: i < 60 ? "invoices" : "receipts",
    scores: { f1: wrong(i + 1) ? 0 : 1 },
  }));
}
const tail = (k: number) => k >= 181 && k <= 199;
const baseWrong = (k: number) => k === 10 || k === 64 || tail(k);
const candWrong = (k: number) => k <= 9 || (k >= 61 && k <= 63) || tail(k);
const candMetrics = {
  precision: 0.91,
  recall: 0.88,
  f1: 0.845,
  latency_ms: 412,
  analysis_cost: 0.0042,
};

/** A pinned baseline with examples on a new series; returns the series' model. */
async function pairedSeries(prefix: string): Promise<string> {
  const model = uniq(prefix);
  const base = await call("ingest", { body: guideRun(model, { examples: examples(baseWrong) }) });
  assert.equal(base.status, 201, JSON.stringify(base.body));
  await pinRun(base.body.transaction_id);
  return model;
}

async function onlyMessage(model: string): Promise<string> {
  const [msg] = await eventually("the Slack message", async () => {
    const m = await sinkMessages(model);
    return m.length ? m : undefined;
  }, 8000);
  await sleep(500);
  assert.equal((await sinkMessages(model)).length, 1, "one message");
  return JSON.stringify(msg.body);
}

Deno.test("slack: the alert opened on paired evidence names the counts, p, q and the worst slice", async () => {
  await setSink("ok");
  const model = await pairedSeries("slack-paired");
  const cand = await call("ingest", {
    body: guideRun(model, {
      commit_sha: "def456",
      metrics: candMetrics,
      examples: examples(candWrong),
    }),
  });
  assert.equal(cand.status, 201, JSON.stringify(cand.body));
  assert.equal(cand.body.alerts_opened.length, 1, "the paired rule opens f1's alert on this run");

  const body = JSON.parse(await onlyMessage(model));
  const text = body.blocks.map((b: { text?: { text: string } }) => b.text?.text ?? "").join("\n");
  assert.match(
    text,
    /`f1`: 0\.895 → 0\.845 \(−5\.6%\) · minor\n\u2003Paired: 12 examples worse, 2 better of 200 \(p = 0\.013, q = 0\.021\)\n\u2003Worst slice: `invoices`, 9 worse, 1 better of 60 \(q = 0\.021\)/,
  );
  await closeDb();
});

Deno.test("slack: an alert without examples has no paired line", async () => {
  await setSink("ok");
  await withImmediateAlertPolicy(async () => {
    const model = uniq("slack-plain");
    const base = await call("ingest", { body: guideRun(model) });
    await pinRun(base.body.transaction_id);
    const res = await call("ingest", { body: regressedRun(model) });
    assert.equal(res.body.alerts_opened.length, 3, "f1, precision and recall open");
    const text = await onlyMessage(model);
    assert.match(text, /`f1`: 0\.895 → 0\.835/);
    assert.doesNotMatch(text, /Paired|Worst slice|examples worse/);
  });
});

Deno.test("slack: a malformed paired field fails the alert with a reason naming it, and posts nothing", async () => {
  await setSink("ok");
  const model = await pairedSeries("slack-malformed");
  const tx = await db().begin(async (sql) => {
    const [r] = await sql`select benchwatch_private.ingest_runs(${
      sql.json([guideRun(model, {
        commit_sha: "def457",
        metrics: candMetrics,
        examples: examples(candWrong),
      })])
    }, null) as a`;
    const id = r.a.runs[0].transaction_id;
    // What a payload the function cannot read looks like: a q-value outside [0, 1]. The
    // webhook fires at this transaction's commit, after the change.
    await sql`update benchwatch_private.paired_results set q_value = 1.5
              where transaction_id = ${id} and slice is null`;
    return id;
  });
  const [alert] = await eventually("the permanent failure", async () => {
    const rows = await db()`
      select opened_delivery_status, opened_last_error from public.regression_alerts
      where opened_transaction_id = ${tx}`;
    return rows.length && rows[0].opened_delivery_status !== "pending" ? rows : undefined;
  }, 8000);
  assert.equal(alert.opened_delivery_status, "permanent_failure");
  assert.match(
    alert.opened_last_error,
    /^Deploy notify-slack and the migrations together: claim_alert_events returned a malformed alert event: \/metrics\/0\/paired\/q_value: /,
  );
  await sleep(500);
  assert.equal((await sinkMessages(model)).length, 0, "no broken message reached Slack");
  await closeDb();
});
