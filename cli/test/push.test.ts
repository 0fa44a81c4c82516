// benchwatch push and check against the real stack: the guide's happy path and Test 3,
// the guide's troubleshooting cases, retries after a lost answer, batches, step summary.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  cli,
  closeDb,
  countRuns,
  db,
  guideFile,
  REGRESSED,
  stack,
  tmp,
  uniq,
  UUID,
} from "./helpers.ts";

after(closeDb);

test("push: the guide's Step 5 prints the three lines with a real uuid, visible through the API", async () => {
  const model = uniq("cli-happy");
  const r = await cli([
    "push",
    "--input",
    guideFile(model),
    "--environment",
    "local",
    "--commit-sha",
    "abc123",
    "--triggered-by",
    "tester",
    "--verify",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.match(new RegExp(`✓ Benchmark persisted successfully: (${UUID.source})`))
    ?.[1];
  assert.ok(id, r.stdout);
  assert.match(r.stdout, new RegExp(`✓ Verification passed: Transaction ${id} exists`));
  assert.match(r.stdout, /^SUCCESS: Benchmark results persisted to Supabase$/m);
  assert.match(r.stdout, /metric +baseline +current +change +status/);

  const headers = { authorization: `Bearer ${stack("SUPABASE_ANON_KEY")}` };
  const run = await fetch(
    `${stack("SUPABASE_URL")}/functions/v1/benchmarks?view=run&transaction_id=${id}`,
    { headers },
  );
  assert.equal(run.status, 200);
  const verdict = await fetch(
    `${stack("SUPABASE_URL")}/functions/v1/regressions?transaction_id=${id}`,
    { headers },
  );
  assert.equal((await verdict.json()).verdict, "no_baseline");
});

test("push --fail-on-regression: exit 1 on the guide's Test 3, 0 on a healthy run; check agrees", async () => {
  const model = uniq("cli-gate");
  const env = { GITHUB_STEP_SUMMARY: join(tmp(), "summary.md") };
  assert.equal(
    (await cli([
      "push",
      "--input",
      guideFile(model),
      "--environment",
      "local",
      "--commit-sha",
      `${model}-1`,
    ])).code,
    0,
  );
  const pin = await cli(["baseline", "set", "--model-version", model, "--environment", "local"]);
  assert.equal(pin.code, 0, pin.stderr);

  const bad = await cli([
    "push",
    "--input",
    guideFile(model, REGRESSED),
    "--environment",
    "local",
    "--commit-sha",
    `${model}-2`,
    "--fail-on-regression",
  ], env);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /f1 +0\.895 +0\.835 +−6\.7% +REGRESSION/);
  assert.match(bad.stdout, /latency_ms +412 +420 +\+1\.9% +ok/);
  const summary = readFileSync(env.GITHUB_STEP_SUMMARY, "utf8");
  assert.match(
    summary,
    /\| f1 \| 0\.895 \| 0\.835 \| −6\.7% \| REGRESSION \|/,
    "the step summary has the table",
  );

  const gateBad = await cli(["check", "--commit-sha", `${model}-2`]);
  assert.equal(gateBad.code, 1, "check agrees with push on the regression");
  assert.match(gateBad.stdout, /verdict: regressed/);

  const good = await cli([
    "push",
    "--input",
    guideFile(model),
    "--environment",
    "local",
    "--commit-sha",
    `${model}-3`,
    "--fail-on-regression",
  ]);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  const gateGood = await cli(["check", "--commit-sha", `${model}-3`]);
  assert.equal(gateGood.code, 0);
  assert.match(gateGood.stdout, /verdict: ok/);
  const unknown = await cli(["check", "--commit-sha", `${model}-never`]);
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /No run recorded for commit/);
});

test("troubleshooting: each case says what to do and exits with its code", async () => {
  const file = guideFile(uniq("cli-trouble"));
  const url = stack("SUPABASE_URL");
  const push = (env: Record<string, string | undefined>) =>
    cli(["push", "--input", file, "--commit-sha", "x", "--retry-for", "0s"], env);

  const slash = await push({ SUPABASE_URL: `${url}/` });
  assert.equal(slash.code, 2);
  assert.match(slash.stderr, /trailing slash/);
  assert.match(slash.stderr, new RegExp(`Fix: export SUPABASE_URL=${url}\\n`));

  const http = await push({ SUPABASE_URL: "http://xxxxx.supabase.co" });
  assert.equal(http.code, 2);
  assert.match(http.stderr, /Use https:\/\/ in SUPABASE_URL/);
  assert.match(http.stderr, /Fix: export SUPABASE_URL=https:\/\/xxxxx\.supabase\.co/);

  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const unreachable = await push({ SUPABASE_URL: `http://127.0.0.1:${port}` });
  assert.equal(unreachable.code, 3);
  assert.match(unreachable.stderr, /Could not connect to Supabase/);
  assert.match(unreachable.stderr, /ECONNREFUSED/);

  const anon = await push({ SUPABASE_SERVICE_ROLE_KEY: stack("SUPABASE_ANON_KEY") });
  assert.equal(anon.code, 2);
  assert.match(anon.stderr, /Permission denied: this is the publishable \/ anon \(read-only\) key/);
  const anonServer = await cli([
    "push",
    "--input",
    file,
    "--commit-sha",
    "x",
    "--key",
    `${stack("SUPABASE_ANON_KEY")}x`,
  ]);
  assert.equal(anonServer.code, 2, "a key the gateway rejects is a configuration error");

  // A project whose functions are not deployed: the platform's own 404 answer.
  const bare = createServer((_req, res) => {
    res.writeHead(404, { "content-type": "application/json" })
      .end(JSON.stringify({ code: "NOT_FOUND", message: "Requested function was not found" }));
  });
  await new Promise<void>((r) => bare.listen(0, "127.0.0.1", r));
  const missing = await push({
    SUPABASE_URL: `http://127.0.0.1:${(bare.address() as AddressInfo).port}`,
  });
  bare.close();
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /function is not deployed .*supabase functions deploy/);

  // The schema not applied: the SQL API the function calls is missing.
  await db()`alter function benchwatch_private.ingest_runs(jsonb, text) rename to ingest_runs_hidden_by_test`;
  try {
    const noSchema = await push({});
    assert.equal(noSchema.code, 3);
    assert.match(noSchema.stderr, /schema is not applied.*supabase db push/);
  } finally {
    await db()`alter function benchwatch_private.ingest_runs_hidden_by_test(jsonb, text) rename to ingest_runs`;
  }
});

test("retries: an answer lost after the commit is retried with the same key: one row, same uuid", async () => {
  const model = uniq("cli-retry");
  const upstream = new URL(stack("SUPABASE_URL"));
  let dropped = 0;
  // A proxy that forwards the first ingest call, waits for the committed answer, then
  // drops the connection before the client sees it.
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const fwd = request({
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      }, (up) => {
        const body: Buffer[] = [];
        up.on("data", (c) => body.push(c));
        up.on("end", () => {
          if (req.url?.startsWith("/functions/v1/ingest") && dropped === 0) {
            dropped++;
            res.socket?.destroy();
            return;
          }
          res.writeHead(up.statusCode ?? 502, up.headers).end(Buffer.concat(body));
        });
      });
      fwd.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const r = await cli([
    "push",
    "--input",
    guideFile(model),
    "--commit-sha",
    "abc123",
    "--environment",
    "local",
  ], {
    SUPABASE_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
  });
  proxy.close();
  assert.equal(dropped, 1, "the first answer was dropped");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^Supabase unreachable \(.+\), retrying for another \d+ s$/m);
  const id = r.stdout.match(UUID)?.[0];
  assert.equal(await countRuns(model), 1, "one row");
  const [row] =
    await db()`select id from public.benchmark_transactions where model_version = ${model}`;
  assert.equal(row.id, id, "the retry returned the first run's uuid");
});

test("batch: 1000 JSONL results go in batches with progress; a bad line stores nothing", async () => {
  const model = uniq("cli-batch");
  const dir = tmp();
  const file = join(dir, "results.jsonl");
  const line = (i: number) =>
    JSON.stringify({
      model_version: model,
      dataset_version: "d1",
      prompt_version: "p1",
      model_provider: "openai",
      commit_sha: `c${i}`,
      run_id: `r${i}`,
      created_at: new Date(Date.now() - (1000 - i) * 60_000).toISOString(),
      metrics: { f1: 0.9 + (i % 7) / 1000, latency_ms: 400 + (i % 11) },
    });
  writeFileSync(file, Array.from({ length: 1000 }, (_, i) => line(i)).join("\n") + "\n");
  const ok = await cli(["push", "--input", file, "--environment", "ci", "--batch-size", "250"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /✓ 1000 benchmark runs persisted successfully/);
  assert.deepEqual(ok.stderr.match(/pushed \d+\/1000 runs/g), [
    "pushed 250/1000 runs",
    "pushed 500/1000 runs",
    "pushed 750/1000 runs",
    "pushed 1000/1000 runs",
  ]);
  assert.equal(await countRuns(model), 1000);

  const model2 = uniq("cli-badline");
  const bad = join(dir, "bad.jsonl");
  const lines = Array.from({ length: 20 }, (_, i) => line(i).replace(model, model2));
  lines[12] = lines[12].replace(/"f1":[0-9.]+/, '"f1":"high"');
  writeFileSync(bad, lines.join("\n"));
  const r = await cli(["push", "--input", bad, "--environment", "ci"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.jsonl:13: \/metrics\/f1/);
  assert.equal(await countRuns(model2), 0, "nothing from the failing input was stored");
});

test("push --dry-run validates without sending; --help documents the exit codes", async () => {
  const model = uniq("cli-dry");
  const r = await cli(["push", "--input", guideFile(model), "--commit-sha", "abc", "--dry-run"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /1 benchmark run valid \(dry run/);
  assert.equal(await countRuns(model), 0);
  const noSha = await cli(["push", "--input", guideFile(model), "--dry-run"]);
  assert.equal(noSha.code, 2);
  assert.match(noSha.stderr, /commit_sha.*--commit-sha/);
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  for (
    const code of ["0  ok", "1  a regression", "2  usage or configuration", "3  remote or network"]
  ) {
    assert.ok(help.stdout.includes(code), code);
  }
});

test("push in GitHub Actions: metadata comes from the job; attempt 2 and a re-run replay", async () => {
  const model = uniq("cli-gha");
  const gha = {
    GITHUB_ACTIONS: "true",
    GITHUB_SHA: "f00dfeed",
    GITHUB_REF_NAME: "main",
    GITHUB_RUN_ID: "777",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_ACTOR: "octocat",
    GITHUB_REPOSITORY: `org/${model}`,
  };
  const first = await cli(
    ["push", "--input", guideFile(model), "--environment", "github-actions"],
    gha,
  );
  assert.equal(first.code, 0, first.stderr);
  const [row] =
    await db()`select commit_sha, branch_name, run_id, triggered_by from public.benchmark_transactions where model_version = ${model}`;
  assert.deepEqual({ ...row }, {
    commit_sha: "f00dfeed",
    branch_name: "main",
    run_id: "777",
    triggered_by: "octocat",
  });
  for (const attempt of ["1", "2"]) {
    const again = await cli(
      ["push", "--input", guideFile(model), "--environment", "github-actions"],
      { ...gha, GITHUB_RUN_ATTEMPT: attempt },
    );
    assert.equal(again.code, 0);
    assert.equal(
      again.stdout.match(UUID)?.[0],
      first.stdout.match(UUID)?.[0],
      `the same results pushed again in attempt ${attempt} replay`,
    );
  }
  const other = await cli([
    "push",
    "--input",
    guideFile(model, { f1: 0.5 }),
    "--environment",
    "github-actions",
  ], gha);
  assert.equal(other.code, 0, "other results in the same job are a new run");
  assert.equal(await countRuns(model), 2);
});

test("push: a flag overrides the file, and the file's value wins over the GitHub Actions default", async () => {
  const model = uniq("cli-precedence");
  const dir = tmp();
  const file = join(dir, "runs.jsonl");
  const run = (i: number, extra: Record<string, unknown>) =>
    JSON.stringify({
      model_version: model,
      dataset_version: "d1",
      prompt_version: "p1",
      model_provider: "openai",
      metrics: { f1: 0.8 + i / 100 },
      ...extra,
    });
  writeFileSync(
    file,
    [
      run(0, { run_id: "file-run-0", commit_sha: "file-sha", branch_name: "file-branch" }),
      run(1, { run_id: "file-run-1" }),
      run(2, {}),
    ].join("\n"),
  );
  const gha = {
    GITHUB_ACTIONS: "true",
    GITHUB_SHA: "env-sha",
    GITHUB_REF_NAME: "env-branch",
    GITHUB_RUN_ID: "77",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_ACTOR: "env-actor",
  };
  const r = await cli(
    ["push", "--input", file, "--environment", "ci", "--triggered-by", "flag-actor"],
    gha,
  );
  assert.equal(r.code, 0, r.stderr);
  const rows = await db()`
    select run_id, commit_sha, branch_name, triggered_by from public.benchmark_transactions
     where model_version = ${model} order by metrics ->> 'f1'`;
  assert.deepEqual(rows.map((x) => ({ ...x })), [
    {
      run_id: "file-run-0",
      commit_sha: "file-sha",
      branch_name: "file-branch",
      triggered_by: "flag-actor",
    },
    {
      run_id: "file-run-1",
      commit_sha: "env-sha",
      branch_name: "env-branch",
      triggered_by: "flag-actor",
    },
    { run_id: "77", commit_sha: "env-sha", branch_name: "env-branch", triggered_by: "flag-actor" },
  ]);

  const flagged = await cli(
    ["push", "--input", file, "--environment", "ci", "--run-id", "flag-run"],
    gha,
  );
  assert.equal(flagged.code, 0, flagged.stderr);
  const runIds = await db()`
    select run_id from public.benchmark_transactions
     where model_version = ${model} and triggered_by = 'env-actor' order by metrics ->> 'f1'`;
  assert.deepEqual(
    runIds.map((x) => x.run_id),
    ["flag-run", "flag-run", "flag-run"],
    "--run-id overrides every run's own run_id",
  );
  const help = await cli(["push", "--help"]);
  assert.match(help.stdout, /a flag overrides the input file's value/);
  assert.match(help.stdout, /--retry-for <duration>/);
});

test("push: a partial push that fails says how many runs are recorded; the same command again records the rest once", async () => {
  const model = uniq("cli-partial");
  const dir = tmp();
  const file = join(dir, "runs.jsonl");
  writeFileSync(
    file,
    Array.from({ length: 250 }, (_, i) =>
      JSON.stringify({
        model_version: model,
        dataset_version: "d1",
        prompt_version: "p1",
        model_provider: "openai",
        commit_sha: "c1",
        run_id: `r${i}`,
        metrics: { f1: 0.9 },
      })).join("\n"),
  );
  const upstream = new URL(stack("SUPABASE_URL"));
  let ingests = 0;
  // Forwards the first two ingest requests, then answers 503 as a database outage would.
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (req.url?.startsWith("/functions/v1/ingest") && ++ingests > 2) {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" })
          .end(JSON.stringify({ error: "database_unreachable", message: "Retry in a moment" }));
        return;
      }
      const fwd = request({
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      }, (up) => {
        const body: Buffer[] = [];
        up.on("data", (c) => body.push(c));
        up.on(
          "end",
          () => res.writeHead(up.statusCode ?? 502, up.headers).end(Buffer.concat(body)),
        );
      });
      fwd.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const args = ["push", "--input", file, "--environment", "ci", "--batch-size", "50"];
  const t0 = Date.now();
  const partial = await cli([...args, "--retry-for", "3s"], {
    SUPABASE_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
  });
  const waited = Date.now() - t0;
  proxy.close();
  assert.equal(partial.code, 3, partial.stderr);
  assert.match(
    partial.stderr,
    /^✗ 100 of 250 runs recorded; run the same command again to record the rest, nothing will be recorded twice$/m,
  );
  assert.match(partial.stderr, /^database unavailable, retrying for another [1-3] s$/m);
  // It stops retrying once the next Retry-After (1 s) would end past the 3 s budget.
  assert.ok(waited >= 2000, `gave up after ${waited} ms, well before the 3 s budget`);
  assert.equal(await countRuns(model), 100);

  const rest = await cli(args);
  assert.equal(rest.code, 0, rest.stderr);
  assert.match(
    rest.stdout,
    /✓ 250 benchmark runs persisted successfully \(100 were already recorded and not recorded again\)/,
  );
  assert.equal(await countRuns(model), 250, "250 rows for 250 run_ids");
});
