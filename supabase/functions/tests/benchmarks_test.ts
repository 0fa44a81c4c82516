// benchmarks: the dashboard's read API with the anon key.

import assert from "node:assert/strict";
import { call, closeDb, guideRun, pinRun, regressedRun, uniq } from "./helpers.ts";
import { withImmediateAlertPolicy } from "./helpers.ts";

Deno.test("benchmarks: snapshot, filters, series, tags, trend and run views", () =>
  withImmediateAlertPolicy(async () => {
    const model = uniq("reads");
    const base = await call("ingest", { body: guideRun(model, { tags: ["nightly"] }) });
    await pinRun(base.body.transaction_id);
    const bad = await call("ingest", { body: regressedRun(model) });

    const snap = await call("benchmarks", { as: "anon", query: { model_version: model } });
    assert.equal(snap.status, 200, JSON.stringify(snap.body));
    assert.equal(snap.body.series.length, 1);
    const s = snap.body.series[0];
    assert.equal(s.status, "regressed");
    const f1 = s.metrics.find((m: { metric: string }) => m.metric === "f1");
    assert.equal(f1.baseline, 0.895);
    assert.equal(f1.current, 0.835);
    assert.equal(f1.is_regression, true);

    const filters = await call("benchmarks", { as: "anon", query: { view: "filters" } });
    assert.ok(filters.body.model_version.includes(model));
    const tags = await call("benchmarks", { as: "anon", query: { view: "tags" } });
    assert.ok(tags.body.tags.includes("test"));
    const series = await call("benchmarks", { as: "anon", query: { view: "series" } });
    assert.ok(series.body.series.some((x: { model_version: string }) => x.model_version === model));

    const trend = await call("benchmarks", {
      as: "anon",
      query: {
        view: "trend",
        model_version: model,
        model_provider: "openai",
        dataset_version: "test-set-v1",
        prompt_version: "test-prompt-v1",
        environment: "local",
        metric: "f1",
      },
    });
    assert.equal(trend.status, 200, JSON.stringify(trend.body));
    assert.equal(trend.body.resolution, "raw");
    assert.deepEqual(trend.body.points.map((p: { value: number }) => p.value), [0.895, 0.835]);
    assert.equal(trend.body.baseline.value, 0.895);
    assert.equal(trend.body.alerts.length, 1);

    const run = await call("benchmarks", {
      as: "anon",
      query: { view: "run", transaction_id: bad.body.transaction_id },
    });
    assert.equal(run.status, 200);
    assert.equal(run.body.transaction_id, bad.body.transaction_id);
    const none = await call("benchmarks", {
      as: "anon",
      query: { view: "run", transaction_id: crypto.randomUUID() },
    });
    assert.equal(none.status, 404);
    const wrong = await call("benchmarks", { as: "anon", query: { view: "nope" } });
    assert.equal(wrong.status, 400);
    await closeDb();
  }));

Deno.test("benchmarks: the snapshot comes in pages that follow next_offset", async () => {
  const model = uniq("pages");
  for (const env of ["e1", "e2", "e3"]) {
    const r = await call("ingest", { body: { ...guideRun(model), environment: env } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const seen: string[] = [];
  let offset: number | null = 0;
  let pages = 0;
  while (offset !== null) {
    const page = await call("benchmarks", {
      as: "anon",
      query: { model_version: model, limit: "2", offset: String(offset) },
    });
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.equal(page.body.total, 3);
    assert.equal(page.body.limit, 2);
    assert.equal(page.body.offset, offset);
    seen.push(
      ...page.body.series.map((s: { series: { environment: string } }) => s.series.environment),
    );
    offset = page.body.next_offset;
    pages++;
  }
  assert.equal(pages, 2);
  assert.deepEqual(seen, ["e1", "e2", "e3"]);

  const bads: Record<string, string>[] = [
    { limit: "0" },
    { limit: "1001" },
    { offset: "-1" },
    { offset: "x" },
  ];
  for (const bad of bads) {
    const r = await call("benchmarks", { as: "anon", query: { model_version: model, ...bad } });
    assert.equal(r.status, 400, `${JSON.stringify(bad)} -> ${r.status}`);
    assert.equal(r.body.error, "invalid_query");
  }
  await closeDb();
});
