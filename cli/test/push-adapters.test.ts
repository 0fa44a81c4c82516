// benchwatch push of each eval tool's real output (cli/test/fixtures) to the test stack:
// the series, metrics, directions, dataset_size and standard errors that end up recorded.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { cli, closeDb, db, ROOT, uniq } from "./helpers.ts";

after(closeDb);

const fixture = (path: string) => join(ROOT, "cli", "test", "fixtures", path);

interface Recorded {
  model_version: string;
  model_provider: string;
  dataset_version: string;
  prompt_version: string;
  dataset_size: number | null;
  commit_sha: string;
  metrics: Record<string, number>;
}

async function recorded(environment: string): Promise<Recorded[]> {
  return await db()<Recorded[]>`
    select model_version, model_provider, dataset_version, prompt_version, dataset_size,
           commit_sha, metrics
    from public.benchmark_transactions where environment = ${environment}
    order by dataset_version`;
}

/** The standard error each metric's observation recorded as reported by the run. */
async function reportedStderr(environment: string): Promise<Record<string, number | null>> {
  const rows = await db()<{ key: string; se: string | null }[]>`
    select dataset_version || ' ' || metric_name as key, reported_stderr::text as se
    from benchwatch_private.metric_observations where environment = ${environment}`;
  return Object.fromEntries(rows.map((r) => [r.key, r.se === null ? null : Number(r.se)]));
}

/** The direction each metric was judged with, as the runs' recorded verdicts say. */
async function directions(environment: string): Promise<Record<string, string | null>> {
  const rows = await db()<{ metric: string; direction: string | null }[]>`
    select distinct m ->> 'metric_name' as metric, m ->> 'direction' as direction
    from public.benchmark_transactions t
    join benchwatch_private.run_identities r on r.transaction_id = t.id
    cross join lateral jsonb_array_elements(r.response -> 'metrics') as m
    where t.environment = ${environment}`;
  return Object.fromEntries(rows.map((r) => [r.metric, r.direction]));
}

async function push(file: string, environment: string, ...flags: string[]) {
  const r = await cli(["push", "--input", file, "--environment", environment, ...flags]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r;
}

test("push lm-eval results.json: one run per task in one batch, with --model-version for the file's missing model", async () => {
  const env = uniq("lm-eval");
  const r = await push(
    fixture("lm-eval/results.json"),
    env,
    "--model-version",
    "EleutherAI/pythia-14m-deduped",
    "--model-provider",
    "hf",
    "--commit-sha",
    "abc123",
  );
  assert.match(r.stdout, /✓ 3 benchmark runs persisted successfully/);
  const rows = await recorded(env);
  assert.deepEqual(rows.map((x) => [x.dataset_version, x.prompt_version, x.dataset_size]), [
    ["arc_easy@1", "0-shot", 10],
    ["lambada_openai@1", "0-shot", 10],
    ["wikitext@2", "0-shot", 10],
  ]);
  assert.ok(rows.every((x) => x.model_version === "EleutherAI/pythia-14m-deduped"));
  assert.ok(rows.every((x) => x.model_provider === "hf" && x.commit_sha === "abc123"));
  assert.deepEqual(rows[0].metrics, { acc: 0.3, acc_norm: 0.1 });
  assert.deepEqual(rows[2].metrics, {
    bits_per_byte: 1.3393660745008342,
    byte_perplexity: 2.530401076099876,
    word_perplexity: 130.4813590639406,
  });
  // Every stderr in this file is "N/A": nothing reported.
  const se = await reportedStderr(env);
  assert.equal(Object.keys(se).length, 7);
  assert.ok(Object.values(se).every((v) => v === null), JSON.stringify(se));
  // The file's higher_is_better block (and the seeded policies, which agree).
  assert.deepEqual(await directions(env), {
    acc: "higher",
    acc_norm: "higher",
    bits_per_byte: "lower",
    byte_perplexity: "lower",
    perplexity: "lower",
    word_perplexity: "lower",
  });
});

test("push an Inspect log: model, task, the scorer's stderr and the sample count are recorded", async () => {
  const env = uniq("inspect");
  await push(fixture("inspect/log_formats.json"), env);
  const [row, ...rest] = await recorded(env);
  assert.equal(rest.length, 0);
  assert.equal(row.model_version, "ollama/llama3.1");
  assert.equal(row.model_provider, "ollama");
  assert.equal(row.dataset_version, "popularity@0");
  assert.match(row.prompt_version, /^plan-[0-9a-f]{12}$/);
  assert.equal(row.commit_sha, "02526f4c", "the log's git revision, no flag given");
  assert.equal(row.dataset_size, 1);
  assert.deepEqual(row.metrics, { "match/accuracy": 0 });
  assert.deepEqual(await reportedStderr(env), { "popularity@0 match/accuracy": 0 });
  assert.deepEqual(await directions(env), { "match/accuracy": "higher" });
});

test("push promptfoo --output: per-prompt rates and means, pass_rate's binomial stderr", async () => {
  const env = uniq("promptfoo");
  await push(fixture("promptfoo/output.json"), env, "--commit-sha", "def456");
  const [row, ...rest] = await recorded(env);
  assert.equal(rest.length, 0);
  assert.equal(row.model_version, "openai:gpt-4o-mini");
  assert.equal(row.prompt_version, "Greet the user in French.");
  assert.equal(row.dataset_size, 1);
  assert.equal(row.metrics.pass_rate, 0);
  assert.equal(row.metrics["score/Topicality"], 0.6015003324002018);
  assert.equal(row.metrics.latency_ms, 1352);
  assert.equal(row.metrics.cost_usd, 0.0000081);
  const se = await reportedStderr(env);
  assert.equal(se[`${row.dataset_version} pass_rate`], 0);
  assert.equal(se[`${row.dataset_version} latency_ms`], null);
  assert.deepEqual(await directions(env), {
    cost_usd: "lower",
    errors: "lower",
    latency_ms: "lower",
    pass_rate: "higher",
    score: "higher",
    "score/Correctness": "higher",
    "score/Performance": "higher",
    "score/Tone": "higher",
    "score/Topicality": "higher",
    tokens_total: "lower",
  });
});

test("push pytest-benchmark JSON: timings in ms, stderr of the mean, rounds; --commit-sha overrides the file", async () => {
  const env = uniq("pytest-bench");
  await push(fixture("pytest-benchmark/0030.json"), env, "--commit-sha", "flag-wins");
  const [row, ...rest] = await recorded(env);
  assert.equal(rest.length, 0);
  assert.equal(row.dataset_version, "tests/test_normal.py::test_xfast_parametrized[0]");
  assert.equal(row.model_version, "CPython 2.7.3");
  assert.equal(row.commit_sha, "flag-wins");
  assert.equal(row.dataset_size, 9710);
  assert.equal(row.metrics.mean_ms, 2.61205074138546e-07 * 1000);
  assert.equal(row.metrics.ops, 1 / 2.61205074138546e-07);
  const se = await reportedStderr(env);
  const key = `${row.dataset_version} mean_ms`;
  assert.ok(
    Math.abs(se[key]! - (2.639842188231226e-07 * 1000) / Math.sqrt(9710)) < 1e-15,
    JSON.stringify(se),
  );
  assert.equal(se[`${row.dataset_version} max_ms`], null);
  const dirs = await directions(env);
  assert.equal(dirs.ops, "higher", "operations per second");
  for (const [m, d] of Object.entries(dirs)) {
    if (m.endsWith("_ms")) assert.equal(d, "lower", `${m}: a time`);
  }
});

test("push of a file in no known format exits 2, lists the formats and sends nothing", async () => {
  const env = uniq("unknown");
  const r = await cli([
    "push",
    "--input",
    join(ROOT, "package.json"),
    "--environment",
    env,
    "--commit-sha",
    "x",
  ]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /Use a results file in a known format \(or pass --format NAME\)/);
  assert.match(r.stderr, /- lm-eval: .*\n.*- inspect: /s);
  const bad = await cli([
    "push",
    "--input",
    fixture("inspect/log_formats.json"),
    "--format",
    "csv",
  ]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /Allowed choices are guide, lm-eval, inspect, promptfoo, pytest-benchmark/,
  );
  assert.equal((await recorded(env)).length, 0);
});
