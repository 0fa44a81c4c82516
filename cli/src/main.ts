// The benchwatch command line: push results from CI, gate on regressions, manage baselines,
// tokens and the webhook, check a setup, and serve the dashboard. It talks to the Edge
// Functions over HTTP only.

import { Command, CommanderError, Option } from "commander";
import {
  baselineList,
  baselineSet,
  baselineUnset,
  policyList,
  policySet,
  tokensCreate,
  tokensList,
  tokensRevoke,
  webhookSetup,
} from "./commands/admin.ts";
import { check } from "./commands/check.ts";
import { dashboard } from "./commands/dashboard.ts";
import { doctor } from "./commands/doctor.ts";
import { push } from "./commands/push.ts";
import { FORMATS } from "./adapters/index.ts";
import { CliError, EXIT, type ExitCode } from "./errors.ts";

const EXIT_HELP = `
Exit codes:
  0  ok
  1  a regression (push --fail-on-regression, check)
  2  usage or configuration error (flags, SUPABASE_URL, keys, input files)
  3  remote or network error (Supabase unreachable, functions not deployed, schema missing)

Configuration comes from flags, then the environment, then ./.env:
  SUPABASE_URL; SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY, or BENCHWATCH_INGEST_TOKEN (writes);
  SUPABASE_PUBLISHABLE_KEY or SUPABASE_ANON_KEY (reads).`;

function connectionOptions(cmd: Command): Command {
  return cmd
    .option("--url <url>", "Supabase project URL (default: $SUPABASE_URL)")
    .option("--key <key>", "API key or ingest token (default: from the environment)");
}

/** The pull-request comment (cli/src/github.ts), for push and check. */
function commentOptions(cmd: Command): Command {
  return cmd
    .option(
      "--github-comment",
      "comment the verdict on the pull request (default: in a pull_request workflow with GITHUB_TOKEN)",
    )
    .option("--no-github-comment", "never comment on the pull request")
    .option(
      "--dashboard-url <url>",
      "dashboard to link from the comment (default: $BENCHWATCH_DASHBOARD_URL)",
    );
}

function seriesOptions(cmd: Command): Command {
  return cmd
    .option("--model-version <v>")
    .option("--model-provider <v>")
    .option("--dataset-version <v>")
    .option("--prompt-version <v>")
    .option("--environment <v>");
}

export function program(run: (code: Promise<ExitCode>) => Promise<void>): Command {
  const p = new Command("benchwatch")
    .description("Keep ML and LLM benchmark results from CI in Supabase and catch regressions.")
    .addHelpText("after", EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError("(run with --help for usage)");

  connectionOptions(commentOptions(
    p.command("push")
      .description(
        "Record benchmark results (a JSON file, JSONL, an eval tool's output, or a directory) and print the verdict",
      )
      .requiredOption(
        "--input <files...>",
        "results file(s): JSON (one run or {runs: [...]}), JSONL, lm-evaluation-harness, Inspect, promptfoo or pytest-benchmark output, or a directory",
      )
      .addOption(
        new Option("--format <name>", "read every input as this format (default: by content)")
          .choices(FORMATS),
      )
      .option("--model-version <v>", "set model_version on every run (wins over the file)")
      .option("--model-provider <v>", "set model_provider on every run (wins over the file)")
      .option("--dataset-version <v>", "set dataset_version on every run (wins over the file)")
      .option("--prompt-version <v>", "set prompt_version on every run (wins over the file)")
      .option("--environment <name>", "where the eval ran (e.g. github-actions, local, production)")
      .option("--commit-sha <sha>", "commit under test (GitHub Actions default: $GITHUB_SHA)")
      .option("--branch-name <name>", "branch (GitHub Actions default: $GITHUB_REF_NAME)")
      .option("--run-id <id>", "CI run id (GitHub Actions default: $GITHUB_RUN_ID)")
      .option("--triggered-by <who>", "who triggered it (GitHub Actions default: $GITHUB_ACTOR)")
      .option(
        "--tags <tags...>",
        "tags for experiment tracking, e.g. --tags experiment-42 temperature-0.7",
      )
      .option("--notes <text>", "free-form notes")
      .option(
        "--direction <metric=dir...>",
        "declare which way is better, e.g. --direction bits_per_byte=lower (creates the metric's policy; a conflict with an existing one is an error)",
      )
      .option("--verify", "read each run back through the API after recording it")
      .option(
        "--show-examples",
        "list up to 10 examples that got worse against the baseline (runs with examples)",
      )
      .option("--fail-on-regression", "exit 1 when any run regressed against its baseline")
      .option(
        "--idempotency-key <key>",
        "retry-safe key (default: a hash of each batch's runs, the same on every re-run)",
      )
      .option("--dry-run", "validate the input only; send nothing")
      .option("--batch-size <n>", "runs per request for many results (1 to 1000)", "500")
      .option(
        "--retry-for <duration>",
        "keep retrying an unavailable Supabase for this long, e.g. 90s, 2m (default: 2m)",
      )
      .addHelpText(
        "after",
        `
Each run's fields: a flag overrides the input file's value for every run; the file's value
overrides the GitHub Actions default, which fills only fields the file leaves out.

A run already recorded (same series, run_id, commit_sha, metrics, and created_at if given)
is not recorded again, so after a failed or partial push run the same command again.

In a pull_request workflow with GITHUB_TOKEN (and permissions: pull-requests: write), the
verdict table is commented on the pull request: one comment, updated by later pushes.`,
      ),
  )).action((o) => run(push(o)));

  connectionOptions(commentOptions(
    p.command("check")
      .description("The CI gate: exit 1 if the commit's or run's recorded verdict is a regression")
      .option("--commit-sha <sha>")
      .option("--transaction-id <uuid>"),
  )).action((o) => run(check(o)));

  const baseline = p.command("baseline").description("Pin, unpin and list baselines");
  connectionOptions(seriesOptions(
    baseline.command("set").description(
      "Pin a run (or a series' latest run) as its series' baseline",
    )
      .option("--transaction-id <uuid>"),
  )).action((o) => run(baselineSet(o)));
  connectionOptions(
    seriesOptions(baseline.command("unset").description("Unpin a series' baseline")),
  )
    .action((o) => run(baselineUnset(o)));
  connectionOptions(
    seriesOptions(
      baseline.command("list").description("Each series and the baseline it is judged against"),
    ),
  )
    .action((o) => run(baselineList(o)));

  const policy = p.command("policy").description(
    "Metric policies: which way is better, the threshold and the noise floor (secret key)",
  );
  connectionOptions(
    policy.command("set").argument("<metric>", "a metric name, or a pattern with * (e.g. *_ms)")
      .description("Set a metric's direction, and its threshold and floor when given")
      .requiredOption("--direction <dir>", "higher or lower: which way is better")
      .option("--threshold <fraction>", "relative change a regression must exceed, e.g. 0.02")
      .option("--floor <x>", "absolute change that is always noise"),
  ).action((metric, o) => run(policySet(metric, o)));
  connectionOptions(policy.command("list").description("List metric policies"))
    .action((o) => run(policyList(o)));

  const tokens = p.command("tokens").description("Ingest tokens: keys that can only push runs");
  connectionOptions(
    tokens.command("create").argument("<name>", "what the token is for").description(
      "Create a token (shown once)",
    ),
  )
    .action((name, o) => run(tokensCreate(name, o)));
  connectionOptions(tokens.command("list").description("List tokens (never the tokens themselves)"))
    .action((o) => run(tokensList(o)));
  connectionOptions(tokens.command("revoke").argument("<id>").description("Revoke a token"))
    .action((id, o) => run(tokensRevoke(id, o)));

  const webhook = p.command("webhook").description("The database webhook that alerts Slack");
  connectionOptions(
    webhook.command("setup").description("Store the functions URL and a signing secret in vault")
      .option("--functions-url <url>", "default: $SUPABASE_URL/functions/v1")
      .option("--secret <whsec>", "default: a fresh random secret"),
  ).action((o) => run(webhookSetup(o)));

  p.command("doctor").description(
    "Check the setup guide's checklist against the project, with fixes",
  )
    .option("--url <url>")
    .action((o) => run(doctor(o)));

  p.command("dashboard").description(
    "Serve the dashboard against SUPABASE_URL with SUPABASE_PUBLISHABLE_KEY (or SUPABASE_ANON_KEY)",
  )
    .option("--port <port>", "port", "8501")
    .option("--host <host>", "interface", "127.0.0.1")
    .option("--url <url>")
    .action((o) =>
      run(dashboard(o).then(() => new Promise<ExitCode>(() => {/* serve until Ctrl-C */})))
    );
  return p;
}

export async function main(argv: string[]): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.OK;
  const p = program(async (code) => {
    exitCode = await code;
  });
  try {
    await p.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.OK : EXIT.CONFIG;
    }
    if (e instanceof CliError) {
      console.error(`✗ ${e.message}`);
      return e.exitCode;
    }
    console.error(`✗ Unexpected error: ${(e as Error).stack ?? e}`);
    return EXIT.REMOTE;
  }
}
