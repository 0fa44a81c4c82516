// Re-push tests: pushing the same results again never records a run twice, and the CLI
// rides out a database outage.
//
// partial-push: 3,000 runs pushed by the real CLI with --batch-size 50 while PostgreSQL is
// crash-stopped (`pg_ctl stop -m immediate`) for longer than the CLI's --retry-for budget,
// so the push fails part-way; then the same command again once the database is back. Done
// twice: plainly, and as GitHub Actions attempt 1 then 2 (GITHUB_RUN_ID set, so the file's
// own run_id must win). Each ends with 3,000 rows for 3,000 run_ids, also after a third push
// cut into other batches (new Idempotency-Keys), and a deliberate re-measurement (other
// metrics, or another created_at) is still recorded.
//
// db-outage-60s: a push with the CLI's default settings while PostgreSQL is crash-stopped
// for 60 s; it must wait (and say so) and then record every run once.

import { startCluster, stopCluster } from "../../local/stack/postgres.ts";
import { capture, Checks, type Ctx, type HardeningTest, sleep } from "./lib.ts";

const BATCH = 50;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** ms since the Unix epoch when the process exited */
  exitedAt: number;
  seconds: number;
}

/** Starts `benchwatch push` on a JSONL file; resolves when it exits. */
function startPush(
  ctx: Ctx,
  input: string,
  extraArgs: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  const t0 = Date.now();
  const child = new Deno.Command("node", {
    args: [
      `${ctx.stack.cfg.repoRoot}/cli/bin/benchwatch.mjs`,
      "push",
      "--input",
      input,
      "--environment",
      "hardening",
      ...(extraArgs.includes("--batch-size") ? [] : ["--batch-size", String(BATCH)]),
      ...extraArgs,
    ],
    cwd: input.slice(0, input.lastIndexOf("/")),
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      NO_COLOR: "1",
      SUPABASE_URL: ctx.stack.cfg.apiUrl,
      SUPABASE_SERVICE_ROLE_KEY: ctx.stack.keys.serviceRoleKey,
      ...env,
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return child.output().then((out) => {
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      exitedAt: Date.now(),
      seconds: (Date.now() - t0) / 1000,
    };
  });
}

/** n runs over six series, each with its own run_id, one commit and its own created_at. */
async function writeRuns(path: string, prefix: string, n: number): Promise<void> {
  const start = Date.parse("2026-11-01T00:00:00Z");
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      model_version: `${prefix}-m${i % 6}`,
      dataset_version: "repush-set-v1",
      prompt_version: "repush-prompt-v1",
      model_provider: "openai",
      commit_sha: `${prefix}-sha`,
      run_id: `${prefix}-r${i}`,
      created_at: new Date(start + i * 60_000).toISOString(),
      metrics: { f1: 0.8 + (i % 97) / 1000, latency_ms: 400 + (i % 13) },
    }));
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

async function counts(ctx: Ctx, prefix: string): Promise<{ rows: number; runIds: number }> {
  const [r] = await ctx.sql<{ rows: number; run_ids: number }[]>`
    select count(*)::int as rows, count(distinct run_id)::int as run_ids
      from public.benchmark_transactions where model_version like ${`${prefix}-m%`}`;
  return { rows: r.rows, runIds: r.run_ids };
}

/** Waits until at least n runs of the prefix are stored (the push is well under way). */
async function waitForRows(ctx: Ctx, prefix: string, n: number, push: Promise<CliRun>) {
  let done = false;
  void push.then(() => done = true);
  while (!done) {
    if ((await counts(ctx, prefix)).rows >= n) return;
    await sleep(50);
  }
  throw new Error(`the push ended before ${n} runs were stored`);
}

const fmt = (n: number) => n.toLocaleString("en-US");

async function scenario(
  ctx: Ctx,
  checks: Checks,
  label: string,
  env: (attempt: number) => Record<string, string>,
): Promise<Record<string, string | number>> {
  const total = 3000;
  const budget = 8;
  const outageMs = 20_000;
  const prefix = `repush-${label}-${crypto.randomUUID().slice(0, 6)}`;
  const dir = await Deno.makeTempDir({ prefix: "bw-repush-" });
  const input = `${dir}/runs.jsonl`;
  await writeRuns(input, prefix, total);

  // 1. The push, crash-stopped part-way for longer than its retry budget.
  const first = startPush(ctx, input, ["--retry-for", `${budget}s`], env(1));
  await waitForRows(ctx, prefix, 1000, first);
  const downAt = Date.now();
  await stopCluster(ctx.stack.cfg, "immediate");
  await sleep(outageMs);
  await startCluster(ctx.stack.cfg);
  const upAt = Date.now();
  const one = await first;
  await capture(ctx, `partial-push ${label} first`, one.stdout + one.stderr);
  const afterFirst = await counts(ctx, prefix);
  const said = one.stderr.match(
    /^✗ ([\d,]+) of 3,000 runs recorded; run the same command again to record the rest, nothing will be recorded twice$/m,
  );
  const acked = said ? Number(said[1].replaceAll(",", "")) : NaN;
  checks.that(one.code === 3, `${label}: the first push exited ${one.code}, not 3`);
  checks.that(said !== null, `${label}: the first push did not say what it recorded`);
  checks.that(
    one.exitedAt < upAt,
    `${label}: the first push outlasted the outage, so the budget was not exceeded`,
  );
  checks.that(
    /^database unavailable, retrying for another \d+ s$/m.test(one.stderr),
    `${label}: the first push did not say it was waiting for the database`,
  );
  // The batch in flight when the database stopped may have committed without an answer.
  checks.that(
    afterFirst.rows >= acked && afterFirst.rows <= acked + BATCH,
    `${label}: ${afterFirst.rows} rows stored after the CLI reported ${acked}`,
  );

  // 2. The same command again, once the database is back (in GitHub Actions: attempt 2).
  const second = await startPush(ctx, input, [], env(2));
  await capture(ctx, `partial-push ${label} second`, second.stdout + second.stderr);
  const afterSecond = await counts(ctx, prefix);
  checks.that(second.code === 0, `${label}: the second push exited ${second.code}`);
  checks.that(
    afterSecond.rows === total && afterSecond.runIds === total,
    `${label}: ${afterSecond.rows} rows for ${afterSecond.runIds} run_ids after the second push, not 3,000 for 3,000`,
  );

  // 3. And again, cut into other batches: every Idempotency-Key is new, so only the
  //    server's run identity keeps the runs from being recorded again.
  const third = await startPush(ctx, input, ["--batch-size", "64"], env(3));
  const afterThird = await counts(ctx, prefix);
  checks.that(
    third.code === 0 && afterThird.rows === total,
    `${label}: a third push left ${afterThird.rows} rows (exit ${third.code})`,
  );
  checks.that(
    third.stdout.includes("(3000 were already recorded and not recorded again)"),
    `${label}: the third push did not report 3000 replayed runs`,
  );

  // 4. Deliberate re-measurements of run 0: other metric values, then another created_at.
  const line0 = JSON.parse((await Deno.readTextFile(input)).split("\n")[0]);
  const remeasured = `${dir}/remeasured.jsonl`;
  await Deno.writeTextFile(
    remeasured,
    [
      JSON.stringify({ ...line0, metrics: { ...line0.metrics, f1: 0.5 } }),
      JSON.stringify({ ...line0, created_at: "2026-11-30T12:00:00.000Z" }),
    ].join("\n"),
  );
  const re = await startPush(ctx, remeasured, [], env(1));
  const afterRe = await counts(ctx, prefix);
  checks.that(
    re.code === 0 && afterRe.rows === total + 2,
    `${label}: two re-measurements left ${afterRe.rows - total} new rows, not 2 (exit ${re.code})`,
  );
  await Deno.remove(dir, { recursive: true });

  return {
    [`${label}: outage`]: `pg_ctl stop -m immediate once 1,000 runs were stored, down ${
      ((upAt - downAt) / 1000).toFixed(1)
    } s, against --retry-for ${budget}s`,
    [`${label}: first push`]: `exit ${one.code} after ${one.seconds.toFixed(1)} s: "${
      said?.[0] ?? "(no summary)"
    }"`,
    [`${label}: rows stored by the first push`]: fmt(afterFirst.rows),
    [`${label}: second push (same command${label === "github-actions" ? ", attempt 2" : ""})`]:
      `exit ${second.code} in ${second.seconds.toFixed(1)} s`,
    [`${label}: rows / distinct run_ids after the second push`]: `${fmt(afterSecond.rows)} / ${
      fmt(afterSecond.runIds)
    }`,
    [`${label}: rows after a third push with --batch-size 64 (all keys new)`]: fmt(
      afterThird.rows,
    ),
    [`${label}: re-measurements recorded (of 2)`]: afterRe.rows - total,
    [`${label}: lost`]: total - afterSecond.runIds,
  };
}

export const partialPush: HardeningTest = {
  name: "partial-push",
  title:
    "3,000 runs, a crash stop longer than the retry budget mid-push, then the same push again (plain and GitHub Actions attempt 2)",
  async run(ctx) {
    const checks = new Checks();
    const plain = await scenario(ctx, checks, "plain", () => ({}));
    const gha = await scenario(ctx, checks, "github-actions", (attempt) => ({
      GITHUB_ACTIONS: "true",
      GITHUB_RUN_ID: "9001",
      GITHUB_RUN_ATTEMPT: String(Math.min(attempt, 2)),
      GITHUB_SHA: "f00dfeed",
      GITHUB_REF_NAME: "main",
      GITHUB_ACTOR: "octocat",
      GITHUB_REPOSITORY: "org/repo",
    }));
    const dupes = await ctx.sql<{ n: number }[]>`
      select coalesce(sum(n - 1), 0)::int as n from (
        select count(*) as n from public.benchmark_transactions
         where model_version like 'repush-%'
         group by model_version, run_id, metrics, created_at) as g`;
    return {
      failures: checks.failures,
      figures: {
        ...plain,
        ...gha,
        lost: Number(plain["plain: lost"]) + Number(gha["github-actions: lost"]),
        duplicates: dupes[0].n,
      },
    };
  },
};

export const dbOutage60s: HardeningTest = {
  name: "db-outage-60s",
  title: "A push with default settings rides out a 60 s crash stop of PostgreSQL",
  async run(ctx) {
    const checks = new Checks();
    const total = 500;
    const prefix = `outage-${crypto.randomUUID().slice(0, 6)}`;
    const dir = await Deno.makeTempDir({ prefix: "bw-outage-" });
    const input = `${dir}/runs.jsonl`;
    await writeRuns(input, prefix, total);
    const push = startPush(ctx, input, []);
    await waitForRows(ctx, prefix, 100, push);
    const downAt = Date.now();
    await stopCluster(ctx.stack.cfg, "immediate");
    await sleep(60_000);
    await startCluster(ctx.stack.cfg);
    const down = (Date.now() - downAt) / 1000;
    const r = await push;
    await capture(ctx, "db-outage-60s push", r.stdout + r.stderr);
    await Deno.remove(dir, { recursive: true });
    const after = await counts(ctx, prefix);
    const waits = r.stderr.match(/^database unavailable, retrying for another \d+ s$/gm) ?? [];
    checks.that(r.code === 0, `the push exited ${r.code}: ${r.stderr.slice(-300)}`);
    checks.that(waits.length > 0, "the push never said it was waiting for the database");
    checks.that(
      after.rows === total && after.runIds === total,
      `${after.rows} rows for ${after.runIds} run_ids, not ${total} for ${total}`,
    );
    return {
      failures: checks.failures,
      figures: {
        outage: `pg_ctl stop -m immediate for ${down.toFixed(1)} s during a ${total}-run push`,
        "push (default --retry-for 2m)": `exit ${r.code} after ${r.seconds.toFixed(1)} s`,
        "waiting lines printed": `${waits.length} (first: "${waits[0] ?? ""}", last: "${
          waits.at(-1) ?? ""
        }")`,
        "rows / distinct run_ids": `${after.rows} / ${after.runIds}`,
        lost: total - after.runIds,
        duplicates: after.rows - after.runIds,
      },
    };
  },
};
