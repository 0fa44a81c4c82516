// Query-string and action schemas of the read API (`benchmarks`, `regressions`) and of
// baseline / alert actions. Like schemas.ts, this file depends on zod alone, so the CLI
// and the OpenAPI generator can import it.

import { z } from "zod";

const name = z.string().trim().min(1).max(200);
const isoTime = z.iso.datetime({ offset: true });

/** Filters shared by the snapshot and the alert list. */
export const SeriesFilterSchema = z.strictObject({
  model_version: name.optional(),
  model_provider: name.optional(),
  dataset_version: name.optional(),
  prompt_version: name.optional(),
  environment: name.optional(),
});

export const SnapshotQuerySchema = SeriesFilterSchema.extend({
  view: z.literal("snapshot"),
  tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  /** Series per page (default 100). */
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  /** Series to skip: the previous answer's next_offset. */
  offset: z.coerce.number().int().min(0).max(99_999_999).optional(),
});

export const TrendQuerySchema = z.strictObject({
  view: z.literal("trend"),
  model_version: name,
  model_provider: name,
  dataset_version: name,
  prompt_version: name,
  environment: name,
  metric: z.string().min(1).max(128),
  from: isoTime.optional(),
  to: isoTime.optional(),
  max_points: z.coerce.number().int().min(10).max(100_000).optional(),
});

export const StabilityQuerySchema = SeriesFilterSchema.extend({
  view: z.literal("stability"),
  window_days: z.coerce.number().int().min(1).max(3650).optional(),
});

/** One run against its baseline, example by example. */
export const ExamplesQuerySchema = z.strictObject({
  view: z.literal("examples"),
  transaction_id: z.uuid(),
  metric: z.string().min(1).max(128).optional(),
  /** A slice label; "" is the examples without one. */
  slice: z.string().max(200).optional(),
  change: z.enum(["all", "worse", "better"]).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  offset: z.coerce.number().int().min(0).max(10_000_000).optional(),
});

export const BenchmarksQuerySchema = z.discriminatedUnion("view", [
  StabilityQuerySchema,
  SnapshotQuerySchema,
  TrendQuerySchema,
  z.strictObject({ view: z.literal("filters") }),
  z.strictObject({ view: z.literal("series") }),
  z.strictObject({ view: z.literal("tags") }),
  z.strictObject({ view: z.literal("run"), transaction_id: z.uuid() }),
  ExamplesQuerySchema,
]);
export type BenchmarksQuery = z.infer<typeof BenchmarksQuerySchema>;

export const VerdictQuerySchema = z.union([
  z.strictObject({ commit_sha: z.string().trim().min(1).max(100) }),
  z.strictObject({ transaction_id: z.uuid() }),
]);

export const AlertListQuerySchema = SeriesFilterSchema.extend({
  state: z.enum(["open", "resolved", "all"]).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const RegressionActionSchema = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal("pin"), transaction_id: z.uuid() }),
  z.strictObject({
    action: z.literal("unpin"),
    model_version: name,
    environment: name,
    dataset_version: name.optional(),
    model_provider: name.optional(),
    prompt_version: name.optional(),
  }),
  z.strictObject({
    action: z.literal("acknowledge"),
    alert_id: z.uuid(),
    by: z.string().trim().min(1).max(200).optional(),
  }),
]);
export type RegressionAction = z.infer<typeof RegressionActionSchema>;

/**
 * URLSearchParams as an object for the schemas above: repeated keys and `tags` become
 * arrays (`tags=a&tags=b` or `tags=a,b`), everything else stays a string.
 */
export function queryObject(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (key === "tags") out[key] = values.flatMap((v) => v.split(",")).filter((v) => v !== "");
    else out[key] = values.length === 1 ? values[0] : values;
  }
  return out;
}

export const TokenCreateSchema = z.strictObject({ name: z.string().trim().min(1).max(200) });

/** POST /ingest/policies: set one metric's policy (an exact name or a `*` pattern). */
export const PolicySetSchema = z.strictObject({
  metric: z.string().trim().min(1).max(128).regex(/^[A-Za-z0-9_.:\-\/*]+$/, {
    message: "Use a metric name of A-Z a-z 0-9 _ . : - / (and * for a pattern)",
  }),
  direction: z.enum(["higher", "lower"]),
  relative_threshold: z.number().nonnegative().optional(),
  absolute_floor: z.number().nonnegative().optional(),
});

export const WebhookSetupSchema = z.strictObject({
  functions_url: z.url().refine((u) => /^https?:\/\//.test(u) && !u.endsWith("/"), {
    message: "Use http(s)://<project>.supabase.co/functions/v1 without a trailing slash",
  }),
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]{32,}$/, {
    message: "Use whsec_ followed by the base64 of at least 24 random bytes",
  }),
});
