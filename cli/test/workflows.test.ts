// The GitHub Actions workflows: every `benchwatch` invocation uses real commands and flags,
// and every secret a step needs is referenced.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Command } from "commander";
import { parse } from "yaml";
import { program } from "../src/main.ts";
import { ROOT } from "./helpers.ts";

const dir = join(ROOT, ".github", "workflows");
const workflows = Object.fromEntries(
  readdirSync(dir).filter((f) => f.endsWith(".yml")).map((
    f,
  ) => [f, parse(readFileSync(join(dir, f), "utf8"))]),
);

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
  uses?: string;
}

function steps(): { file: string; step: Step; jobEnv: Record<string, string> }[] {
  return Object.entries(workflows).flatMap(([file, wf]) =>
    Object.values(wf.jobs as Record<string, { steps: Step[]; env?: Record<string, string> }>)
      .flatMap((job) => job.steps.map((step) => ({ file, step, jobEnv: job.env ?? {} })))
  );
}

function commandFor(words: string[]): { cmd: Command; rest: string[] } {
  let cmd = program(async () => {});
  let i = 0;
  while (i < words.length) {
    const sub = cmd.commands.find((c) => c.name() === words[i]);
    if (!sub) break;
    cmd = sub;
    i++;
  }
  return { cmd, rest: words.slice(i) };
}

test("the three workflows exist and parse", () => {
  assert.deepEqual(Object.keys(workflows).sort(), [
    "benchmark-persist.yml",
    "ci.yml",
    "deploy.yml",
  ]);
  assert.ok(workflows["benchmark-persist.yml"].on.workflow_run, "Option B is a workflow_run");
  assert.ok(
    steps().some((s) => s.step.uses?.startsWith("supabase/setup-cli")),
    "deploy sets up the Supabase CLI",
  );
  assert.ok(
    steps().some((s) => s.file === "ci.yml" && s.step.run?.trim() === "bash .ci/run"),
    "CI runs the same gate as a developer, bash .ci/run",
  );
  const gate = readFileSync(join(ROOT, ".ci", "run"), "utf8").trim().split("\n");
  assert.equal(gate.at(-1), "npm test", ".ci/run ends with npm test (its closing line last)");
  assert.ok(
    steps().every((s) => !/^\s*ls -la|is set: /m.test(s.step.run ?? "")),
    "no debug step in the workflows users copy",
  );
});

test("every benchwatch invocation uses real commands and flags, with the secrets it needs", () => {
  let seen = 0;
  for (const { file, step, jobEnv } of steps()) {
    if (!step.run?.includes("benchwatch")) continue;
    const line = step.run.replace(/\\\n\s*/g, " ");
    for (const m of line.matchAll(/npx benchwatch ([^\n]+)/g)) {
      seen++;
      const words = m[1].trim().split(/\s+/);
      const { cmd, rest } = commandFor(words);
      assert.notEqual(cmd.name(), "benchwatch", `${file}: "${m[1]}" names a real command`);
      const flags = new Set(
        cmd.options.flatMap((o) => [o.long, o.short].filter(Boolean) as string[]),
      );
      for (const w of rest.filter((w) => w.startsWith("--"))) {
        assert.ok(flags.has(w), `${file}: ${cmd.name()} has the flag ${w}`);
      }
      const env = { ...jobEnv, ...step.env };
      assert.match(
        env.SUPABASE_URL ?? "",
        /secrets\.SUPABASE_URL/,
        `${file}: ${cmd.name()} gets SUPABASE_URL`,
      );
      const writes = ["push", "setup", "set", "unset", "create", "revoke"].includes(cmd.name());
      const key = writes ? "SUPABASE_SERVICE_ROLE_KEY" : "SUPABASE_ANON_KEY";
      assert.match(
        env[key] ?? env.SUPABASE_SERVICE_ROLE_KEY ?? "",
        new RegExp(`secrets\\.${key}|secrets\\.SUPABASE_SERVICE_ROLE_KEY`),
        `${file}: ${cmd.name()} gets ${key}`,
      );
    }
  }
  assert.ok(seen >= 2, `found the benchwatch steps (${seen})`);
});

// The Action (action.yml) as a user's repository uses it: the README's steps (Option A, a
// promptfoo and an lm-evaluation-harness step) and Option B's workflow.
const actionInputs = parse(readFileSync(join(ROOT, "action.yml"), "utf8")).inputs as Record<
  string,
  { required?: boolean }
>;
const USES_ACTION = /^benchwatch\/benchwatch@v\d+\.\d+\.\d+$/;

function assertActionStep(where: string, step: Step & { with?: Record<string, string> }): void {
  const given = step.with ?? {};
  for (const k of Object.keys(given)) assert.ok(actionInputs[k], `${where}: the Action has ${k}`);
  for (const [k, spec] of Object.entries(actionInputs)) {
    if (spec.required) assert.ok(given[k], `${where}: gives the required ${k}`);
  }
  assert.match(given.url, /secrets\.SUPABASE_URL/, `${where}: url from a secret`);
  assert.match(
    given.key,
    /secrets\.SUPABASE_(SERVICE_ROLE|SECRET)_KEY/,
    `${where}: key from a secret`,
  );
}

test("the README's Option A, promptfoo and lm-evaluation-harness steps use the Action with its inputs", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const found: (Step & { with?: Record<string, string> })[] = [];
  for (const [, block] of readme.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    const doc = parse(block);
    const list = Array.isArray(doc) ? doc : Array.isArray(doc?.steps) ? doc.steps : [];
    found.push(...list.filter((s: Step) => USES_ACTION.test(s.uses ?? "")));
    if (doc?.steps && list.some((s: Step) => USES_ACTION.test(s.uses ?? ""))) {
      assert.equal(doc.permissions?.["pull-requests"], "write", "Option A grants the comment");
    }
  }
  assert.ok(found.length >= 3, `the README shows the Action (${found.length} steps)`);
  for (const step of found) assertActionStep(`README "${step.name}"`, step);
  const formats = found.map((s) => s.with?.format);
  assert.ok(formats.includes("promptfoo"), "a promptfoo step");
  assert.ok(formats.includes("lm-eval"), "an lm-evaluation-harness step");
  assert.match(readme, /promptfoo@latest eval [^\n]*--output results\.json/);
  assert.ok(found.some((s) => s.with?.format === "promptfoo" && s.with.file === "results.json"));
});

test("Option B (benchmark-persist.yml) pushes with the Action and may comment on the pull request", () => {
  const wf = workflows["benchmark-persist.yml"];
  assert.equal(wf.permissions["pull-requests"], "write");
  const uses = steps().filter((s) =>
    s.file === "benchmark-persist.yml" && USES_ACTION.test(s.step.uses ?? "")
  );
  assert.equal(uses.length, 1);
  assertActionStep("benchmark-persist.yml", uses[0].step);
  const given = (uses[0].step as { with: Record<string, string> }).with;
  assert.equal(given.file, "./benchmark-artifacts", "pushes the downloaded artifact");
  assert.match(given["commit-sha"], /workflow_run\.head_sha/, "the benchmarked commit, not main's");
});

// deploy.yml: runs only after CI passed on the commit, in an environment that can require
// approval, in the order a deploy needs, and its header lists exactly the secrets it reads.
const deploy = workflows["deploy.yml"];
const deployText = readFileSync(join(dir, "deploy.yml"), "utf8");

test("deploy runs only after CI passed on that commit, in the production environment", () => {
  const ciName = workflows["ci.yml"].name;
  assert.deepEqual(Object.keys(deploy.on).sort(), ["workflow_dispatch", "workflow_run"]);
  assert.deepEqual(deploy.on.workflow_run.workflows, [ciName], "it follows the CI workflow");
  assert.deepEqual(deploy.on.workflow_run.types, ["completed"]);
  assert.deepEqual(deploy.on.workflow_run.branches, ["main"]);
  const jobs = Object.values(deploy.jobs) as { if?: string; environment?: unknown }[];
  assert.equal(jobs.length, 1);
  const cond = jobs[0].if ?? "";
  assert.match(cond, /github\.event\.workflow_run\.conclusion == 'success'/);
  assert.match(cond, /github\.event\.workflow_run\.event == 'push'/);
  assert.equal(jobs[0].environment, "production", "a GitHub environment that can require approval");
  // A manual dispatch deploys only a commit whose CI run passed: checked before anything else.
  const first = deploySteps()[0];
  assert.match(first.if ?? "", /workflow_dispatch/);
  assert.match(first.run ?? "", /gh run list[^\n]*--workflow ci\.yml[\s\S]*--status success/);
  assert.match(first.run ?? "", /exit 1/);
});

function deploySteps(): (Step & { if?: string; with?: Record<string, string> })[] {
  return (Object.values(deploy.jobs)[0] as { steps: (Step & { if?: string })[] }).steps;
}

test("deploy's steps run in order: install, schema, functions, secrets, webhook, doctor", () => {
  const steps = deploySteps();
  const at = (what: string, pred: (s: Step) => boolean) => {
    const i = steps.findIndex(pred);
    assert.ok(i >= 0, `deploy has a step that ${what}`);
    return i;
  };
  const order = [
    at("checks out the CI-tested commit", (s) => s.uses?.startsWith("actions/checkout") ?? false),
    at("sets up the Supabase CLI", (s) => s.uses?.startsWith("supabase/setup-cli") ?? false),
    at("installs benchwatch", (s) => s.run?.trim() === "npm ci"),
    at("links the project", (s) => /^supabase link\b/.test(s.run ?? "")),
    at("pushes the schema", (s) => /^supabase db push\b/.test(s.run ?? "")),
    at("deploys the functions", (s) => /^supabase functions deploy\b/.test(s.run ?? "")),
    at("sets the secrets", (s) => /^supabase secrets set\b/.test(s.run ?? "")),
    at("configures the webhook", (s) => /npx benchwatch webhook setup\b/.test(s.run ?? "")),
    at("runs doctor", (s) => /npx benchwatch doctor\b/.test(s.run ?? "")),
  ];
  assert.deepEqual(order, [...order].sort((a, b) => a - b), `steps in order: ${order}`);
  const checkout = steps[order[0]];
  assert.match(checkout.with?.ref ?? "", /DEPLOY_SHA/, "it deploys the commit CI tested");
  assert.match(deployText, /DEPLOY_SHA: \$\{\{ github\.event\.workflow_run\.head_sha/);
  const webhook = steps[order[7]];
  assert.equal(webhook.if, undefined, "the webhook is configured on every deploy");
  assert.match(
    webhook.run ?? "",
    /--secret "\$BENCHWATCH_WEBHOOK_SECRET"/,
    "with the same secret each time, so it is idempotent",
  );
  assert.doesNotMatch(deployText, /supabase config push/, "config.toml has no [api] to push");
  assert.doesNotMatch(readFileSync(join(ROOT, "supabase", "config.toml"), "utf8"), /^\[api\]/m);
});

test("deploy's header lists every secret it reads, and only those", () => {
  const header = deployText.split("\n").filter((l) => l.startsWith("#")).join("\n");
  const listed = new Set([...header.matchAll(/^#\s+([A-Z][A-Z0-9_]+)\s/gm)].map((m) => m[1]));
  const body = deployText.split("\n").filter((l) => !l.startsWith("#")).join("\n");
  const used = new Set([...body.matchAll(/secrets\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]));
  assert.ok(used.has("SUPABASE_ANON_KEY"), "doctor reads the anon key");
  assert.deepEqual([...used].sort(), [...listed].sort());
});
