// regressions: the verdict CI gates on, the alert list, and baseline / alert actions.

import assert from "node:assert/strict";
import { call, closeDb, guideRun, pinRun, regressedRun, uniq } from "./helpers.ts";
import { withImmediateAlertPolicy } from "./helpers.ts";

Deno.test("regressions: verdicts by transaction and by commit", async () => {
  const model = uniq("verdict");
  // A dataset of its own: other tests pin baselines on the guide's dataset, and a new model
  // is judged against the latest pinned baseline in its scope.
  const own = { dataset_version: `ds-${model}` };
  const base = await call("ingest", {
    body: guideRun(model, { ...own, commit_sha: `base-${model}` }),
  });
  const noBaseline = await call("regressions", {
    as: "anon",
    query: { transaction_id: base.body.transaction_id },
  });
  assert.equal(noBaseline.status, 200);
  assert.equal(noBaseline.body.verdict, "no_baseline");

  await pinRun(base.body.transaction_id);
  const bad = await call("ingest", {
    body: regressedRun(model, { ...own, commit_sha: `bad-${model}` }),
  });
  const byCommit = await call("regressions", { as: "anon", query: { commit_sha: `bad-${model}` } });
  assert.equal(byCommit.status, 200);
  assert.equal(byCommit.body.verdict, "regressed");
  const f1 = byCommit.body.runs[0].metrics.find((m: { metric_name: string }) =>
    m.metric_name === "f1"
  );
  assert.equal(f1.is_regression, true);
  const byTx = await call("regressions", {
    as: "anon",
    query: { transaction_id: bad.body.transaction_id },
  });
  assert.equal(byTx.body.verdict, "regressed");

  const good = await call("ingest", {
    body: guideRun(model, { ...own, commit_sha: `good-${model}` }),
  });
  const ok = await call("regressions", {
    as: "anon",
    query: { transaction_id: good.body.transaction_id },
  });
  assert.equal(ok.body.verdict, "ok");

  const missing = await call("regressions", {
    as: "anon",
    query: { commit_sha: `never-${model}` },
  });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.verdict, "not_found");
  const both = await call("regressions", {
    as: "anon",
    query: { commit_sha: "x", transaction_id: base.body.transaction_id },
  });
  assert.equal(both.status, 400);
  await closeDb();
});

Deno.test("regressions: the alert list filters by model and state, and acknowledge works", () =>
  withImmediateAlertPolicy(async () => {
    const model = uniq("alertlist");
    const base = await call("ingest", { body: guideRun(model) });
    await pinRun(base.body.transaction_id);
    await call("ingest", { body: regressedRun(model) });
    const open = await call("regressions", {
      as: "anon",
      query: { model_version: model, state: "open" },
    });
    assert.equal(open.status, 200);
    assert.deepEqual(open.body.alerts.map((a: { metric_name: string }) => a.metric_name).sort(), [
      "f1",
      "precision",
      "recall",
    ]);
    assert.equal(
      (await call("regressions", {
        as: "anon",
        query: { model_version: model, state: "resolved" },
      }))
        .body.alerts.length,
      0,
    );

    const ack = await call("regressions", {
      body: { action: "acknowledge", alert_id: open.body.alerts[0].id, by: "oncall" },
    });
    assert.equal(ack.status, 200);
    assert.equal(ack.body.alert.acknowledged_by, "oncall");

    const bad = await call("regressions", { as: "anon", query: { state: "sideways" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, "invalid_query");
    await closeDb();
  }));

Deno.test("regressions: pin and unpin through POST; a bad action is 400; an unknown run is 404", async () => {
  const model = uniq("pinning");
  const run = await call("ingest", { body: guideRun(model) });
  const pin = await call("regressions", {
    body: { action: "pin", transaction_id: run.body.transaction_id },
  });
  assert.equal(pin.status, 200);
  const unpin = await call("regressions", {
    body: { action: "unpin", model_version: model, environment: "local" },
  });
  assert.equal(unpin.status, 200);
  assert.equal(unpin.body.unpinned, 1);
  const unknown = await call("regressions", {
    body: { action: "pin", transaction_id: crypto.randomUUID() },
  });
  assert.equal(unknown.status, 404);
  const bad = await call("regressions", { body: { action: "explode" } });
  assert.equal(bad.status, 400);
  await closeDb();
});
