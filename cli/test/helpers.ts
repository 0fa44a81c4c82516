// Runs the real CLI (cli/bin/benchwatch.mjs) in a child process against the test stack.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";

export const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
const BIN = join(ROOT, "cli", "bin", "benchwatch.mjs");

export function stack(name: string): string {
  const v = process.env[name];
  if (!v) {
    throw new Error(
      `Set ${name}: run these tests through \`npm test -- <file>\` (which starts the test ` +
        "stack), or load the running test stack's .local/test/env into the environment",
    );
  }
  return v;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI with the stack's URL and keys; `env` overrides (undefined removes a variable). */
export function cli(
  args: string[],
  env: Record<string, string | undefined> = {},
  cwd?: string,
): Promise<CliResult> {
  const base: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // npm test's private temp dir, so what the CLI leaves there is caught too.
    TMPDIR: process.env.TMPDIR,
    TSX_DISABLE_CACHE: process.env.TSX_DISABLE_CACHE,
    SUPABASE_URL: stack("SUPABASE_URL"),
    SUPABASE_SERVICE_ROLE_KEY: stack("SUPABASE_SERVICE_ROLE_KEY"),
    SUPABASE_ANON_KEY: stack("SUPABASE_ANON_KEY"),
  };
  const merged = Object.fromEntries(
    Object.entries({ ...base, ...env }).filter(([, v]) => v !== undefined),
  ) as Record<string, string>;
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: merged, cwd: cwd ?? tmp(), timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 99) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

const made: string[] = [];
// Every directory tmp() made goes when this test file's process ends, pass or fail.
process.once("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A new temporary directory, removed when the test file's process exits. */
export function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), "benchwatch-cli-"));
  made.push(dir);
  return dir;
}

/** The setup guide's test_benchmark_results.json, written to a temp file (metrics overridable). */
export function guideFile(model: string, metrics?: Record<string, number>, dir = tmp()): string {
  const file = join(dir, "test_benchmark_results.json");
  writeFileSync(
    file,
    JSON.stringify(
      {
        model_version: model,
        // A dataset per model: other tests pin baselines, and a new model is judged against the
        // latest pinned baseline of its dataset and environment.
        dataset_version: `test-set-${model}`,
        prompt_version: "test-prompt-v1",
        model_provider: "openai",
        metrics: metrics ??
          { precision: 0.91, recall: 0.88, f1: 0.895, latency_ms: 412, analysis_cost: 0.0042 },
      },
      null,
      2,
    ),
  );
  return file;
}

export const REGRESSED = {
  precision: 0.85,
  recall: 0.82,
  f1: 0.835,
  latency_ms: 420,
  analysis_cost: 0.0043,
};

export function uniq(prefix: string): string {
  return `${prefix}-${Math.random().toString(16).slice(2, 10)}`;
}

let client: postgres.Sql | undefined;
export function db(): postgres.Sql {
  client ??= postgres(stack("SUPABASE_DB_URL"), { max: 2, onnotice: () => {} });
  return client;
}
export async function closeDb(): Promise<void> {
  await client?.end();
  client = undefined;
}

export async function countRuns(model: string): Promise<number> {
  const [r] =
    await db()`select count(*)::int as n from public.benchmark_transactions where model_version = ${model}`;
  return r.n;
}

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/**
 * `benchwatch dashboard --port 0` with only the given project variables (plus PATH, HOME and
 * npm test's temp settings), resolved once it prints its local URL. Kill the child when done.
 */
export async function serveDashboard(
  project: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, "dashboard", "--port", "0"], {
    cwd: tmp(),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      TSX_DISABLE_CACHE: process.env.TSX_DISABLE_CACHE,
      ...project,
    },
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (d) => {
        out += d;
        const m = out.match(/Local URL: (http:\/\/\S+)/);
        if (m) resolve(m[1]);
      });
      child.on("exit", (code) => reject(new Error(`dashboard exited ${code}: ${out}`)));
    });
    return { url, child };
  } catch (e) {
    child.kill("SIGTERM");
    throw e;
  }
}
