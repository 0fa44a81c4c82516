// Metric directions from CI: the adapters' directions are sent as
// metric_directions, `--direction` declares one, a conflict with a policy is refused, a metric
// with no direction is direction_unknown and push hints at it, and `policy set` / `policy list`.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { cli, closeDb, db, guideFile, ROOT, stack, tmp, uniq } from "./helpers.ts";

after(closeDb);

const LM_EVAL = join(ROOT, "cli", "test", "fixtures", "lm-eval", "results.json");
const SERIES = ["--model-version", "EleutherAI/pythia-14m-deduped", "--model-provider", "hf"];

/** A metric name no other test uses. */
const metricOf = (prefix: string) => uniq(prefix).replaceAll("-", "_");

/** The lm-eval fixture with wikitext's bits_per_byte scaled, written to a temp file. */
function lmEvalWith(bitsPerByteFactor: number): string {
  const file = JSON.parse(readFileSync(LM_EVAL, "utf8"));
  file.results.wikitext["bits_per_byte,none"] *= bitsPerByteFactor;
  const out = join(tmp(), "results.json");
  writeFileSync(out, JSON.stringify(file));
  return out;
}

test("lm-eval: bits_per_byte is recorded lower-is-better and acc higher-is-better, and a rise of bits_per_byte regresses", async () => {
  const env = uniq("lm-eval-dir");
  const first = await cli([
    "push",
    "--input",
    LM_EVAL,
    "--environment",
    env,
    ...SERIES,
    "--commit-sha",
    "c1",
  ]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.doesNotMatch(first.stdout, /^hint:/m, "every direction came from the file");
  const policies = await db()<{ metric: string; direction: string }[]>`
    select metric, direction from public.metric_policies
    where metric in ('acc', 'acc_norm', 'bits_per_byte', 'byte_perplexity', 'word_perplexity', 'perplexity')
    order by metric`;
  assert.deepEqual(policies.map((p) => [p.metric, p.direction]), [
    ["acc", "higher"],
    ["acc_norm", "higher"],
    ["bits_per_byte", "lower"],
    ["byte_perplexity", "lower"],
    ["perplexity", "lower"],
    ["word_perplexity", "lower"],
  ]);
  await db()`select public.pin_baseline(t.id) from public.benchmark_transactions t
             where t.environment = ${env} and t.dataset_version = 'wikitext@2'`;

  // Lower bits_per_byte is an improvement, not a regression.
  const better = await cli([
    "push",
    "--input",
    lmEvalWith(0.8),
    "--environment",
    env,
    ...SERIES,
    "--commit-sha",
    "c2",
    "--fail-on-regression",
  ]);
  assert.equal(better.code, 0, better.stdout + better.stderr);

  // Higher bits_per_byte is a regression.
  const worse = await cli([
    "push",
    "--input",
    lmEvalWith(1.5),
    "--environment",
    env,
    ...SERIES,
    "--commit-sha",
    "c3",
    "--fail-on-regression",
  ]);
  assert.equal(worse.code, 1, worse.stdout + worse.stderr);
  assert.match(worse.stdout, /bits_per_byte[^\n]*regress/i);
});

test("push: a metric with no direction is recorded as direction_unknown, with a one-line hint; doctor lists it; --direction declares it; a conflict is refused", async () => {
  const model = uniq("dir-hint");
  const metric = metricOf("quality");
  const guessed = await cli([
    "push",
    "--input",
    guideFile(model, { [metric]: 1 }),
    "--commit-sha",
    "h1",
    "--environment",
    model,
  ]);
  assert.equal(guessed.code, 0, guessed.stdout + guessed.stderr);
  const hints = guessed.stdout.split("\n").filter((l) => l.startsWith("hint:"));
  assert.equal(hints.length, 1, guessed.stdout);
  assert.match(hints[0], new RegExp(`${metric} has no direction \\(verdict direction_unknown`));
  assert.match(
    hints[0],
    new RegExp(
      `--direction ${metric}=higher\\|lower or benchwatch policy set ${metric} --direction higher\\|lower`,
    ),
  );

  // Against a pinned baseline, a fall to a tenth is neither better nor worse: the verdict
  // says so, and --fail-on-regression does not fail.
  await db()`select public.pin_baseline(t.id) from public.benchmark_transactions t
             where t.model_version = ${model}`;
  const unknown = await cli([
    "push",
    "--input",
    guideFile(model, { [metric]: 0.1 }),
    "--commit-sha",
    "h1b",
    "--environment",
    model,
    "--fail-on-regression",
  ]);
  assert.equal(unknown.code, 0, unknown.stdout + unknown.stderr);
  assert.match(
    unknown.stdout,
    new RegExp(`^${metric} +1 +0\\.1 +−90\\.0% +direction unknown$`, "m"),
  );
  const [verdict] = await db()`
    select r.response #> '{metrics,0}' as m from benchwatch_private.run_identities r
    join public.benchmark_transactions t on t.id = r.transaction_id
    where t.model_version = ${model} and t.commit_sha = 'h1b'`;
  assert.equal(verdict.m.status, "direction_unknown");
  assert.equal(verdict.m.direction, null);

  const doctor = await cli(["doctor"]);
  const line = doctor.stdout.split("\n").find((l) => l.includes("no direction")) ?? "";
  assert.ok(line.startsWith("! "), doctor.stdout);
  assert.ok(line.includes(metric), line);
  assert.doesNotMatch(
    line,
    /\b(f1|latency_ms|analysis_cost|bits_per_byte)\b/,
    "metrics with a direction are not listed",
  );

  const declared = await cli([
    "push",
    "--input",
    guideFile(model, { [metric]: 2 }),
    "--commit-sha",
    "h2",
    "--environment",
    model,
    "--direction",
    `${metric}=lower`,
  ]);
  assert.equal(declared.code, 0, declared.stdout + declared.stderr);
  assert.doesNotMatch(declared.stdout, /hint:/);
  const doctorAfter = await cli(["doctor"]);
  assert.doesNotMatch(doctorAfter.stdout, new RegExp(`no direction[^\n]*${metric}`));
  const [row] = await db()`select direction from public.metric_policies where metric = ${metric}`;
  assert.equal(row.direction, "lower");

  const conflict = await cli([
    "push",
    "--input",
    guideFile(model, { [metric]: 3 }),
    "--commit-sha",
    "h3",
    "--environment",
    model,
    "--direction",
    `${metric}=higher`,
  ]);
  assert.notEqual(conflict.code, 0);
  assert.match(conflict.stderr, /declared higher-is-better, but its policy says lower-is-better/);
  const [n] =
    await db()`select count(*)::int as n from public.benchmark_transactions where model_version = ${model}`;
  assert.equal(n.n, 3, "the conflicting run was not recorded");

  const bad = await cli(["push", "--input", guideFile(model), "--direction", `${metric}=down`]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Use --direction METRIC=higher or METRIC=lower/);
});

test("policy set and policy list, with the secret key or the service role key", async () => {
  const metric = metricOf("policy_cli");
  const set = await cli([
    "policy",
    "set",
    metric,
    "--direction",
    "lower",
    "--threshold",
    "0.02",
    "--floor",
    "0.5",
  ]);
  assert.equal(set.code, 0, set.stdout + set.stderr);
  assert.match(
    set.stdout,
    new RegExp(`✓ Policy set: ${metric}  lower-is-better  threshold 2%  floor 0.5`),
  );

  const bySecret = await cli(["policy", "set", metric, "--direction", "higher"], {
    SUPABASE_SERVICE_ROLE_KEY: undefined,
    SUPABASE_SECRET_KEY: stack("SUPABASE_SECRET_KEY"),
  });
  assert.equal(bySecret.code, 0, bySecret.stdout + bySecret.stderr);
  assert.match(
    bySecret.stdout,
    /higher-is-better {2}threshold 2% {2}floor 0.5/,
    "threshold and floor kept",
  );

  const list = await cli(["policy", "list"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(
    list.stdout,
    new RegExp(`^${metric}  higher-is-better  threshold 2%  floor 0.5$`, "m"),
  );
  assert.match(list.stdout, /^bits_per_byte {2}lower-is-better/m);

  const missing = await cli(["policy", "set", metric, "--direction", "sideways"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Use --direction higher or --direction lower/);
  const negative = await cli([
    "policy",
    "set",
    metric,
    "--direction",
    "lower",
    "--threshold",
    "-1",
  ]);
  assert.equal(negative.code, 2);
  await db()`delete from public.metric_policies where metric = ${metric}`;
});
