// Inspect eval logs in the JSON log format (`--log-format json`, or `inspect log convert
// --to json`): one log is one task on one model, so one run. Each scorer's metrics become
// "scorer/metric"; the scorer's `stderr` metric is the standard error of its mean-type
// metrics rather than a metric of its own.

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

/** Inspect's own metrics that average the scores, so `stderr` is their standard error. */
const MEANS = new Set(["accuracy", "mean"]);

export const inspect: Adapter = {
  name: "inspect",
  describe: "Inspect eval log, JSON log format (.json)",
  detect: (v) =>
    isObject(v) && typeof v.version === "number" && isObject(v.eval) &&
    typeof v.eval.task === "string" && typeof v.eval.model === "string",
  toRuns(value): AdaptedRun[] {
    const log = value as Json;
    const ev = log.eval as Json;
    if (log.status !== "success") {
      throw new Error(
        `Push only finished Inspect logs: this log's status is "${String(log.status)}"`,
      );
    }
    const results = isObject(log.results) ? log.results : {};
    const scores = Array.isArray(results.scores) ? results.scores.filter(isObject) : [];
    const metrics: Record<string, number> = {};
    const stderr: Record<string, number> = {};
    const directions: Record<string, Direction> = {};
    for (const score of scores) {
      const scorer = String(score.name ?? score.scorer ?? "score");
      const entries = isObject(score.metrics) ? Object.values(score.metrics).filter(isObject) : [];
      const se = num(entries.find((m) => m.name === "stderr")?.value);
      for (const m of entries) {
        const metric = String(m.name);
        const value = num(m.value);
        if (metric === "stderr" || value === undefined) continue;
        const name = metricName(`${scorer}/${metric}`);
        metrics[name] = value;
        if (MEANS.has(metric)) {
          if (se !== undefined && se >= 0) stderr[name] = se;
          directions[name] = "higher";
        }
      }
    }
    const model = String(ev.model);
    const plan = isObject(log.plan) ? log.plan : {};
    const revision = isObject(ev.revision) ? ev.revision : {};
    const stats = isObject(log.stats) ? log.stats : {};
    const started = Date.parse(String(stats.started_at));
    const completed = Date.parse(String(stats.completed_at));
    const size = num(results.completed_samples);
    const version = ev.task_version;
    return [{
      label: String(ev.task),
      directions,
      run: defined({
        model_version: fit(model),
        model_provider: fit(model.includes("/") ? model.slice(0, model.indexOf("/")) : model, 100),
        dataset_version: fit(
          version === undefined || version === null ? String(ev.task) : `${ev.task}@${version}`,
        ),
        prompt_version: `plan-${
          shortHash({ steps: plan.steps ?? [], config: plan.config ?? {}, task_args: ev.task_args })
        }`,
        metrics,
        metric_stderr: Object.keys(stderr).length ? stderr : undefined,
        dataset_size: size !== undefined && Number.isInteger(size) && size > 0 ? size : undefined,
        duration_seconds: completed >= started ? (completed - started) / 1000 : undefined,
        commit_sha: typeof revision.commit === "string" ? revision.commit : undefined,
      }),
    }];
  },
};
