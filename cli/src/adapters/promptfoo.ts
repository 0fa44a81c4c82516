// promptfoo `promptfoo eval --output results.json`: one run per entry of results.prompts,
// i.e. per prompt and provider. promptfoo's per-prompt metrics are totals over the tests, so
// they are turned into rates and means over the tests the prompt ran.

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
  shortHash,
} from "./common.ts";

export const promptfoo: Adapter = {
  name: "promptfoo",
  describe: "promptfoo eval --output results.json",
  detect: (v) =>
    isObject(v) && isObject(v.results) && Array.isArray(v.results.prompts) &&
    Array.isArray(v.results.results),
  toRuns(value): AdaptedRun[] {
    const file = value as Json;
    const results = file.results as Json;
    const config = isObject(file.config) ? file.config : {};
    const dataset = typeof config.description === "string" && config.description.trim()
      ? fit(config.description)
      : `tests-${shortHash(config.tests ?? [])}`;
    const rows = (results.results as unknown[]).filter(isObject);

    return (results.prompts as unknown[]).filter(isObject).map((prompt, idx) => {
      const m = isObject(prompt.metrics) ? prompt.metrics : {};
      const pass = num(m.testPassCount) ?? 0;
      const fail = num(m.testFailCount) ?? 0;
      const errors = num(m.testErrorCount) ?? 0;
      const n = pass + fail + errors;
      const provider = String(prompt.provider ?? "unknown");
      const metrics: Record<string, number> = {};
      const stderr: Record<string, number> = {};
      const directions: Record<string, Direction> = {};
      const put = (name: string, v: number | undefined, dir: Direction) => {
        if (v === undefined || !Number.isFinite(v)) return;
        metrics[name] = v;
        directions[name] = dir;
      };
      if (n > 0) {
        const rate = pass / n;
        put("pass_rate", rate, "higher");
        stderr.pass_rate = Math.sqrt(rate * (1 - rate) / n);
        put("score", (num(m.score) ?? NaN) / n, "higher");
        put("latency_ms", (num(m.totalLatencyMs) ?? NaN) / n, "lower");
        put("errors", errors, "lower");
        // The spread of this prompt's per-test scores gives the mean score's standard error.
        const own = rows.filter((r) => r.promptIdx === idx).map((r) => num(r.score))
          .filter((s): s is number => s !== undefined);
        if (own.length >= 2 && "score" in metrics) {
          const mean = own.reduce((a, b) => a + b, 0) / own.length;
          const sd = Math.sqrt(own.reduce((a, b) => a + (b - mean) ** 2, 0) / (own.length - 1));
          stderr.score = sd / Math.sqrt(own.length);
        }
      }
      const named = isObject(m.namedScores) ? m.namedScores : {};
      const counts = isObject(m.namedScoresCount) ? m.namedScoresCount : {};
      for (const [k, v] of Object.entries(named)) {
        const count = num(counts[k]) ?? 1;
        if (num(v) !== undefined && count > 0) {
          put(metricName(`score/${k}`), (v as number) / count, "higher");
        }
      }
      put("cost_usd", num(m.cost), "lower");
      const usage = isObject(m.tokenUsage) ? m.tokenUsage : {};
      put("tokens_total", num(usage.total), "lower");

      const label = typeof prompt.label === "string" ? prompt.label.trim() : "";
      const id = typeof prompt.id === "string" ? prompt.id : shortHash(prompt.raw ?? "");
      return {
        label: `${provider} × prompt ${idx}`,
        directions,
        run: defined({
          model_version: fit(provider),
          model_provider: fit(provider.includes(":") ? provider.split(":")[0] : provider, 100),
          dataset_version: dataset,
          prompt_version: label && label.length <= 100 ? label : `prompt-${id.slice(0, 12)}`,
          metrics,
          metric_stderr: Object.keys(stderr).length ? stderr : undefined,
          dataset_size: n > 0 ? n : undefined,
        }),
      };
    });
  },
};
