// The result formats `push` understands besides the setup guide's own, in the order they are
// tried. Detection reads the file's content; --format forces one.

import type { Adapter } from "./common.ts";
import { inspect } from "./inspect.ts";
import { lmEval } from "./lm-eval.ts";
import { promptfoo } from "./promptfoo.ts";
import { pytestBenchmark } from "./pytest-benchmark.ts";

export const ADAPTERS: readonly Adapter[] = [lmEval, inspect, promptfoo, pytestBenchmark];

/** The setup guide's JSON: one run, `{runs: [...]}`, an array of runs, or JSONL. */
export const GUIDE = "guide";

export const FORMATS: readonly string[] = [GUIDE, ...ADAPTERS.map((a) => a.name)];

/** The list printed when a file matches no format. */
export function formatList(): string {
  return [
    `${GUIDE}: the setup guide's results JSON (one run with "metrics", {"runs": [...]}, an array, or JSONL)`,
    ...ADAPTERS.map((a) => `${a.name}: ${a.describe}`),
  ].map((l) => `  - ${l}`).join("\n");
}

/** Any of these at the top level marks the guide's format (so its schema errors are shown). */
const GUIDE_KEYS = [
  "runs",
  "metrics",
  "model_version",
  "model_provider",
  "dataset_version",
  "prompt_version",
];

/** The adapter for a parsed file, or "guide", or undefined when nothing matches. */
export function detectFormat(value: unknown): Adapter | typeof GUIDE | undefined {
  const adapter = ADAPTERS.find((a) => a.detect(value));
  if (adapter) return adapter;
  if (Array.isArray(value)) return GUIDE;
  if (typeof value === "object" && value !== null && GUIDE_KEYS.some((k) => k in value)) {
    return GUIDE;
  }
  return undefined;
}
