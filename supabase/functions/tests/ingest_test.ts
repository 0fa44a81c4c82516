// ingest over HTTP, through the gateway: who may write, what is rejected (always 4xx, and
// nothing stored), and idempotency (replays, concurrent duplicates, a reused key, a copy of a
// run under another key, re-measurements).

import assert from "node:assert/strict";
import {
  call,
  closeDb,
  countRuns,
  type Credential,
  db,
  guideRun,
  uniq,
  userJwt,
} from "./helpers.ts";
import { stackEnv } from "./env.ts";

Deno.test("ingest: the guide's run is recorded with 201, its id and a per-metric verdict", async () => {
  const model = uniq("ingest-happy");
  const res = await call("ingest", { body: guideRun(model) });
  assert.equal(res.status, 201);
  assert.match(res.body.transaction_id, /^[0-9a-f-]{36}$/);
  assert.ok(res.body.snapshot_id, "the snapshot id is returned");
  assert.equal(res.body.regression, false);
  assert.deepEqual(res.body.metrics.map((m: { metric_name: string }) => m.metric_name).sort(), [
    "analysis_cost",
    "f1",
    "latency_ms",
    "precision",
    "recall",
  ]);
  assert.equal(await countRuns(model), 1);
  await closeDb();
});

Deno.test("ingest: the auth matrix", async () => {
  const model = uniq("ingest-auth");
  const [token] = await db()`select benchwatch_private.create_ingest_token('auth matrix') as t`;
  const [revoked] = await db()`select benchwatch_private.create_ingest_token('revoked') as t`;
  await db()`select benchwatch_private.revoke_ingest_token(${revoked.t.id}::uuid)`;
  const cases: [string, Credential, number, string?][] = [
    ["no credential", "none", 401, "missing_credentials"],
    ["the anon key", "anon", 403, "read_only_key"],
    ["an authenticated user's JWT", { bearer: await userJwt() }, 403, "forbidden"],
    ["a revoked token", { bearer: revoked.t.token }, 401, "invalid_token"],
    ["an unknown token", { bearer: "bw_not-a-real-token" }, 401, "invalid_token"],
    ["the publishable key", "publishable", 403, "read_only_key"],
    [
      "the publishable key in apikey alone",
      {
        apikey: stackEnv("SUPABASE_PUBLISHABLE_KEY"),
      },
      403,
      "read_only_key",
    ],
    [
      "another project's secret key",
      { apikey: "sb_secret_not_this_projects_key" },
      401,
      "invalid_key",
    ],
    ["the service role key", "service_role", 201],
    ["the secret key", "secret", 201],
    ["the secret key in apikey alone", { apikey: stackEnv("SUPABASE_SECRET_KEY") }, 201],
    ["a valid ingest token", { bearer: token.t.token }, 201],
  ];
  for (const [what, as, status, error] of cases) {
    const res = await call("ingest", { as, body: guideRun(model, { run_id: what }) });
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
    if (error) assert.equal(res.body.error, error, what);
  }
  const anon = await call("ingest", { as: "anon", body: guideRun(model) });
  assert.match(anon.body.message, /anon \(read-only\) key/);
  const publishable = await call("ingest", { as: "publishable", body: guideRun(model) });
  assert.match(publishable.body.message, /publishable \/ anon \(read-only\) key/);
  assert.equal(await countRuns(model), 4, "only the four authorised writes were stored");
  await closeDb();
});

Deno.test("ingest: the bad-input corpus gets 4xx, never 5xx, and stores nothing", async () => {
  const model = uniq("ingest-bad");
  const good = JSON.stringify(guideRun(model));
  const cases: [string, { rawBody: string; headers?: Record<string, string> }, number][] = [
    ["NaN", { rawBody: good.replace("0.895", "NaN") }, 400],
    ["1e999", { rawBody: good.replace("0.895", "1e999") }, 400],
    ["a string metric", { rawBody: good.replace("0.895", '"0.895"') }, 400],
    ["an unknown field", { rawBody: good.replace("{", '{"colour": "red", ') }, 400],
    ["an unknown field in a batch run", {
      rawBody: `{"runs": [${good.replace("{", '{"x": 1, ')}]}`,
    }, 400],
    ["a missing model_version", { rawBody: good.replace(`"model_version":"${model}",`, "") }, 400],
    [
      "an empty metrics object",
      { rawBody: good.replace(/"metrics":\{[^}]*\}/, '"metrics":{}') },
      400,
    ],
    ["invalid JSON", { rawBody: good.slice(0, -3) }, 400],
    ["a JSON array", { rawBody: `[${good}]` }, 400],
    ["a wrong content type", { rawBody: good, headers: { "content-type": "text/plain" } }, 415],
    ["no content type", { rawBody: good, headers: { "content-type": "" } }, 415],
    ["a body over 1 MiB", { rawBody: good.replace('"abc123"', `"${"x".repeat(1_100_000)}"`) }, 413],
    ["a bad run at index 2 of a batch", {
      rawBody: `{"runs": [${good}, ${good.replace("abc123", "abc125")}, ${
        good.replace("0.895", '"x"')
      }]}`,
    }, 400],
    ["1001 runs", { rawBody: `{"runs": [${Array(1001).fill(good).join(",")}]}` }, 400],
    ["a negative dataset_size", { rawBody: good.replace("{", '{"dataset_size": -1, ') }, 400],
    ["a NUL character, which Postgres cannot store", {
      rawBody: good.replace("abc123", "abc\\u0000123"),
    }, 400],
  ];
  for (const [what, opts, status] of cases) {
    const res = await call("ingest", {
      rawBody: opts.rawBody,
      headers: { "content-type": "application/json", ...opts.headers },
    });
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
    assert.ok(res.body.error && res.body.message, `${what} has a problem body`);
  }
  const nan = await call("ingest", {
    rawBody: good.replace("0.895", "1e999"),
    headers: { "content-type": "application/json" },
  });
  assert.ok(nan.body.details.issues.some((i: { path: string }) => i.path === "/metrics/f1"));
  assert.equal(await countRuns(model), 0, "nothing was stored");
  await closeDb();
});

Deno.test("ingest: SQL-looking tags and notes are stored verbatim", async () => {
  const model = uniq("ingest-sqlish");
  const tags = ["'; drop table benchmark_transactions; --", 'a"b', "Robert'); --"];
  const notes = "1; delete from benchmark_snapshots where true; -- 'quoted' \\u0000 \\x00";
  const res = await call("ingest", { body: guideRun(model, { tags, notes }) });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const [row] =
    await db()`select tags, notes from public.benchmark_transactions where id = ${res.body.transaction_id}`;
  assert.deepEqual(row.tags, tags);
  assert.equal(row.notes, notes);
  await closeDb();
});

Deno.test("ingest: a batch is stored all at once and answered per run", async () => {
  const model = uniq("ingest-batch");
  const runs = [1, 2, 3].map((i) => guideRun(model, { commit_sha: `c${i}`, run_id: `r${i}` }));
  const res = await call("ingest", { body: { runs } });
  assert.equal(res.status, 201);
  assert.equal(res.body.runs.length, 3);
  assert.equal(
    new Set(res.body.runs.map((r: { transaction_id: string }) => r.transaction_id)).size,
    3,
  );
  assert.equal(await countRuns(model), 3);
  await closeDb();
});

Deno.test("ingest: Idempotency-Key replays, concurrent duplicates and a reused key", async () => {
  const model = uniq("ingest-idem");
  const key = `key-${crypto.randomUUID()}`;
  const first = await call("ingest", {
    body: guideRun(model),
    headers: { "idempotency-key": key },
  });
  const again = await call("ingest", {
    body: guideRun(model),
    headers: { "idempotency-key": key },
  });
  assert.equal(first.status, 201);
  assert.equal(again.status, 201);
  assert.equal(
    again.body.transaction_id,
    first.body.transaction_id,
    "a replay returns the first answer",
  );
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.equal(await countRuns(model), 1);

  const other = await call("ingest", {
    body: guideRun(model, { commit_sha: "different" }),
    headers: { "idempotency-key": key },
  });
  assert.equal(other.status, 422);
  assert.equal(other.body.error, "idempotency_key_reused");

  const model2 = uniq("ingest-race");
  const key2 = `race-${crypto.randomUUID()}`;
  const results = await Promise.all(
    Array.from(
      { length: 50 },
      () => call("ingest", { body: guideRun(model2), headers: { "idempotency-key": key2 } }),
    ),
  );
  assert.ok(results.every((r) => r.status === 201), JSON.stringify(results.map((r) => r.status)));
  assert.equal(
    new Set(results.map((r) => r.body.transaction_id)).size,
    1,
    "one transaction id for all 50",
  );
  assert.equal(await countRuns(model2), 1, "exactly one row");

  const model3 = uniq("ingest-identity");
  const a = await call("ingest", { body: guideRun(model3, { run_id: "same" }) });
  const b = await call("ingest", { body: guideRun(model3, { run_id: "same" }) });
  assert.equal(
    b.body.transaction_id,
    a.body.transaction_id,
    "without a key, the run identity dedupes",
  );
  assert.equal(await countRuns(model3), 1);
  await closeDb();
});

Deno.test("ingest: a second copy of a run under another Idempotency-Key replays the first answer; a re-measurement is recorded", async () => {
  const model = uniq("ingest-copy");
  const run = guideRun(model, { run_id: "gh-77" });
  const first = await call("ingest", { body: run, headers: { "idempotency-key": `a-${model}` } });
  const copy = await call("ingest", { body: run, headers: { "idempotency-key": `b-${model}` } });
  assert.equal(first.status, 201);
  assert.equal(copy.status, 201);
  assert.equal(copy.body.transaction_id, first.body.transaction_id, "the copy gets the first uuid");
  assert.equal(copy.body.replayed, true);
  assert.equal(copy.headers.get("idempotent-replayed"), "true");
  assert.equal(await countRuns(model), 1, "a copy under another key writes nothing");

  // Concurrent copies under 20 different keys, and in batches that hold the run twice.
  const racers = await Promise.all([
    ...Array.from({ length: 20 }, (_, i) =>
      call("ingest", {
        body: guideRun(model, { run_id: "race" }),
        headers: { "idempotency-key": `race-${i}-${model}` },
      })),
    ...Array.from({ length: 5 }, (_, i) =>
      call("ingest", {
        body: {
          runs: [
            guideRun(model, { run_id: "race" }),
            guideRun(model, { run_id: "race", notes: "second copy" }),
          ],
        },
        headers: { "idempotency-key": `race-batch-${i}-${model}` },
      })),
  ]);
  assert.ok(racers.every((r) => r.status === 201), JSON.stringify(racers.map((r) => r.status)));
  const ids = racers.flatMap((r) =>
    "runs" in r.body
      ? r.body.runs.map((x: { transaction_id: string }) => x.transaction_id)
      : [r.body.transaction_id]
  );
  assert.equal(new Set(ids).size, 1, "30 concurrent copies under 25 keys: one transaction id");
  assert.equal(await countRuns(model), 2, "and one row for them");

  const remeasured = await call("ingest", {
    body: guideRun(model, { run_id: "gh-77", metrics: { f1: 0.9 } }),
    headers: { "idempotency-key": `c-${model}` },
  });
  const later = await call("ingest", {
    body: guideRun(model, { run_id: "gh-77", created_at: "2026-11-30T12:00:00Z" }),
  });
  assert.equal(remeasured.status, 201);
  assert.equal(later.status, 201);
  assert.equal(remeasured.body.replayed, false, "other metric values are a new run");
  assert.equal(later.body.replayed, false, "another created_at is a new run");
  assert.equal(await countRuns(model), 4);

  const reused = await call("ingest", {
    body: guideRun(model, { run_id: "gh-78" }),
    headers: { "idempotency-key": `b-${model}` },
  });
  assert.equal(reused.status, 422, "a key still stands for one body");
  assert.equal(reused.body.error, "idempotency_key_reused");
  assert.equal(await countRuns(model), 4);
  await closeDb();
});
