// Entry point behind the npm scripts (via local/run.sh, which installs dependencies
// first): `up`, `down`, `status`, `start` and `test`.

import { loadConfig } from "./config.ts";
import { clusterRunning } from "./postgres.ts";
import { down, gatewayPid, status, up } from "./stack.ts";
import { loadDemo } from "./demo.ts";
import { runTests } from "./test.ts";
import { generateSchema, SCHEMA_DIR, writeSchema } from "../../tools/docs/schema.ts";
import { verifyMigrations } from "../../tools/migrations/verify.ts";

const USAGE = `Usage: deno run -A local/stack/main.ts <command> [--profile dev|test] [--verbose]

Commands:
  up      start the local stack in the background and wait until it is healthy
  down    stop every process the stack started and free its ports
  status  show what is running
  start   start the stack in the foreground with demo data; Ctrl-C stops it
  demo    load the demo history into a running stack (once)
  test    run every test suite against a fresh stack of its own; with paths or patterns
          (test -- <path|pattern>...), only the matching test files, on the running test stack
  bench   the performance benchmark (--quick for the CI smoke)
  hardening  the fault-injection, fuzzing and authorization tests (--soak for the 10-minute soak)
  eval    score regression detection on the labelled corpus (--quick in CI)
  schema  rewrite docs/schema/ from the test stack's database (started if it is down)
  migrations-verify [<rev>] [--keep]
          build one database from the migrations at <rev> (default: the parent of the last
          commit that changed supabase/migrations) and one from the working tree's, on two
          throwaway clusters, and show every difference (CLI diff both ways, pg_dump, ACLs,
          comments, policies, triggers, cron jobs, rows); exits 1 if any

--verbose (up, start) prints \`supabase db push\`'s full output, not just a summary.`;

function profileArg(args: string[]): string {
  const i = args.indexOf("--profile");
  return i >= 0 && args[i + 1] ? args[i + 1] : "dev";
}

async function start(profile: string, verbose: boolean): Promise<number> {
  const cfg = loadConfig(profile);
  const dbWasRunning = await clusterRunning(cfg);
  const gatewayWasRunning = (await gatewayPid(cfg)) !== undefined;
  const stack = await up(profile, { foreground: true, verbose });

  await loadDemo(stack.env, (s) => console.log(s));

  console.log(`
benchwatch is running.

  Dashboard:   ${stack.env.DASHBOARD_URL}
  Functions:   ${stack.env.SUPABASE_URL}/functions/v1/<name>
  Database:    ${stack.env.SUPABASE_DB_URL}
  Keys:        ${cfg.envFile}

Push a first result (in another terminal, from this folder):

  set -a; . ${cfg.envFile}; set +a
  npx benchwatch push --input examples/test_benchmark_results.json --environment local \\
    --commit-sha $(git rev-parse HEAD) --triggered-by $(whoami) --verify

Slack messages go to a local sink and are printed here (set SLACK_WEBHOOK_URL for real Slack).
Press Ctrl-C to stop.`);

  const stopped = Promise.withResolvers<void>();
  const onSignal = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  if (stack.gateway) {
    void stack.gateway.status.then((s) => {
      console.error(`The gateway exited (code ${s.code}); stopping.`);
      stopped.resolve();
    });
  }
  await stopped.promise;
  console.log("\nStopping…");
  if (stack.gateway) {
    try {
      stack.gateway.kill("SIGTERM");
    } catch { /* already gone */ }
    await stack.gateway.status;
  }
  if (!dbWasRunning && !gatewayWasRunning) await down(profile);
  else {console.log(
      "The stack was already running before `npm start`; left it up (npm run local:down stops it).",
    );}
  return 0;
}

async function main(args: string[]): Promise<number> {
  const [command] = args;
  const profile = profileArg(args);
  const verbose = args.includes("--verbose");
  switch (command) {
    case "up": {
      const stack = await up(profile, { verbose });
      console.log(
        `ready: dashboard ${stack.env.DASHBOARD_URL}, URLs and keys in ${stack.cfg.envFile}`,
      );
      return 0;
    }
    case "down":
      await down(profile);
      return 0;
    case "status":
      console.log(await status(profile));
      return 0;
    case "start":
      return await start(profile, verbose);
    case "demo": {
      const stack = await up(profile, { say: () => {} });
      await loadDemo(stack.env, (s) => console.log(s));
      return 0;
    }
    case "schema": {
      const stack = await up("test", { say: (s) => console.log(s) });
      const files = await generateSchema(stack.cfg.repoRoot, stack.cfg.dbUrl);
      await writeSchema(stack.cfg.repoRoot, files);
      console.log(`wrote ${files.size} files to ${SCHEMA_DIR}/`);
      console.log(
        "the test stack stays up for `npm test -- <file>`; stop it with " +
          "`npm run local:down -- --profile test`",
      );
      return 0;
    }
    case "test":
      return await runTests(args.slice(1));
    case "migrations-verify":
      return await verifyMigrations(args.slice(1));
    case "bench":
    case "hardening":
    case "eval": {
      // tools/bench, tools/hardening, tools/eval: each exports run(args).
      const mod = await import(`../../tools/${command}/main.ts`);
      return await mod.run(args.slice(1));
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

try {
  Deno.exit(await main(Deno.args));
} catch (e) {
  console.error(`✗ ${(e as Error).message}`);
  Deno.exit(1);
}
