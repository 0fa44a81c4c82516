// benchwatch push: the setup guide's push_to_supabase.py, against the ingest function.

import { createHash } from "node:crypto";
import { Api, DEFAULT_RETRY_FOR_MS, parseDuration } from "../api.ts";
import { connection, loadEnv } from "../config.ts";
import { CliError, EXIT, type ExitCode } from "../errors.ts";
import { commentOnPullRequest, type CommentOptions } from "../github.ts";
import {
  parseDirections,
  prepareRuns,
  readRuns,
  type RunDefaults,
  withDirections,
} from "../inputs.ts";
import {
  directionHint,
  markdownSummary,
  pairedLines,
  progress,
  type RunVerdict,
  seriesLabel,
  verdictOf,
  verdictTable,
  writeStepSummary,
} from "../output.ts";

export interface PushOptions extends CommentOptions {
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
  retryFor?: string;
  /** List up to 10 examples per run that got worse against the baseline. */
  showExamples?: boolean;
  /** METRIC=higher|lower, declared on every run that has the metric. */
  direction?: string[];
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
 * The Idempotency-Key of one request: the given key (with the batch's number when there
 * are several), else a hash of the batch's runs as sent. It depends on nothing but the
 * runs, so a retry, a second invocation, a resumed partial push or another job attempt
 * (GITHUB_RUN_ATTEMPT) with the same results sends the same key and gets the first
 * answer back. The server identifies runs by their content anyway (docs/api.md), so a
 * batch cut differently (--batch-size) records nothing twice either.
 */
export function batchKey(
  explicit: string | undefined,
  batch: unknown[],
  index: number,
  single: boolean,
): string {
  if (explicit) return single ? explicit : `${explicit}:${index}`;
  return `bw-${createHash("sha256").update(JSON.stringify(batch)).digest("hex").slice(0, 40)}`;
}

const count = (n: number) => n.toLocaleString("en-US");

/** Under the ingest function's 1 MiB body limit, with room for the batch's wrapper. */
export const MAX_BATCH_BYTES = 900 * 1024;

/**
 * Cuts the runs into batches of at most `size` runs and `maxBytes` of JSON each, in order, so
 * runs carrying thousands of examples never make a body the server refuses with 413. A run
 * bigger than maxBytes alone goes alone (the server says whether it fits).
 */
export function cutBatches<T>(runs: T[], size: number, maxBytes = MAX_BATCH_BYTES): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const run of runs) {
    const b = Buffer.byteLength(JSON.stringify(run)) + 1;
    if (current.length && (current.length >= size || bytes + b > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(run);
    bytes += b;
  }
  if (current.length) batches.push(current);
  return batches;
}

export async function push(opts: PushOptions, log = console.log): Promise<ExitCode> {
  const env = loadEnv();
  // A flag overrides the file; the file's own value wins over a GitHub Actions default.
  const flags: RunDefaults = {
    environment: opts.environment,
    commit_sha: opts.commitSha,
    branch_name: opts.branchName,
    run_id: opts.runId,
    triggered_by: opts.triggeredBy,
    tags: opts.tags,
    notes: opts.notes,
  };
  const runs = prepareRuns(
    withDirections(readRuns(opts.input, opts), parseDirections(opts.direction)),
    flags,
    githubDefaults(env),
  );
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
  const retryForMs = opts.retryFor === undefined
    ? DEFAULT_RETRY_FOR_MS
    : parseDuration(opts.retryFor);
  if (retryForMs === null) {
    throw new CliError(
      `Use a --retry-for duration such as 90s, 2m or 1m30s: got ${opts.retryFor}`,
      EXIT.CONFIG,
    );
  }
  const api = new Api(connection(opts, "write", env), {
    retryForMs,
    onRetry: ({ reason, remainingMs }) =>
      console.error(`${reason}, retrying for another ${Math.ceil(remainingMs / 1000)} s`),
  });
  const results: RunVerdict[] = [];
  const tick = runs.length > 1 ? progress(runs.length) : () => {};
  const batches = cutBatches(runs, batchSize);
  let sent = 0;
  for (const [index, batch] of batches.entries()) {
    const single = runs.length === 1;
    let answer: RunVerdict | { runs: RunVerdict[] };
    try {
      answer = await api.call<RunVerdict | { runs: RunVerdict[] }>("ingest", {
        body: single ? batch[0] : { runs: batch },
        headers: {
          "Idempotency-Key": batchKey(opts.idempotencyKey, batch, index, single),
        },
      });
    } catch (e) {
      if (!(e instanceof CliError) || single) throw e;
      // Say exactly what is stored, and that pushing the same results again is safe.
      const what = `${count(results.length)} of ${count(runs.length)} runs recorded`;
      throw new CliError(
        e.exitCode === EXIT.REMOTE
          ? `${what}; run the same command again to record the rest, nothing will be recorded twice\n${e.message}`
          : `${what}; fix the problem below, then run the same command again: nothing will be recorded twice\n${e.message}`,
        e.exitCode,
      );
    }
    results.push(...("runs" in answer ? answer.runs : [answer]));
    sent += batch.length;
    tick(sent);
  }

  if (results.length === 1) log(`✓ Benchmark persisted successfully: ${results[0].transaction_id}`);
  else {
    const replayed = results.filter((r) => r.replayed).length;
    log(
      `✓ ${results.length} benchmark runs persisted successfully${
        replayed ? ` (${replayed} were already recorded and not recorded again)` : ""
      }`,
    );
  }
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
    for (const line of pairedLines(r)) log(line);
    if (opts.showExamples && r.paired?.length) {
      const ex = await api.call<
        {
          flipped: { example_id: string; metric_name: string; slice: string | null }[];
          total_flipped: number;
        }
      >("benchmarks", {
        query: { view: "examples", transaction_id: r.transaction_id, change: "worse", limit: "10" },
      });
      log(
        `  worse examples (${ex.flipped.length} of ${ex.total_flipped}): ${
          ex.flipped.map((f) =>
            `${f.example_id}${f.slice ? ` [${f.slice}]` : ""} (${f.metric_name})`
          )
            .join(", ")
        }`,
      );
    }
  }
  if (results.length > 5) log(`\n${regressed.length} of ${results.length} runs regressed`);
  const hint = directionHint(results);
  if (hint) log(`\n${hint}`);
  writeStepSummary(
    markdownSummary("benchwatch push", shown.length ? shown : results.slice(0, 5)),
    env,
  );
  const commented = await commentOnPullRequest("benchwatch push", results, opts, env);
  if (commented?.startsWith("warning:")) console.error(commented);
  else if (commented) log(`\n${commented}`);
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
