// `npm run test:hardening`: fault injection, fuzzing, an authorization audit, secret
// hygiene and resource limits against a fresh stack of its own (profile `hardening`).
// Each test prints its figures; with --write-report, docs/reports/RELIABILITY.md is rewritten from this
// run's figures (a plain run leaves every tracked file as it was).
// The last line is `N passed, N failed`.
//
//   --write-report   rewrite docs/reports/RELIABILITY.md from this run (a full run only: not with --only
//                    or --break)
//   --soak           also run the 10-minute mixed-load soak (--soak-minutes N to shorten it)
//   --only a,b       run only these tests
//   --break <name>   break one guarantee on purpose (see breaks.ts) to watch its test fail

import postgres from "postgres";
import { loadConfig } from "../../local/stack/config.ts";
import { down, up } from "../../local/stack/stack.ts";
import { wipeStackDir } from "../../local/stack/postgres.ts";
import { loadWebhookSecret } from "../../local/stack/keys.ts";
import { applyBreak, BREAKS } from "./breaks.ts";
import { dbRestart, functionsRestart } from "./load.ts";
import { dbOutage60s, partialPush } from "./repush.ts";
import { queueWiped, slackOutage } from "./alerts.ts";
import { fuzzIngest } from "./fuzz.ts";
import { authorization } from "./authz.ts";
import { resourceLimits } from "./limits.ts";
import { secretHygiene } from "./secrets.ts";
import { soak } from "./soak.ts";
import { capture, type Ctx, type HardeningTest, type Outcome } from "./lib.ts";
import { writeReliability } from "./report.ts";

const PROFILE = "hardening";

// Secret hygiene runs last, so it scans every log the other tests produced.
const TESTS: HardeningTest[] = [
  fuzzIngest,
  authorization,
  resourceLimits,
  dbRestart,
  functionsRestart,
  partialPush,
  dbOutage60s,
  slackOutage,
  queueWiped,
  soak,
  secretHygiene,
];

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function run(args: string[]): Promise<number> {
  const withSoak = args.includes("--soak");
  const only = flag(args, "--only")?.split(",");
  const broken = flag(args, "--break");
  const writeReport = args.includes("--write-report");
  if (writeReport && (only || broken)) {
    console.error(
      "✗ Drop --only and --break to use --write-report: docs/reports/RELIABILITY.md is written from a full run",
    );
    return 2;
  }
  if (broken && !(broken in BREAKS)) {
    console.error(`--break takes one of: ${Object.keys(BREAKS).join(", ")}`);
    return 2;
  }
  const selected = TESTS.filter((t) => only ? only.includes(t.name) : !t.soak || withSoak);
  const cfg = loadConfig(PROFILE);
  const t0 = Date.now();

  await down(PROFILE, () => {}).catch(() => {});
  await wipeStackDir(cfg);
  console.log(`hardening: fresh stack in ${cfg.dir} (api ${cfg.apiPort}, db ${cfg.dbPort})`);
  const stack = await up(PROFILE, { say: (s) => console.log(`  ${s}`) });
  const sql = postgres(stack.env.SUPABASE_DB_URL, { max: 8, onnotice: () => {} });
  const secrets = new Map<string, string>([
    ["anon key", stack.keys.anonKey],
    ["service role key", stack.keys.serviceRoleKey],
    ["publishable key", stack.keys.publishableKey],
    ["secret key", stack.keys.secretKey],
    ["JWT secret", stack.keys.jwtSecret],
    ["webhook secret", await loadWebhookSecret(cfg)],
    ["Slack webhook URL", `http://127.0.0.1:${cfg.slackSinkPort}/services/local/sink`],
  ]);
  const ctx: Ctx = {
    stack,
    sql,
    secrets,
    captureFile: `${cfg.logDir}/hardening-captured.log`,
    broken,
    soakMinutes: Number(flag(args, "--soak-minutes") ?? 10),
  };
  if (broken) {
    console.log(`hardening: BREAKING "${broken}" on purpose: ${BREAKS[broken].what}`);
    await applyBreak(ctx, broken);
  }

  const results: { test: HardeningTest; outcome: Outcome; seconds: number }[] = [];
  try {
    for (const test of selected) {
      console.log(`\n▶ ${test.name}: ${test.title}`);
      const s = Date.now();
      let outcome: Outcome;
      try {
        outcome = await test.run(ctx);
      } catch (e) {
        outcome = { figures: {}, failures: [`threw: ${(e as Error).stack ?? e}`] };
      }
      const seconds = (Date.now() - s) / 1000;
      const lines = [
        ...Object.entries(outcome.figures).map(([k, v]) => `    ${k}: ${v}`),
        ...outcome.failures.map((f) => `    ✗ ${f}`),
        `  ${outcome.failures.length ? "✗ FAIL" : "✓ pass"} ${test.name} (${seconds.toFixed(1)} s)`,
      ];
      console.log(lines.join("\n"));
      // What this run prints is scanned for secrets too.
      await capture(ctx, `runner: ${test.name}`, `${lines.join("\n")}\n${outcome.markdown ?? ""}`);
      results.push({ test, outcome, seconds });
    }
  } finally {
    await sql.end({ timeout: 2 }).catch(() => {});
    await down(PROFILE, () => {}).catch((e) => console.error(`down: ${e.message}`));
  }

  const failed = results.filter((r) => r.outcome.failures.length).length;
  const wall = (Date.now() - t0) / 1000;
  if (writeReport) {
    await writeReliability(`${cfg.repoRoot}/docs/reports/RELIABILITY.md`, results, {
      wall,
      withSoak,
    });
    console.log(`\ndocs/reports/RELIABILITY.md written (wall time ${wall.toFixed(0)} s)`);
  } else {
    console.log(
      `\nwall time ${
        wall.toFixed(0)
      } s (docs/reports/RELIABILITY.md left as it was; --write-report rewrites it)`,
    );
  }
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}
