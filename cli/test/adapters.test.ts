// The push adapters on real output files of each tool (cli/test/fixtures, sources in its
// README): detection by content, the mapping to runs, metric names, "N/A", stderr, sizes and
// the directions each file gives. Pure: no stack needed.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { detectFormat, formatList, GUIDE } from "../src/adapters/index.ts";
import { inspect } from "../src/adapters/inspect.ts";
import { lmEval, lmEvalMetricName, lmEvalModel } from "../src/adapters/lm-eval.ts";
import { promptfoo } from "../src/adapters/promptfoo.ts";
import { pytestBenchmark } from "../src/adapters/pytest-benchmark.ts";
import { CliError, EXIT } from "../src/errors.ts";
import { prepareRuns, readRuns } from "../src/inputs.ts";
import { ROOT, tmp } from "./helpers.ts";

const FIXTURES = join(ROOT, "cli", "test", "fixtures");
const fixture = (path: string) => join(FIXTURES, path);
const load = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(fixture(path), "utf8"));

function throwsCli(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CliError, String(e));
    assert.equal(e.exitCode, EXIT.CONFIG);
    assert.match(e.message, message);
    return true;
  });
}

test("detectFormat() names each fixture's tool from its content alone", () => {
  const name = (path: string) => {
    const found = detectFormat(load(path));
    return typeof found === "string" ? found : found?.name;
  };
  assert.equal(name("lm-eval/results.json"), "lm-eval");
  assert.equal(name("lm-eval/group-results.json"), "lm-eval");
  assert.equal(name("inspect/log_formats.json"), "inspect");
  assert.equal(name("promptfoo/output.json"), "promptfoo");
  assert.equal(name("pytest-benchmark/0030.json"), "pytest-benchmark");
  assert.equal(detectFormat({ model_version: "m", metrics: { f1: 1 } }), GUIDE);
  assert.equal(detectFormat([{ metrics: { f1: 1 } }]), GUIDE);
  assert.equal(detectFormat({ accuracy: 0.9 }), undefined);
});

test("lm-eval: one run per task, 'acc,none' → acc, N/A stderr left out, n-samples.effective as dataset_size", () => {
  const runs = lmEval.toRuns(load("lm-eval/results.json"));
  assert.deepEqual(runs.map((r) => r.label), ["arc_easy", "lambada_openai", "wikitext"]);
  assert.deepEqual(runs[0].run, {
    dataset_version: "arc_easy@1",
    prompt_version: "0-shot",
    metrics: { acc: 0.3, acc_norm: 0.1 },
    dataset_size: 10,
  });
  assert.deepEqual(runs[2].run.metrics, {
    bits_per_byte: 1.3393660745008342,
    byte_perplexity: 2.530401076099876,
    word_perplexity: 130.4813590639406,
  });
  assert.equal(runs[2].run.dataset_version, "wikitext@2");
  assert.deepEqual(runs[1].directions, { acc: "higher", perplexity: "lower" });
  assert.deepEqual(runs[2].directions, {
    bits_per_byte: "lower",
    byte_perplexity: "lower",
    word_perplexity: "lower",
  });
});

test("lm-eval: a group is a run too, sized by its sample_len when n-samples has no entry", () => {
  const runs = lmEval.toRuns(load("lm-eval/group-results.json"));
  const group = runs.find((r) => r.label === "regression_arc");
  assert.ok(group);
  assert.equal(group.run.dataset_size, 20);
  assert.deepEqual(group.run.metrics, { acc: 0.15, acc_norm: 0.05 });
  assert.equal(runs.find((r) => r.label === "arc_challenge")?.run.dataset_size, 10);
});

test("lm-eval: a numeric stderr becomes metric_stderr, a non-none filter stays in the name", () => {
  const file = load("lm-eval/results.json") as { results: Record<string, Record<string, unknown>> };
  file.results.arc_easy["acc_stderr,none"] = 0.15275252316519466;
  file.results.arc_easy["acc,strict-match"] = 0.2;
  file.results.arc_easy["acc_stderr,strict-match"] = "N/A";
  const [arc] = lmEval.toRuns(file);
  assert.deepEqual(arc.run.metrics, { acc: 0.3, acc_norm: 0.1, "acc/strict-match": 0.2 });
  assert.deepEqual(arc.run.metric_stderr, { acc: 0.15275252316519466 });
  assert.equal(arc.directions["acc/strict-match"], "higher");
  assert.deepEqual(lmEvalMetricName("exact_match,flexible extract"), {
    metric: "exact_match",
    name: "exact_match/flexible_extract",
  });
});

test("lm-eval: the model is config.model_args' pretrained= (string or object), the provider config.model", () => {
  assert.equal(
    lmEvalModel({
      config: { model: "hf", model_args: "pretrained=EleutherAI/pythia-14m,dtype=float32" },
    }),
    "EleutherAI/pythia-14m",
  );
  assert.equal(lmEvalModel({ config: { model_args: { model: "gpt-4o-mini" } } }), "gpt-4o-mini");
  assert.equal(lmEvalModel({}), undefined);
  const file = {
    ...load("lm-eval/results.json"),
    config: { model: "hf", model_args: "pretrained=x/y" },
  };
  const [run] = lmEval.toRuns(file);
  assert.equal(run.run.model_version, "x/y");
  assert.equal(run.run.model_provider, "hf");
});

test("lm-eval without a model in the file: push asks for --model-version, and the flag fills it", () => {
  const file = fixture("lm-eval/results.json");
  throwsCli(
    () => prepareRuns(readRuns([file]), { commit_sha: "abc" }),
    /results\.json#arc_easy: \/model_version: .*\(pass --model-version\)/,
  );
  const runs = prepareRuns(
    readRuns([file], { modelVersion: "pythia-14m", modelProvider: "hf" }),
    { commit_sha: "abc" },
  );
  assert.equal(runs.length, 3);
  assert.ok(runs.every((r) => r.model_version === "pythia-14m" && r.model_provider === "hf"));
});

test("inspect: the log's model, task@version, plan hash, scorer/metric names and the scorer's stderr", () => {
  const [run] = inspect.toRuns(load("inspect/log_formats.json"));
  assert.equal(run.label, "popularity");
  assert.equal(run.run.model_version, "ollama/llama3.1");
  assert.equal(run.run.model_provider, "ollama");
  assert.equal(run.run.dataset_version, "popularity@0");
  assert.match(String(run.run.prompt_version), /^plan-[0-9a-f]{12}$/);
  assert.deepEqual(run.run.metrics, { "match/accuracy": 0 });
  assert.deepEqual(run.run.metric_stderr, { "match/accuracy": 0 });
  assert.equal(run.run.dataset_size, 1);
  assert.equal(run.run.commit_sha, "02526f4c");
  assert.deepEqual(run.directions, { "match/accuracy": "higher" });
  // Another solver plan is another prompt_version.
  const other = load("inspect/log_formats.json") as { plan: { config: Record<string, unknown> } };
  other.plan.config.temperature = 0.5;
  assert.notEqual(inspect.toRuns(other)[0].run.prompt_version, run.run.prompt_version);
});

test("inspect: a log that did not finish is refused with its status", () => {
  const log = { ...load("inspect/log_formats.json"), status: "error" };
  assert.throws(() => inspect.toRuns(log), /Push only finished Inspect logs: .*"error"/);
});

test("promptfoo: one run per prompt × provider, totals turned into rates and means", () => {
  const [run, ...rest] = promptfoo.toRuns(load("promptfoo/output.json"));
  assert.equal(rest.length, 0);
  assert.equal(run.run.model_version, "openai:gpt-4o-mini");
  assert.equal(run.run.model_provider, "openai");
  assert.equal(run.run.prompt_version, "Greet the user in French.");
  assert.match(String(run.run.dataset_version), /^Require a friendly French greeting/);
  assert.deepEqual(run.run.metrics, {
    pass_rate: 0,
    score: 0.8203000664800403,
    latency_ms: 1352,
    errors: 0,
    "score/Correctness": 1,
    "score/Tone": 1,
    "score/Topicality": 0.6015003324002018,
    "score/Performance": 0.5,
    cost_usd: 0.0000081,
    tokens_total: 24,
  });
  assert.deepEqual(run.run.metric_stderr, { pass_rate: 0 });
  assert.equal(run.run.dataset_size, 1);
  assert.equal(run.directions.latency_ms, "lower");
  assert.equal(run.directions.cost_usd, "lower");
  assert.equal(run.directions.pass_rate, "higher");
});

test("pytest-benchmark: one run per benchmark, seconds → _ms, stderr of the mean, rounds as dataset_size", () => {
  const [run] = pytestBenchmark.toRuns(load("pytest-benchmark/0030.json"));
  const metrics = run.run.metrics as Record<string, number>;
  assert.equal(run.run.dataset_version, "tests/test_normal.py::test_xfast_parametrized[0]");
  assert.equal(run.run.model_version, "CPython 2.7.3");
  assert.equal(run.run.model_provider, "pytest-benchmark");
  assert.equal(run.run.commit_sha, "5b78858eb718649a31fb93d8dc96ca2cee41a4cd");
  assert.equal(run.run.dataset_size, 9710);
  assert.equal(metrics.mean_ms, 2.61205074138546e-07 * 1000);
  assert.equal(metrics.max_ms, 1.329003796500009e-05 * 1000);
  assert.equal(metrics.ops, 1 / 2.61205074138546e-07);
  assert.deepEqual(run.run.metric_stderr, {
    mean_ms: (2.639842188231226e-07 * 1000) / Math.sqrt(9710),
  });
  assert.equal(run.directions.mean_ms, "lower");
  assert.equal(run.directions.ops, "higher");
});

test("readRuns: a file in no known format is refused with exit 2 and the list of formats", () => {
  const file = join(tmp(), "results.json");
  writeFileSync(file, JSON.stringify({ accuracy: 0.9 }));
  throwsCli(() => readRuns([file]), /Use a results file in a known format.*matches none of/);
  for (const name of ["guide", "lm-eval", "inspect", "promptfoo", "pytest-benchmark"]) {
    assert.match(formatList(), new RegExp(`- ${name}: `));
  }
});

test("readRuns --format: forces an adapter, and says so when the file is not that tool's output", () => {
  const runs = readRuns([fixture("pytest-benchmark/0030.json")], { format: "pytest-benchmark" });
  assert.equal(runs.length, 1);
  assert.match(runs[0].where, /0030\.json#tests\/test_normal\.py::test_xfast_parametrized\[0\]$/);
  throwsCli(
    () => readRuns([fixture("promptfoo/output.json")], { format: "pytest-benchmark" }),
    /Check .*output\.json \(read as pytest-benchmark\): it is not pytest-benchmark/,
  );
  throwsCli(() => readRuns([fixture("promptfoo/output.json")], { format: "csv" }), /--format/);
});

test("readRuns: flags for the series win over what the file says", () => {
  const [run] = readRuns([fixture("inspect/log_formats.json")], {
    modelVersion: "llama3.1-q4",
    promptVersion: "plan-v2",
  });
  assert.equal(run.run.model_version, "llama3.1-q4");
  assert.equal(run.run.prompt_version, "plan-v2");
  assert.equal(run.run.model_provider, "ollama");
});
