// The alert events notify-slack claims from SQL (benchwatch_private.claim_alert_events, one
// group per run and kind), checked before a Slack message is built from them. The SQL and
// this function are deployed separately; when they disagree, the group fails with a reason
// that names the field, recorded on its alerts, instead of posting a broken message.
// Objects are not strict: a key the SQL adds later is ignored until this function reads it.

import { z } from "zod";
import { formatZodIssues } from "./schemas.ts";

const Count = z.number().int().nonnegative();
const Probability = z.number().min(0).max(1);
const Id = z.guid();

const pairedCounts = {
  n_both: Count,
  worse: Count,
  better: Count,
  p_value: Probability,
  q_value: Probability,
};
const countsAddUp = (c: { n_both: number; worse: number; better: number }) =>
  c.worse + c.better <= c.n_both;
const countsMessage = { message: "worse + better must not exceed n_both" };

/** One slice's paired comparison; "" is the examples sent without a slice label. */
export const PairedSliceSchema = z.strictObject({ slice: z.string().max(200), ...pairedCounts })
  .refine(countsAddUp, countsMessage);

/**
 * The opening run's paired evidence for one metric (paired_alert_evidence): the overall
 * comparison with its baseline run, and the slice with the smallest q among those with more
 * examples worse than better (null when none is).
 */
export const PairedEvidenceSchema = z.strictObject({
  ...pairedCounts,
  worst_slice: PairedSliceSchema.nullable(),
}).refine(countsAddUp, countsMessage);

const AlertEventMetricSchema = z.object({
  metric: z.string().min(1),
  direction: z.enum(["higher_is_better", "lower_is_better"]),
  baseline: z.number().nullable(),
  current: z.number().nullable(),
  relative_change: z.number().nullable(),
  severity: z.enum(["critical", "major", "minor"]),
  /** Only on a regressed group's metric whose opening run has paired evidence. */
  paired: PairedEvidenceSchema.optional(),
});

const nullableText = z.string().nullable();

/** The part of a group needed to record its outcome, even when the rest is malformed. */
export const AlertEventKeySchema = z.object({
  kind: z.enum(["regressed", "recovered"]),
  alert_ids: z.array(Id).min(1),
});

export const AlertEventGroupSchema = AlertEventKeySchema.extend({
  transaction_id: Id,
  series: z.object({
    model_version: z.string(),
    model_provider: z.string(),
    dataset_version: z.string(),
    prompt_version: z.string(),
    environment: z.string(),
  }),
  baseline_model_version: nullableText,
  commit_sha: nullableText,
  branch_name: nullableText,
  run_id: nullableText,
  created_at: nullableText,
  metrics: z.array(AlertEventMetricSchema).min(1),
});

export type AlertEventGroup = z.output<typeof AlertEventGroupSchema>;

export type ParsedAlertEventGroup =
  | { ok: true; group: AlertEventGroup }
  | { ok: false; key: z.output<typeof AlertEventKeySchema> | null; reason: string };

/** Checks one claimed group; a failure says which fields are wrong and what to do. */
export function parseAlertEventGroup(raw: unknown): ParsedAlertEventGroup {
  const parsed = AlertEventGroupSchema.safeParse(raw);
  if (parsed.success) return { ok: true, group: parsed.data };
  const issues = formatZodIssues(parsed.error)
    .map((i) => `${i.path || "(the group)"}: ${i.message}`).join("; ");
  const key = AlertEventKeySchema.safeParse(raw);
  return {
    ok: false,
    key: key.success ? key.data : null,
    reason: ("Deploy notify-slack and the migrations together: claim_alert_events returned a " +
      `malformed alert event: ${issues}`).slice(0, 1000),
  };
}
