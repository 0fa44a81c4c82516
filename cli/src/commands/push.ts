// benchwatch push: the setup guide's push_to_supabase.py, against the ingest function.

import { createHash, randomUUID } from "node:crypto";
import { Api } from "../api.ts";
import { connection, loadEnv } from "../config.ts";
import { CliError, EXIT, type ExitCode } from "../errors.ts";
import { prepareRuns, readRuns, type RunDefaults } from "../inputs.ts";
import {
  markdownSummary,
  progress,
  type RunVerdict,
  seriesLabel,
  verdictOf,
  verdictTable,
  writeStepSummary,
} from "../output.ts";

export interface PushOptions {
  input: string[];
  format?: string;
  modelVersion?: string;
  modelProvider?: string;
  datasetVersion?: string;
  promptVersion?: string;
  environment?: string;
  commitSha?: string;
  branchName?: string;
  runId?: string;
  triggeredBy?: string;
  tags?: string[];
  notes?: string;
  verify?: boolean;
  failOnRegression?: boolean;
  idempotencyKey?: string;
  dryRun?: boolean;
  batchSize?: string;
  url?: string;
  key?: string;
  retries?: string;
}

/** Inside GitHub Actions, missing run metadata comes from the job's environment. */
export function githubDefaults(env: Record<string, string | undefined>): RunDefaults {
  if (env.GITHUB_ACTIONS !== "true") return {};
  return {
    commit_sha: env.GITHUB_SHA,
    branch_name: env.GITHUB_REF_NAME,
    run_id: env.GITHUB_RUN_ID,
    triggered_by: env.GITHUB_ACTOR,
  };
}

/**
 * A key that is the same for every retry of this push. In GitHub Actions it is also the same
 * when the same job attempt pushes the same results again (so a re-run step is a no-op), and
 * differs for another attempt (GITHUB_RUN_ATTEMPT) or other results.
 */
export function idempotencyKey(
  explicit: string | undefined,
  env: Record<string, string | undefined>,
  runs: unknown[],
): string {
  if (explicit) return explicit;
  if (env.GITHUB_ACTIONS === "true" && env.GITHUB_RUN_ID) {
    const content = createHash("sha256").update(JSON.stringify(runs)).digest("hex").slice(0, 16);
    return `gh-${env.GITHUB_REPOSITORY ?? "repo"}-${env.GITHUB_RUN_ID}-${
      env.GITHUB_RUN_ATTEMPT ?? "1"
    }-${content}`;
  }
  return `bw-${randomUUID()}`;
}

export async function push(opts: PushOptions, log = console.log): Promise<ExitCode> {
  const env = loadEnv();
  const gh = githubDefaults(env);
  const defaults: RunDefaults = {
    environment: opts.environment,
    commit_sha: opts.commitSha ?? gh.commit_sha,
    branch_name: opts.branchName ?? gh.branch_name,
    run_id: opts.runId ?? gh.run_id,
    triggered_by: opts.triggeredBy ?? gh.triggered_by,
    tags: opts.tags,
    notes: opts.notes,
  };
  const runs = prepareRuns(readRuns(opts.input, opts), defaults);
  if (opts.dryRun) {
    log(
      `✓ ${runs.length} benchmark run${
        runs.length === 1 ? "" : "s"
      } valid (dry run: nothing was sent)`,
    );
    return EXIT.OK;
  }
  const batchSize = Number(opts.batchSize ?? 500);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
    throw new CliError("Use a --batch-size from 1 to 1000", EXIT.CONFIG);
  }
  const api = new Api(connection(opts, "write", env), {
    retries: opts.retries === undefined ? undefined : Number(opts.retries),
    onRetry: (n, reason) => console.error(`retrying (${n}) after: ${reason}`),
  });
  const key = idempotencyKey(opts.idempotencyKey, env, runs);
  const results: RunVerdict[] = [];
  const tick = runs.length > 1 ? progress(runs.length) : () => {};
  for (let i = 0; i < runs.length; i += batchSize) {
    const batch = runs.slice(i, i + batchSize);
    const single = runs.length === 1;
    const answer = await api.call<RunVerdict | { runs: RunVerdict[] }>("ingest", {
      body: single ? batch[0] : { runs: batch },
      headers: { "Idempotency-Key": single ? key : `${key}:${i / batchSize}` },
    });
    results.push(...("runs" in answer ? answer.runs : [answer]));
    tick(Math.min(i + batchSize, runs.length));
  }

  if (results.length === 1) log(`✓ Benchmark persisted successfully: ${results[0].transaction_id}`);
  else log(`✓ ${results.length} benchmark runs persisted successfully`);
  if (opts.verify) {
    for (const r of results) {
      await api.call("benchmarks", { query: { view: "run", transaction_id: r.transaction_id } });
    }
    log(
      results.length === 1
        ? `✓ Verification passed: Transaction ${results[0].transaction_id} exists`
        : `✓ Verification passed: all ${results.length} transactions exist`,
    );
  }
  log("SUCCESS: Benchmark results persisted to Supabase");

  const regressed = results.filter((r) => verdictOf(r) === "regressed");
  const shown = results.length <= 5 ? results : regressed.slice(0, 5);
  for (const r of shown) {
    log(`\n${seriesLabel(r.series)}: ${verdictOf(r).replace("_", " ")}`);
    log(verdictTable(r));
  }
  if (results.length > 5) log(`\n${regressed.length} of ${results.length} runs regressed`);
  writeStepSummary(
    markdownSummary("benchwatch push", shown.length ? shown : results.slice(0, 5)),
    env,
  );
  if (regressed.length && opts.failOnRegression) {
    log(
      `\n✗ Regression detected in ${regressed.length} run${
        regressed.length === 1 ? "" : "s"
      } (--fail-on-regression)`,
    );
    return EXIT.REGRESSION;
  }
  return EXIT.OK;
}
