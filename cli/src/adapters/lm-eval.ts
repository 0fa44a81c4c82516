// lm-evaluation-harness results.json (0.4 and later): one run per entry of `results`
// (tasks and groups alike). Metric keys are "metric,filter"; "metric_stderr,filter" is the
// metric's standard error; "N/A" means the harness did not compute the value.

import {
  type AdaptedRun,
  type Adapter,
  defined,
  type Direction,
  fit,
  isObject,
  type Json,
  metricName,
  num,
} from "./common.ts";

/** Keys of a task's results that are bookkeeping, not metrics. */
const NOT_METRICS = new Set(["alias", "name", "sample_len", "sample_count", "samples"]);

/** "acc,none" → "acc"; "exact_match,strict-match" → "exact_match/strict-match". */
export function lmEvalMetricName(key: string): { metric: string; name: string } {
  const comma = key.indexOf(",");
  const metric = comma < 0 ? key : key.slice(0, comma);
  const filter = comma < 0 ? "none" : key.slice(comma + 1);
  return { metric, name: metricName(filter === "none" ? metric : `${metric}/${filter}`) };
}

/** The model a results.json was run on: `pretrained=` (or `model=`) of config.model_args. */
export function lmEvalModel(file: Json): string | undefined {
  const config = isObject(file.config) ? file.config : {};
  const args = config.model_args;
  let found: unknown;
  if (isObject(args)) found = args.pretrained ?? args.model;
  else if (typeof args === "string") {
    const pairs = new Map(
      args.split(",").map((p) => p.split("=", 2).map((s) => s.trim()) as [string, string]),
    );
    found = pairs.get("pretrained") ?? pairs.get("model");
  }
  if (typeof found === "string" && found.trim()) return fit(found);
  return typeof file.model_name === "string" && file.model_name.trim()
    ? fit(file.model_name)
    : undefined;
}

export const lmEval: Adapter = {
  name: "lm-eval",
  describe: "lm-evaluation-harness results.json (--output_path)",
  detect: (v) =>
    isObject(v) && isObject(v.results) && !Array.isArray(v.benchmarks) &&
    ("n-shot" in v || "higher_is_better" in v || "versions" in v || "lm_eval_version" in v),
  toRuns(value): AdaptedRun[] {
    const file = value as Json;
    const results = file.results as Json;
    const table = (key: string): Json => (isObject(file[key]) ? file[key] as Json : {});
    const versions = table("versions");
    const nShot = table("n-shot");
    const nSamples = table("n-samples");
    const hib = table("higher_is_better");
    const config = isObject(file.config) ? file.config : {};
    const model = lmEvalModel(file);
    const provider = typeof config.model === "string" ? config.model : undefined;
    const elapsed = file.total_evaluation_time_seconds; // a string in the harness's output
    const seconds = typeof elapsed === "string" || typeof elapsed === "number"
      ? Number(elapsed)
      : NaN;

    return Object.entries(results).filter(([, r]) => isObject(r)).map(([task, r]) => {
      const row = r as Json;
      const metrics: Record<string, number> = {};
      const stderr: Record<string, number> = {};
      const directions: Record<string, Direction> = {};
      const better = isObject(hib[task]) ? hib[task] as Json : {};
      for (const [key, v] of Object.entries(row)) {
        if (NOT_METRICS.has(key)) continue;
        const { metric, name } = lmEvalMetricName(key);
        if (metric.endsWith("_stderr")) continue;
        const value = num(v);
        if (value === undefined) continue; // "N/A" or not a number: no metric
        metrics[name] = value;
        const filter = key.includes(",") ? key.slice(key.indexOf(",")) : "";
        const se = num(row[`${metric}_stderr${filter}`]);
        if (se !== undefined && se >= 0) stderr[name] = se;
        if (typeof better[metric] === "boolean") {
          directions[name] = better[metric] ? "higher" : "lower";
        }
      }
      const version = versions[task];
      const shots = nShot[task];
      const samples = isObject(nSamples[task]) ? nSamples[task] as Json : {};
      const size = num(samples.effective) ?? num(samples.original) ?? num(row.sample_len);
      return {
        label: task,
        directions,
        run: defined({
          model_version: model,
          model_provider: provider,
          dataset_version: fit(
            version === undefined || version === null ? task : `${task}@${String(version)}`,
          ),
          prompt_version: typeof shots === "number" ? `${shots}-shot` : "default",
          metrics,
          metric_stderr: Object.keys(stderr).length ? stderr : undefined,
          dataset_size: size !== undefined && Number.isInteger(size) && size > 0 ? size : undefined,
          duration_seconds: Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined,
        }),
      };
    });
  },
};
