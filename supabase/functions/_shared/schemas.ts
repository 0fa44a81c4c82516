// The ingest body: one run as in the setup guide's Step 5 JSON, or `{ runs: [...] }` for a
// batch stored all-or-nothing. The `ingest` function and the Node CLI both import this file,
// so it depends on zod alone (no Deno globals).

import { z } from "zod";

const text = (max: number) => z.string().trim().min(1).max(max);

const MetricName = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:\-\/]+$/);

// z.number() already rejects NaN and ±Infinity (JSON's 1e999 parses to Infinity). zod's
// records drop a "__proto__" key rather than assign it, so it can never reach the database.
export const MetricsSchema = z.record(MetricName, z.number())
  .refine((m) => Object.keys(m).length >= 1, { message: "Add at least one metric" })
  .refine((m) => Object.keys(m).length <= 200, { message: "Send at most 200 metrics per run" });

/** At most this many examples per run (the SQL's paired_defaults.max_examples default). */
export const MAX_EXAMPLES_PER_RUN = 10_000;

// One example's outcome per metric: 0/1 (binary: McNemar's exact test against the baseline)
// or any number (graded: the sign test). Paired with the baseline's examples by id.
const ExampleSchema = z.strictObject({
  id: text(200),
  slice: z.string().min(1).max(200).optional(),
  scores: z.record(MetricName, z.number())
    .refine((s) => Object.keys(s).length >= 1, { message: "Score at least one metric" }),
});

const FUTURE_SKEW_MS = 5 * 60 * 1000;

export const RunSchema = z.strictObject({
  model_version: text(200),
  dataset_version: text(200),
  prompt_version: text(200),
  model_provider: text(100),
  metrics: MetricsSchema,
  environment: text(100).default("default"),
  commit_sha: text(100),
  branch_name: text(255).optional(),
  run_id: text(255).optional(),
  triggered_by: text(255).optional(),
  tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  notes: z.string().max(10_000).optional(),
  dataset_size: z.int().positive().max(2_147_483_647).optional(),
  duration_seconds: z.number().nonnegative().optional(),
  // Noise-aware alerting: a metric's standard error as the eval computed it, or the values
  // of repeated trials (sd / sqrt(k) is used). Keys must be metrics of the run.
  metric_stderr: z.record(MetricName, z.number().nonnegative()).optional(),
  metric_trials: z.record(MetricName, z.array(z.number()).min(2).max(1000)).optional(),
  // Which way is better for a metric. Creates the metric's policy when none covers it; a
  // direction that conflicts with an existing policy is refused (BW022), never applied.
  metric_directions: z.record(MetricName, z.enum(["higher", "lower"])).optional(),
  // Per-example outcomes, paired by id with the baseline run's (docs/api.md, "examples").
  examples: z.array(ExampleSchema).min(1).max(MAX_EXAMPLES_PER_RUN, {
    message: `Send at most ${MAX_EXAMPLES_PER_RUN} examples per run`,
  }).optional(),
  created_at: z.iso.datetime({ offset: true })
    .refine((at) => Date.parse(at) <= Date.now() + FUTURE_SKEW_MS, {
      message: "Send a created_at no more than 5 minutes in the future",
    })
    .optional(),
}).superRefine((run, ctx) => {
  for (const field of ["metric_stderr", "metric_trials", "metric_directions"] as const) {
    for (const name of Object.keys(run[field] ?? {})) {
      if (!Object.hasOwn(run.metrics, name)) {
        ctx.addIssue({
          code: "custom",
          path: [field, name],
          message: `Send ${field} only for metrics of the run: "${name}" is not in metrics`,
        });
      }
    }
  }
  const ids = new Set<string>();
  run.examples?.forEach((example, i) => {
    if (ids.has(example.id)) {
      ctx.addIssue({
        code: "custom",
        path: ["examples", i, "id"],
        message: `Give every example its own id: "${example.id}" appears more than once`,
      });
    }
    ids.add(example.id);
    for (const name of Object.keys(example.scores)) {
      if (!Object.hasOwn(run.metrics, name)) {
        ctx.addIssue({
          code: "custom",
          path: ["examples", i, "scores", name],
          message: `Score examples only on metrics of the run: "${name}" is not in metrics`,
        });
      }
    }
  });
  const seen = new Set<string>();
  run.tags?.forEach((tag, i) => {
    if (seen.has(tag)) {
      ctx.addIssue({ code: "custom", path: ["tags", i], message: `Remove duplicate tag "${tag}"` });
    }
    seen.add(tag);
  });
});

const BatchSchema = z.strictObject({ runs: z.array(RunSchema).min(1).max(1000) });

export const IngestBodySchema = z.union([RunSchema, BatchSchema]);

export type Run = z.output<typeof RunSchema>;
export type IngestBody = z.output<typeof IngestBodySchema>;

export function normalizeIngestBody(body: IngestBody): Run[] {
  return "runs" in body ? body.runs : [body];
}

/**
 * Parses an ingest body into its runs. It accepts exactly what IngestBodySchema accepts, but
 * picks the branch by the presence of `runs`, so errors point at the offending field instead
 * of being one opaque "invalid_union" issue.
 */
export function parseIngestBody(
  input: unknown,
): { success: true; runs: Run[] } | { success: false; error: z.ZodError } {
  const isBatch = typeof input === "object" && input !== null && Object.hasOwn(input, "runs");
  const result = isBatch ? BatchSchema.safeParse(input) : RunSchema.safeParse(input);
  return result.success
    ? { success: true, runs: normalizeIngestBody(result.data) }
    : { success: false, error: result.error };
}

export interface FormattedIssue {
  /** JSON Pointer (RFC 6901) to the offending value; "" is the whole body. */
  path: string;
  message: string;
  code: string;
}

const pointer = (path: readonly PropertyKey[]): string =>
  path.map((p) => "/" + String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("");

/** Flattens zod issues for the 400 problem body's `details.issues`, one per unknown key. */
export function formatZodIssues(error: z.ZodError): FormattedIssue[] {
  return error.issues.flatMap((issue): FormattedIssue[] => {
    switch (issue.code) {
      case "unrecognized_keys":
        return issue.keys.map((key) => ({
          path: pointer([...issue.path, key]),
          message: `Remove unknown field "${key}"`,
          code: issue.code,
        }));
      case "invalid_key":
        return [{
          path: pointer(issue.path),
          message: `${issue.message}: ${issue.issues.map((i) => i.message).join("; ")}`,
          code: issue.code,
        }];
      default:
        return [{ path: pointer(issue.path), message: issue.message, code: issue.code }];
    }
  });
}

/** The request body's JSON Schema, for the generated OpenAPI document. */
export function ingestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(IngestBodySchema, { io: "input" });
}
