// Reads benchmark results for `push`: a JSON file with one run (the setup guide's
// test_benchmark_results.json), `{ "runs": [...] }` or an array; a JSONL file with one run
// per line; or a directory of such files. Every run is checked against the same zod schema
// the ingest function uses, and each problem is reported with its file and line.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { formatZodIssues, type Run, RunSchema } from "../../supabase/functions/_shared/schemas.ts";
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

export function readRuns(paths: string[]): SourcedRun[] {
  const out: SourcedRun[] = [];
  const problems: string[] = [];
  for (const file of expand(paths)) {
    const text = readFileSync(file, "utf8");
    if (/\.(jsonl|ndjson)$/.test(file)) {
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
    const list = Array.isArray(value)
      ? value
      : value && typeof value === "object" && "runs" in value &&
          Array.isArray((value as { runs: unknown }).runs)
      ? (value as { runs: unknown[] }).runs
      : [value];
    list.forEach((run, i) =>
      out.push({
        run: run as Record<string, unknown>,
        where: list.length > 1 ? `${file}[${i}]` : file,
      })
    );
  }
  if (problems.length) {
    throw new CliError(`Fix the input:\n  ${problems.join("\n  ")}`, EXIT.CONFIG);
  }
  if (out.length === 0) throw new CliError("Check --input: no runs found", EXIT.CONFIG);
  return out;
}

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
        const hint = issue.path === "/commit_sha" ? " (pass --commit-sha)" : "";
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
