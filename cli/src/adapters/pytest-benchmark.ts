// pytest-benchmark `--benchmark-json FILE` (and the files `--benchmark-autosave` stores): one
// run per benchmark. Timings are in seconds in the file and in milliseconds here, so their
// names end in `_ms`, which benchwatch reads as lower-is-better.

import {
  type AdaptedRun,
  type Adapter,
  defined,
  type Direction,
  fit,
  isObject,
  type Json,
  num,
  shortHash,
} from "./common.ts";

const TIMINGS = ["mean", "median", "min", "max", "stddev", "iqr"] as const;

export const pytestBenchmark: Adapter = {
  name: "pytest-benchmark",
  describe: "pytest-benchmark --benchmark-json output",
  detect: (v) => isObject(v) && Array.isArray(v.benchmarks) && isObject(v.machine_info),
  toRuns(value): AdaptedRun[] {
    const file = value as Json;
    const machine = file.machine_info as Json;
    const commit = isObject(file.commit_info) ? file.commit_info : {};
    const python = [machine.python_implementation, machine.python_version]
      .filter((p) => typeof p === "string" && p).join(" ") || "python";

    return (file.benchmarks as unknown[]).filter(isObject).map((b) => {
      const stats = isObject(b.stats) ? b.stats : {};
      const metrics: Record<string, number> = {};
      const directions: Record<string, Direction> = {};
      for (const t of TIMINGS) {
        const s = num(stats[t]);
        if (s === undefined) continue;
        metrics[`${t}_ms`] = s * 1000;
        directions[`${t}_ms`] = "lower";
      }
      // Files from before pytest-benchmark 3.1.0 lack ops; it fills them in as 1 / mean.
      const mean = num(stats.mean);
      const ops = num(stats.ops) ?? (mean !== undefined && mean > 0 ? 1 / mean : undefined);
      if (ops !== undefined) {
        metrics.ops = ops;
        directions.ops = "higher";
      }
      const rounds = num(stats.rounds);
      const stderr = rounds && rounds >= 2 && "stddev_ms" in metrics && "mean_ms" in metrics
        ? { mean_ms: metrics.stddev_ms / Math.sqrt(rounds) }
        : undefined;
      const name = String(b.fullname ?? b.name);
      return {
        label: name,
        directions,
        run: defined({
          model_version: fit(python),
          model_provider: "pytest-benchmark",
          dataset_version: fit(name),
          prompt_version: `options-${shortHash(b.options ?? {})}`,
          metrics,
          metric_stderr: stderr,
          dataset_size: rounds !== undefined && Number.isInteger(rounds) && rounds > 0
            ? rounds
            : undefined,
          commit_sha: typeof commit.id === "string" ? commit.id : undefined,
          branch_name: typeof commit.branch === "string" ? commit.branch : undefined,
        }),
      };
    });
  },
};
