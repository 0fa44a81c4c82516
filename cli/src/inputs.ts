// Reads benchmark results for `push`: a JSON file with one run (the setup guide's
// test_benchmark_results.json), `{ "runs": [...] }` or an array; a JSONL file with one run
// per line; an eval tool's own output (lm-evaluation-harness, Inspect, promptfoo,
// pytest-benchmark; see cli/src/adapters and docs/adapters.md), recognized by its content; or
// a directory of such files. Every run is checked against the same zod schema the ingest
// function uses, and each problem is reported with its file and line.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { formatZodIssues, type Run, RunSchema } from "../../supabase/functions/_shared/schemas.ts";
import type { Direction } from "./adapters/common.ts";
import { ADAPTERS, detectFormat, formatList, FORMATS, GUIDE } from "./adapters/index.ts";
import { CliError, EXIT } from "./errors.ts";

export interface SourcedRun {
  run: Record<string, unknown>;
  /** file, or file:line for JSONL */
  where: string;
}

export interface RunDefaults {
  environment?: string;
  commit_sha?: string;
  branch_name?: string;
  run_id?: string;
  triggered_by?: string;
  tags?: string[];
  notes?: string;
}

/** How to read the files: a forced format, and series fields given as flags (which win). */
export interface ReadOptions {
  format?: string;
  modelVersion?: string;
  modelProvider?: string;
  datasetVersion?: string;
  promptVersion?: string;
}

/** The runs in one parsed JSON file, by the format forced or detected. */
function runsOfJson(value: unknown, file: string, format: string | undefined): SourcedRun[] {
  const found = format === undefined
    ? detectFormat(value)
    : format === GUIDE
    ? GUIDE
    : ADAPTERS.find((a) => a.name === format);
  if (found === undefined) {
    throw new CliError(
      `Use a results file in a known format (or pass --format NAME): ${file} matches none of\n${formatList()}`,
      EXIT.CONFIG,
    );
  }
  if (found === GUIDE) {
    const list = Array.isArray(value)
      ? value
      : value && typeof value === "object" && "runs" in value &&
          Array.isArray((value as { runs: unknown }).runs)
      ? (value as { runs: unknown[] }).runs
      : [value];
    return list.map((run, i) => ({
      run: run as Record<string, unknown>,
      where: list.length > 1 ? `${file}[${i}]` : file,
    }));
  }
  let adapted;
  try {
    adapted = found.toRuns(value);
  } catch (e) {
    const why = e instanceof TypeError ? `it is not ${found.describe}` : (e as Error).message;
    throw new CliError(`Check ${file} (read as ${found.name}): ${why}`, EXIT.CONFIG);
  }
  // The file's directions travel as metric_directions: a metric no policy covers gets one,
  // and one that conflicts with a policy is refused by the server (BW022), never applied.
  return adapted.map(({ run, label, directions }) => ({
    run: Object.keys(directions).length ? { ...run, metric_directions: directions } : run,
    where: `${file}#${label}`,
  }));
}

function expand(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new CliError(`Check --input: ${p} does not exist`, EXIT.CONFIG);
    }
    if (st.isDirectory()) {
      const inside = readdirSync(p).filter((f) => /\.(json|jsonl|ndjson)$/.test(f)).sort();
      if (inside.length === 0) {
        throw new CliError(`Check --input: ${p} holds no .json or .jsonl files`, EXIT.CONFIG);
      }
      files.push(...inside.map((f) => join(p, f)));
    } else {
      files.push(p);
    }
  }
  return files;
}

export function readRuns(paths: string[], options: ReadOptions = {}): SourcedRun[] {
  const { format } = options;
  if (format !== undefined && !FORMATS.includes(format)) {
    throw new CliError(
      `Use one of these with --format: ${FORMATS.join(", ")} (got "${format}")`,
      EXIT.CONFIG,
    );
  }
  const out: SourcedRun[] = [];
  const problems: string[] = [];
  for (const file of expand(paths)) {
    const text = readFileSync(file, "utf8");
    if (/\.(jsonl|ndjson)$/.test(file)) {
      if (format !== undefined && format !== GUIDE) {
        throw new CliError(
          `Pass a .json file for --format ${format}: ${file} is JSONL, which holds guide runs`,
          EXIT.CONFIG,
        );
      }
      text.split("\n").forEach((line, i) => {
        if (line.trim() === "") return;
        try {
          out.push({ run: JSON.parse(line), where: `${file}:${i + 1}` });
        } catch (e) {
          problems.push(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
        }
      });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      problems.push(`${file}: not valid JSON (${(e as Error).message})`);
      continue;
    }
    out.push(...runsOfJson(value, file, format));
  }
  if (problems.length) {
    throw new CliError(`Fix the input:\n  ${problems.join("\n  ")}`, EXIT.CONFIG);
  }
  if (out.length === 0) throw new CliError("Check --input: no runs found", EXIT.CONFIG);
  const series = Object.fromEntries(
    Object.entries({
      model_version: options.modelVersion,
      model_provider: options.modelProvider,
      dataset_version: options.datasetVersion,
      prompt_version: options.promptVersion,
    }).filter(([, v]) => v !== undefined),
  );
  if (Object.keys(series).length === 0) return out;
  return out.map(({ run, where }) => ({
    run: run && typeof run === "object" && !Array.isArray(run) ? { ...run, ...series } : run,
    where,
  }));
}

/**
 * `--direction METRIC=higher|lower`, repeatable: declares the metric's direction on every run
 * that has the metric, over the file's own declaration (a flag wins over the file).
 */
export function parseDirections(specs: string[] | undefined): Record<string, Direction> {
  const out: Record<string, Direction> = {};
  for (const spec of specs ?? []) {
    const m = spec.match(/^(.+)=(higher|lower)$/);
    if (!m) {
      throw new CliError(
        `Use --direction METRIC=higher or METRIC=lower, e.g. --direction bits_per_byte=lower (got "${spec}")`,
        EXIT.CONFIG,
      );
    }
    out[m[1]] = m[2] as Direction;
  }
  return out;
}

export function withDirections(
  sourced: SourcedRun[],
  directions: Record<string, Direction>,
): SourcedRun[] {
  if (Object.keys(directions).length === 0) return sourced;
  return sourced.map(({ run, where }) => {
    if (!run || typeof run !== "object" || Array.isArray(run)) return { run, where };
    const r = run as Record<string, unknown>;
    const metrics = r.metrics && typeof r.metrics === "object" ? r.metrics : {};
    const mine = Object.fromEntries(
      Object.entries(directions).filter(([name]) => Object.hasOwn(metrics, name)),
    );
    if (Object.keys(mine).length === 0) return { run, where };
    const declared = r.metric_directions && typeof r.metric_directions === "object"
      ? r.metric_directions
      : {};
    return { run: { ...r, metric_directions: { ...declared, ...mine } }, where };
  });
}

const FLAG_HINTS: Record<string, string> = {
  "/commit_sha": " (pass --commit-sha)",
  "/model_version": " (pass --model-version)",
  "/model_provider": " (pass --model-provider)",
  "/dataset_version": " (pass --dataset-version)",
  "/prompt_version": " (pass --prompt-version)",
};

const defined = (o: RunDefaults) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

/**
 * Fills run metadata and validates every run; all problems at once. Precedence: a flag
 * (`overrides`) wins over the run's own value in the file, which wins over an environment
 * default (`fallbacks`, e.g. GitHub Actions' GITHUB_RUN_ID), which fills only what the
 * file leaves out (a field that is absent or null).
 */
export function prepareRuns(
  sourced: SourcedRun[],
  overrides: RunDefaults,
  fallbacks: RunDefaults = {},
): Run[] {
  const runs: Run[] = [];
  const problems: string[] = [];
  const flags = defined(overrides);
  const envDefaults = defined(fallbacks);
  for (const { run, where } of sourced) {
    const parsed = RunSchema.safeParse(
      run && typeof run === "object" && !Array.isArray(run)
        ? { ...envDefaults, ...defined(run as RunDefaults), ...flags }
        : run,
    );
    if (parsed.success) runs.push(parsed.data);
    else {
      for (const issue of formatZodIssues(parsed.error)) {
        const hint = FLAG_HINTS[issue.path] ?? "";
        problems.push(`${where}: ${issue.path || "(run)"}: ${issue.message}${hint}`);
      }
    }
  }
  if (problems.length) {
    const shown = problems.slice(0, 20);
    const more = problems.length > 20 ? `\n  …and ${problems.length - 20} more` : "";
    throw new CliError(
      `Fix the input (nothing was sent):\n  ${shown.join("\n  ")}${more}`,
      EXIT.CONFIG,
    );
  }
  return runs;
}
