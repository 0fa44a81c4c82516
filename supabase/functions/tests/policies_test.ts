// metric_directions and /ingest/policies over HTTP: a declared direction creates
// a policy, a conflicting one is 409 with a problem body naming both and stores nothing, a
// metric with no direction is direction_unknown everywhere, and `policy set` / `policy list`
// work with both secret key kinds and no other.

import assert from "node:assert/strict";
import {
  call,
  closeDb,
  countRuns,
  type Credential,
  db,
  guideRun,
  pinRun,
  uniq,
  withImmediateAlertPolicy,
} from "./helpers.ts";

/** A metric name no other test uses (metric names allow [A-Za-z0-9_.:-/]). */
const metricOf = (prefix: string) => uniq(prefix).replaceAll("-", "_");

Deno.test("ingest: a declared direction creates a policy; a conflict is 409 and stores nothing", async () => {
  const model = uniq("directions");
  const metric = metricOf("declared");
  // Its own environment: a run is judged against the latest pinned baseline of its dataset and
  // environment, and other tests pin the guide's.
  const first = await call("ingest", {
    body: guideRun(model, {
      environment: model,
      metrics: { [metric]: 1.0 },
      metric_directions: { [metric]: "lower" },
    }),
  });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const verdict = first.body.metrics.find((m: { metric_name: string }) => m.metric_name === metric);
  assert.equal(verdict.direction, "lower");
  assert.equal(verdict.policy_source, "policy");
  const [row] = await db()`select direction from public.metric_policies where metric = ${metric}`;
  assert.equal(row.direction, "lower");

  const conflict = await call("ingest", {
    body: guideRun(model, {
      environment: model,
      commit_sha: "def456",
      metrics: { [metric]: 2.0 },
      metric_directions: { [metric]: "higher" },
    }),
  });
  assert.equal(conflict.status, 409, JSON.stringify(conflict.body));
  assert.equal(conflict.body.error, "direction_conflict");
  assert.equal(conflict.body.details.sqlstate, "BW022");
  assert.match(
    conflict.body.message,
    /declared higher-is-better, but its policy says lower-is-better/,
  );
  assert.match(conflict.body.details.hint, /benchwatch policy set/);
  assert.equal(await countRuns(model), 1, "the conflicting run was not stored");
  const [after] = await db()`select direction from public.metric_policies where metric = ${metric}`;
  assert.equal(after.direction, "lower", "the policy was not overridden");
  await closeDb();
});

Deno.test("ingest: a metric with no direction is recorded as direction_unknown, opens no alert, and the read API says so", async () => {
  const model = uniq("no-direction");
  const metric = metricOf("mystery");
  const series = {
    model_version: model,
    model_provider: "openai",
    dataset_version: "test-set-v1",
    prompt_version: "test-prompt-v1",
    environment: model,
  };
  const first = await call("ingest", {
    body: guideRun(model, { environment: model, metrics: { f1: 0.9, [metric]: 1 } }),
  });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  await pinRun(first.body.transaction_id);

  // Even when every run beyond tolerance alerts at once, the metric without a direction does not.
  const second = await withImmediateAlertPolicy(() =>
    call("ingest", {
      body: guideRun(model, {
        environment: model,
        commit_sha: "nd-2",
        metrics: { f1: 0.5, [metric]: 0.1 },
      }),
    })
  );
  assert.equal(second.status, 201, JSON.stringify(second.body));
  const verdict = second.body.metrics.find((m: { metric_name: string }) =>
    m.metric_name === metric
  );
  assert.deepEqual(
    [verdict.status, verdict.direction, verdict.policy_source, verdict.is_regression],
    ["direction_unknown", null, "none", false],
  );
  assert.equal(verdict.current_value, 0.1, "the value is recorded");
  assert.equal(second.body.alerts_opened.length, 1, "f1 alerts");
  const alerts = await db()`select metric_name from public.regression_alerts
                            where model_version = ${model} order by metric_name`;
  assert.deepEqual(alerts.map((a) => a.metric_name), ["f1"]);

  const check = await call("regressions", { as: "anon", query: { commit_sha: "nd-2" } });
  assert.equal(check.status, 200, JSON.stringify(check.body));
  const run = check.body.runs.find((r: { series: { model_version: string } }) =>
    r.series.model_version === model
  );
  assert.equal(
    run.metrics.find((m: { metric_name: string }) => m.metric_name === metric).status,
    "direction_unknown",
  );

  const snapshot = await call("benchmarks", {
    as: "anon",
    query: { view: "snapshot", model_version: model },
  });
  assert.equal(snapshot.status, 200, JSON.stringify(snapshot.body));
  const shown = snapshot.body.series[0].metrics.find((m: { metric: string }) =>
    m.metric === metric
  );
  assert.deepEqual([shown.status, shown.direction], ["direction_unknown", null]);

  const trend = await call("benchmarks", {
    as: "anon",
    query: { view: "trend", ...series, metric },
  });
  assert.equal(trend.status, 200, JSON.stringify(trend.body));
  assert.equal(trend.body.direction, null);
  assert.equal(trend.body.points.length, 2);
  await closeDb();
});

Deno.test("ingest: metric_directions is checked by the schema", async () => {
  const model = uniq("directions-bad");
  const bad = await call("ingest", {
    body: guideRun(model, { metrics: { f1: 0.9 }, metric_directions: { f1: "up" } }),
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, "invalid_body");
  assert.equal(bad.body.details.issues[0].path, "/metric_directions/f1");
  const notInRun = await call("ingest", {
    body: guideRun(model, { metrics: { f1: 0.9 }, metric_directions: { recall: "higher" } }),
  });
  assert.equal(notInRun.status, 400);
  assert.match(notInRun.body.details.issues[0].message, /"recall" is not in metrics/);
  assert.equal(await countRuns(model), 0);
  await closeDb();
});

Deno.test("ingest/policies: set and list with the secret or service role key, nothing else", async () => {
  const metric = metricOf("policy_set");
  for (const as of ["secret", "service_role"] as Credential[]) {
    const set = await call("ingest/policies", {
      as,
      body: { metric, direction: as === "secret" ? "lower" : "higher", relative_threshold: 0.02 },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.metric, metric);
    assert.equal(set.body.direction, as === "secret" ? "lower" : "higher");
    assert.equal(Number(set.body.relative_threshold), 0.02);
  }
  const list = await call("ingest/policies", { as: "secret" });
  assert.equal(list.status, 200);
  const mine = list.body.policies.find((p: { metric: string }) => p.metric === metric);
  assert.equal(mine.direction, "higher");
  assert.ok(list.body.policies.some((p: { metric: string }) => p.metric === "bits_per_byte"));

  for (const as of ["anon", "publishable", "none"] as Credential[]) {
    const denied = await call("ingest/policies", { as, body: { metric, direction: "lower" } });
    // No credential is 401 (authenticate); a read-only key is 403 (not allowed).
    assert.equal(denied.status, as === "none" ? 401 : 403, `${as}: ${denied.status}`);
    assert.equal(denied.body.error, as === "none" ? "missing_credentials" : "forbidden");
  }
  const tokensUnauthenticated = await call("ingest/tokens", { as: "none" });
  assert.equal(tokensUnauthenticated.status, 401);
  assert.equal(tokensUnauthenticated.body.error, "missing_credentials");
  const [token] = await db()`select benchwatch_private.create_ingest_token('policies test') as t`;
  const byToken = await call("ingest/policies", {
    as: { bearer: token.t.token },
    body: { metric, direction: "lower" },
  });
  assert.equal(byToken.status, 403, "an ingest token cannot set policies");
  const [still] = await db()`select direction from public.metric_policies where metric = ${metric}`;
  assert.equal(still.direction, "higher");

  const invalid = await call("ingest/policies", { body: { metric, direction: "down" } });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.error, "invalid_body");
  await db()`delete from public.metric_policies where metric = ${metric}`;
  await closeDb();
});
