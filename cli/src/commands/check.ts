// benchwatch check: the CI gate. Exits 1 when the commit's (or run's) recorded verdict is a
// regression, 0 when it is ok or has no baseline.

import { Api } from "../api.ts";
import { connection, loadEnv } from "../config.ts";
import { CliError, EXIT, type ExitCode } from "../errors.ts";
import { commentOnPullRequest, type CommentOptions } from "../github.ts";
import {
  markdownSummary,
  pairedLines,
  type RunVerdict,
  seriesLabel,
  verdictOf,
  verdictTable,
  writeStepSummary,
} from "../output.ts";

export interface CheckOptions extends CommentOptions {
  commitSha?: string;
  transactionId?: string;
  url?: string;
  key?: string;
}

export async function check(opts: CheckOptions, log = console.log): Promise<ExitCode> {
  if (!opts.commitSha === !opts.transactionId) {
    throw new CliError("Give exactly one of --commit-sha and --transaction-id", EXIT.CONFIG);
  }
  const env = loadEnv();
  const api = new Api(connection(opts, "read", env));
  let answer: { verdict: string; runs: RunVerdict[] };
  try {
    answer = await api.call("regressions", {
      query: opts.commitSha
        ? { commit_sha: opts.commitSha }
        : { transaction_id: opts.transactionId },
    });
  } catch (e) {
    if (e instanceof CliError && /\(404 not_found\)/.test(e.message)) {
      throw new CliError(
        `No run recorded for ${
          opts.commitSha ? `commit ${opts.commitSha}` : `transaction ${opts.transactionId}`
        }: ` +
          "check that benchwatch push ran first and succeeded",
        EXIT.REMOTE,
      );
    }
    throw e;
  }
  for (const r of answer.runs) {
    log(`${seriesLabel(r.series)}: ${verdictOf(r).replace("_", " ")}`);
    log(verdictTable(r));
    // The paired lines push printed, when the run was compared with its baseline's examples.
    for (const line of pairedLines(r)) log(line);
    log("");
  }
  writeStepSummary(markdownSummary("benchwatch check", answer.runs), env);
  const commented = await commentOnPullRequest("benchwatch check", answer.runs, opts, env);
  if (commented?.startsWith("warning:")) console.error(commented);
  else if (commented) log(commented);
  log(`verdict: ${answer.verdict.replace("_", " ")}`);
  return answer.verdict === "regressed" ? EXIT.REGRESSION : EXIT.OK;
}
