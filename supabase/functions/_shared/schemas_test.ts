import assert from "node:assert/strict";
import {
  formatZodIssues,
  IngestBodySchema,
  ingestJsonSchema,
  parseIngestBody,
  type Run,
} from "./schemas.ts";

// The setup guide's Step 5 file, verbatim; the CLI adds commit_sha from --commit-sha.
const guideFile = {
  model_version: "test-v1.0",
  dataset_version: "test-set-v1",
  prompt_version: "test-prompt-v1",
  model_provider: "openai",
  metrics: { precision: 0.91, recall: 0.88, f1: 0.895, latency_ms: 412, analysis_cost: 0.0042 },
};
const guideBody = { ...guideFile, commit_sha: "abc123" };

function issuesOf(input: unknown): { path: string; code: string; message: string }[] {
  const result = parseIngestBody(input);
  assert.equal(result.success, false, "expected the body to be rejected");
  return result.success ? [] : formatZodIssues(result.error);
}

function assertIssueAt(input: unknown, path: string, code?: string): void {
  const issues = issuesOf(input);
  const hit = issues.find((i) => i.path === path && (code === undefined || i.code === code));
  assert.ok(hit, `expected an issue at "${path}", got ${JSON.stringify(issues)}`);
  assert.ok(hit.message.length > 0);
}

Deno.test("parseIngestBody() accepts the guide's Step 5 body and defaults the environment", () => {
  const result = parseIngestBody(guideBody);
  assert.ok(result.success);
  assert.equal(result.runs.length, 1);
  assert.deepEqual(result.runs[0], { ...guideBody, environment: "default" });
  assert.ok(IngestBodySchema.safeParse(guideBody).success);
});

Deno.test("parseIngestBody() accepts a batch with full run metadata", () => {
  const run: Run = {
    ...guideBody,
    environment: "github-actions",
    commit_sha: "abc124",
    branch_name: "develop",
    run_id: "123456789",
    triggered_by: "octocat",
    tags: ["test", "'; drop table benchmark_transactions; --"],
    notes: "Test regression detection",
    dataset_size: 100,
    duration_seconds: 30,
    created_at: "2026-01-15T10:00:00+01:00",
  };
  const result = parseIngestBody({ runs: [run, guideBody] });
  assert.ok(result.success);
  assert.deepEqual(result.runs[0], run);
  assert.equal(result.runs[1].environment, "default");
});

Deno.test("parseIngestBody() trims identity strings and rejects blank ones", () => {
  const result = parseIngestBody({ ...guideBody, model_version: "  test-v1.0 " });
  assert.ok(result.success);
  assert.equal(result.runs[0].model_version, "test-v1.0");
  assertIssueAt({ ...guideBody, model_version: "   " }, "/model_version", "too_small");
});

Deno.test("parseIngestBody() rejects non-finite metrics, including JSON's 1e999", () => {
  assertIssueAt({ ...guideBody, metrics: { f1: NaN } }, "/metrics/f1", "invalid_type");
  assertIssueAt({ ...guideBody, metrics: { f1: Infinity } }, "/metrics/f1", "invalid_type");
  assertIssueAt({ ...guideBody, metrics: { f1: -Infinity } }, "/metrics/f1", "invalid_type");
  assertIssueAt(JSON.parse('{"metrics": {"f1": 1e999}}'), "/metrics/f1", "invalid_type");
});

Deno.test("parseIngestBody() rejects a string metric", () => {
  assertIssueAt({ ...guideBody, metrics: { f1: "0.9" } }, "/metrics/f1", "invalid_type");
  // Paths are JSON Pointers, so a "/" in a metric name is escaped as "~1".
  assertIssueAt({ ...guideBody, metrics: { "rouge/l": "x" } }, "/metrics/rouge~1l", "invalid_type");
});

Deno.test("parseIngestBody() rejects bad metric names and allows the documented charset", () => {
  assertIssueAt({ ...guideBody, metrics: { "f1 score": 1 } }, "/metrics/f1 score", "invalid_key");
  assertIssueAt({ ...guideBody, metrics: { ["x".repeat(129)]: 1 } }, `/metrics/${"x".repeat(129)}`);
  const ok = parseIngestBody({ ...guideBody, metrics: { "rouge/l:p-50.v_2": 1 } });
  assert.ok(ok.success);
});

Deno.test("parseIngestBody() names an unknown top-level field", () => {
  assertIssueAt({ ...guideBody, extra: 1 }, "/extra", "unrecognized_keys");
});

Deno.test("parseIngestBody() names an unknown field inside a batched run", () => {
  assertIssueAt({ runs: [guideBody, { ...guideBody, colour: "red" }] }, "/runs/1/colour");
});

Deno.test("parseIngestBody() rejects a batch with stray top-level fields", () => {
  assertIssueAt({ runs: [guideBody], model_version: "x" }, "/model_version", "unrecognized_keys");
});

Deno.test("parseIngestBody() reports a missing model_version", () => {
  const { model_version: _, ...body } = guideBody;
  assertIssueAt(body, "/model_version", "invalid_type");
});

Deno.test("parseIngestBody() rejects an empty metrics object", () => {
  assertIssueAt({ ...guideBody, metrics: {} }, "/metrics", "custom");
});

Deno.test("parseIngestBody() rejects more than 200 metrics", () => {
  const metrics = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`m${i}`, i]));
  assertIssueAt({ ...guideBody, metrics }, "/metrics", "custom");
});

Deno.test("parseIngestBody() rejects an empty batch and a batch of 1001 runs", () => {
  assertIssueAt({ runs: [] }, "/runs", "too_small");
  assertIssueAt({ runs: Array(1001).fill(guideBody) }, "/runs", "too_big");
  assert.ok(parseIngestBody({ runs: Array(1000).fill(guideBody) }).success);
});

Deno.test("parseIngestBody() rejects duplicate tags at the second occurrence", () => {
  assertIssueAt({ ...guideBody, tags: ["a", "b", "a"] }, "/tags/2", "custom");
});

Deno.test("parseIngestBody() requires commit_sha, which the guide's file leaves to the CLI", () => {
  assertIssueAt(guideFile, "/commit_sha", "invalid_type");
});

Deno.test("parseIngestBody() rejects a created_at far in the future or without an offset", () => {
  const future = new Date(Date.now() + 10 * 60 * 1000).toISOString();
  assertIssueAt({ ...guideBody, created_at: future }, "/created_at", "custom");
  assertIssueAt({ ...guideBody, created_at: "2026-01-15T10:00:00" }, "/created_at");
  const nearFuture = new Date(Date.now() + 60 * 1000).toISOString();
  assert.ok(parseIngestBody({ ...guideBody, created_at: nearFuture }).success);
});

Deno.test("parseIngestBody() rejects bad metadata types and ranges", () => {
  assertIssueAt({ ...guideBody, dataset_size: 1.5 }, "/dataset_size", "invalid_type");
  assertIssueAt({ ...guideBody, dataset_size: 0 }, "/dataset_size", "too_small");
  assertIssueAt({ ...guideBody, duration_seconds: -1 }, "/duration_seconds", "too_small");
  assertIssueAt({ ...guideBody, notes: "x".repeat(10_001) }, "/notes", "too_big");
  assertIssueAt({ ...guideBody, tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, "/tags");
});

Deno.test("parseIngestBody() rejects a body that is not an object at the root", () => {
  assertIssueAt([guideBody], "", "invalid_type");
  assertIssueAt("hello", "", "invalid_type");
  assertIssueAt(null, "", "invalid_type");
});

Deno.test("IngestBodySchema accepts the same bodies parseIngestBody() accepts", () => {
  for (const body of [guideBody, { runs: [guideBody] }, { ...guideBody, runs: [] }, {}]) {
    assert.equal(IngestBodySchema.safeParse(body).success, parseIngestBody(body).success);
  }
});

Deno.test("ingestJsonSchema() describes both body forms as closed objects", () => {
  const schema = ingestJsonSchema() as { anyOf: { additionalProperties: boolean }[] };
  assert.equal(schema.anyOf.length, 2);
  assert.ok(schema.anyOf.every((s) => s.additionalProperties === false));
  assert.match(JSON.stringify(schema), /"model_version"/);
});

const examples = [
  { id: "doc-1", slice: "invoices", scores: { f1: 1, precision: 1 } },
  { id: "doc-2", scores: { f1: 0.5 } },
];

Deno.test("parseIngestBody() accepts per-example scores, binary or graded, with optional slices", () => {
  const result = parseIngestBody({ ...guideBody, examples });
  assert.ok(result.success);
  assert.deepEqual(result.runs[0].examples, examples);
});

Deno.test("parseIngestBody() rejects a duplicate example id at its second occurrence", () => {
  assertIssueAt({ ...guideBody, examples: [...examples, examples[0]] }, "/examples/2/id", "custom");
});

Deno.test("parseIngestBody() rejects an example scoring a metric the run does not report", () => {
  const bad = [{ id: "x", scores: { accuracy: 1 } }];
  assertIssueAt({ ...guideBody, examples: bad }, "/examples/0/scores/accuracy", "custom");
});

Deno.test("parseIngestBody() rejects non-finite, string and missing example scores, and unknown fields", () => {
  assertIssueAt(
    { ...guideBody, examples: [{ id: "x", scores: { f1: Infinity } }] },
    "/examples/0/scores/f1",
  );
  assertIssueAt(
    { ...guideBody, examples: [{ id: "x", scores: { f1: "1" } }] },
    "/examples/0/scores/f1",
  );
  assertIssueAt(
    { ...guideBody, examples: [{ id: "x", scores: {} }] },
    "/examples/0/scores",
    "custom",
  );
  assertIssueAt(
    { ...guideBody, examples: [{ id: "x", scores: { f1: 1 }, y: 1 }] },
    "/examples/0/y",
  );
  assertIssueAt({ ...guideBody, examples: [{ id: " ", scores: { f1: 1 } }] }, "/examples/0/id");
});

Deno.test("parseIngestBody() rejects more than 10,000 examples and accepts 10,000", () => {
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: `e${i}`, scores: { f1: 1 } }));
  assertIssueAt({ ...guideBody, examples: many(10_001) }, "/examples", "too_big");
  assert.ok(parseIngestBody({ ...guideBody, examples: many(10_000) }).success);
});
