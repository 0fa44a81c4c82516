// The GitHub Action (action.yml): its structure (a composite action whose scripts get
// every input through env and run real CLI flags), and its steps run as a runner would (bash
// -eo pipefail, inputs mapped into env, `if:` on inputs.command, GITHUB_ACTION_PATH set to the
// Action's checkout) against the test stack: by default with the committed bundle
// (cli/dist/benchwatch.mjs) and nothing but `node` on PATH, so nothing is installed; push an
// eval tool's output, gate on a regression with fail-on-regression, check a commit, and comment
// on the pull request through a stand-in for GitHub's REST API. The `cli` input installs the
// tarball of `npm pack ./cli` instead; a missing or too old `node` stops the first step.

import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Command } from "commander";
import { parse } from "yaml";
import { NODE_MAJOR } from "../build.ts";
import { program } from "../src/main.ts";
import { type GitHubStandIn, startGitHub } from "./github-standin.ts";
import { closeDb, db, guideFile, REGRESSED, ROOT, stack, tmp, uniq } from "./helpers.ts";

interface ActionStep {
  name: string;
  if?: string;
  shell?: string;
  env?: Record<string, string>;
  run?: string;
}
const action = parse(readFileSync(join(ROOT, "action.yml"), "utf8"));
const steps: ActionStep[] = action.runs.steps;
const TOKEN = "ghs_action_token";
const SETUP = "Set up the benchwatch CLI";
const BASH = execFileSync("bash", ["-c", "command -v bash"], { encoding: "utf8" }).trim();

/** A directory for PATH holding only the given programs (name to executable). */
function binDir(programs: Record<string, string>): string {
  const dir = join(tmp(), "bin");
  mkdirSync(dir);
  for (const [name, target] of Object.entries(programs)) symlinkSync(target, join(dir, name));
  return dir;
}

/** `${{ inputs.NAME }}` or `${{ github.token }}`: the only expressions action.yml may use. */
const EXPR = /^\$\{\{ (inputs\.[a-z][a-z-]*|github\.token) \}\}$/;

function exec(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { cwd, env, timeout: 240_000 },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === "number" ? err.code : 99) : 0, stdout, stderr }),
    );
  });
}

/**
 * Runs the composite action's steps as a runner does: each `run` with bash --noprofile --norc
 * -eo pipefail, its `env` evaluated from the inputs (defaults filled in), GITHUB_ACTION_PATH
 * the checkout (unless `env` sets it), skipped when its `if` is false, stopping at the first
 * failing step.
 */
async function runAction(
  given: Record<string, string>,
  env: Record<string, string | undefined>,
): Promise<{ code: number; output: string; ran: string[] }> {
  const inputs: Record<string, string> = {};
  for (
    const [name, spec] of Object.entries(action.inputs as Record<string, { default?: string }>)
  ) {
    inputs[name] = given[name] ??
      (spec.default === "${{ github.token }}" ? TOKEN : spec.default ?? "");
  }
  const value = (v: string) => {
    const m = v.match(EXPR);
    assert.ok(m, `only \${{ inputs.* }} / \${{ github.token }} in env: ${v}`);
    return m[1] === "github.token" ? TOKEN : inputs[m[1].slice("inputs.".length)];
  };
  let output = "";
  const ran: string[] = [];
  for (const step of steps) {
    if (step.if) {
      const m = step.if.match(/^inputs\.([a-z-]+) == '([^']*)'$/);
      assert.ok(m, `a condition the test can evaluate: ${step.if}`);
      if (inputs[m[1]] !== m[2]) continue;
    }
    const script = join(tmp(), "step.sh");
    writeFileSync(script, step.run!);
    const stepEnv = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([k, v]) => [k, value(v)]),
    );
    const r = await exec(BASH, ["--noprofile", "--norc", "-eo", "pipefail", script], tmp(), {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      TSX_DISABLE_CACHE: process.env.TSX_DISABLE_CACHE,
      GITHUB_ACTION_PATH: ROOT,
      ...env,
      ...stepEnv,
    });
    ran.push(step.name);
    output += r.stdout + r.stderr;
    if (r.code !== 0) return { code: r.code, output, ran };
  }
  return { code: 0, output, ran };
}

function commandNamed(name: string): Command {
  return program(async () => {}).commands.find((c) => c.name() === name)!;
}

test("action.yml is a composite action whose scripts take every input through env and use real flags", () => {
  assert.equal(action.runs.using, "composite");
  for (const name of ["file", "format", "environment", "fail-on-regression", "url", "key"]) {
    assert.ok(action.inputs[name], `input ${name}`);
  }
  const used = new Set<string>();
  for (const step of steps) {
    assert.equal(step.shell, "bash", `${step.name}: a composite run step names its shell`);
    const cond = step.if?.match(/^inputs\.([a-z-]+) == /);
    if (cond) used.add(cond[1]);
    assert.doesNotMatch(
      step.run ?? "",
      /\$\{\{/,
      `${step.name}: no expression spliced into the script`,
    );
    for (const v of Object.values(step.env ?? {})) {
      const m = v.match(EXPR);
      assert.ok(m, `${step.name}: env values are plain input references (${v})`);
      if (m[1].startsWith("inputs.")) used.add(m[1].slice("inputs.".length));
    }
    // Every flag the script passes is one of its command's.
    const cmd = /\(push /.test(step.run ?? "")
      ? commandNamed("push")
      : /\(check /.test(step.run ?? "")
      ? commandNamed("check")
      : null;
    if (!cmd) continue;
    const flags = new Set(cmd.options.map((o) => o.long));
    for (const [flag] of (step.run ?? "").matchAll(/--[a-z][a-z-]+/g)) {
      assert.ok(flags.has(flag), `${step.name}: ${cmd.name()} has ${flag}`);
    }
  }
  assert.deepEqual(
    Object.keys(action.inputs).filter((n) => !used.has(n)),
    [],
    "every input reaches a step",
  );
  assert.equal(action.inputs.cli.default, "", "runs the committed bundle unless told otherwise");
  const setup = steps.find((s) => s.name === SETUP)!.run!;
  assert.match(setup, new RegExp(`"\\$major" -ge ${NODE_MAJOR} `), "the bundle's node target");
  assert.match(setup, /cli\/dist\/benchwatch\.mjs/);
});

let tarball: string;
let gh: GitHubStandIn;
/** PATH for the default steps: `node` and nothing else (no npm, so nothing can be installed). */
let nodeOnly: string;
before(async () => {
  nodeOnly = binDir({ node: process.execPath });
  const out = tmp();
  // --ignore-scripts: the tarball holds the committed cli/dist (bundle.test.ts checks it is
  // fresh) and the prepack build does not rewrite it under the other tests.
  const args = ["pack", join(ROOT, "cli"), "--ignore-scripts", "--pack-destination", out];
  const packed = await exec("npm", args, ROOT, {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    TSX_DISABLE_CACHE: process.env.TSX_DISABLE_CACHE,
  });
  assert.equal(packed.code, 0, packed.stderr);
  tarball = join(out, packed.stdout.trim().split("\n").at(-1)!);
  gh = await startGitHub(TOKEN);
});
after(async () => {
  await gh?.close();
  await closeDb();
});

/** A pull_request job's environment, with the stand-in as GitHub's API. */
function jobEnv(pr: number, runnerTemp: string): Record<string, string> {
  const event = join(tmp(), "event.json");
  writeFileSync(event, JSON.stringify({ number: pr, pull_request: { number: pr } }));
  return {
    RUNNER_TEMP: runnerTemp,
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: "pull_request",
    GITHUB_EVENT_PATH: event,
    GITHUB_REPOSITORY: "acme/evals",
    GITHUB_API_URL: gh.url,
    GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
  };
}

test("the action's steps push promptfoo output with the bundled CLI, installing nothing, and comment on the pull request", async () => {
  const environment = uniq("action");
  const runnerTemp = tmp();
  const r = await runAction(
    {
      file: join(ROOT, "cli", "test", "fixtures", "promptfoo", "output.json"),
      format: "promptfoo",
      environment,
      url: stack("SUPABASE_URL"),
      key: stack("SUPABASE_SERVICE_ROLE_KEY"),
      "dashboard-url": "https://dash.example.test/",
    },
    { ...jobEnv(201, runnerTemp), PATH: nodeOnly },
  );
  assert.equal(r.code, 0, r.output);
  assert.deepEqual(r.ran, [SETUP, "Push the results"]);
  assert.ok(!existsSync(join(runnerTemp, "benchwatch-cli")), "nothing installed");
  assert.match(r.output, /benchmark (runs )?persisted successfully/i);
  const [n] = await db()`select count(*)::int as n from public.benchmark_transactions
                         where environment = ${environment}`;
  assert.ok(n.n >= 1, "the file's runs are recorded");
  const comments = gh.comments.get("acme/evals#201") ?? [];
  assert.equal(comments.length, 1);
  assert.match(comments[0].body, /<!-- benchwatch:verdict -->/);
  assert.match(comments[0].body, /view=trends/);
});

test("fail-on-regression decides whether a regression fails the push or check step", async () => {
  const model = uniq("action-gate");
  const temp = tmp();
  const common = {
    environment: model,
    url: stack("SUPABASE_URL"),
    key: stack("SUPABASE_SERVICE_ROLE_KEY"),
    comment: "false",
  };
  const base = await runAction(
    { ...common, file: guideFile(model), "commit-sha": `${model}-base` },
    { ...jobEnv(202, temp), PATH: nodeOnly },
  );
  assert.equal(base.code, 0, base.output);
  await db()`select public.pin_baseline(t.id) from public.benchmark_transactions t
             where t.model_version = ${model}`;

  const gated = await runAction(
    { ...common, file: guideFile(model, REGRESSED), "commit-sha": `${model}-bad` },
    { ...jobEnv(202, temp), PATH: nodeOnly },
  );
  assert.equal(gated.code, 1, gated.output);
  assert.match(gated.output, /Regression detected in 1 run \(--fail-on-regression\)/);
  const lenient = await runAction(
    {
      ...common,
      file: guideFile(model, REGRESSED),
      "commit-sha": `${model}-bad`,
      "fail-on-regression": "false",
    },
    { ...jobEnv(202, temp), PATH: nodeOnly },
  );
  assert.equal(lenient.code, 0, lenient.output);

  const check = await runAction(
    { ...common, command: "check", "commit-sha": `${model}-bad` },
    { ...jobEnv(202, temp), PATH: nodeOnly },
  );
  assert.equal(check.code, 1, check.output);
  assert.deepEqual(check.ran, [SETUP, "Check the recorded verdict"]);
  assert.match(check.output, /verdict: regressed/);
  const checkLenient = await runAction(
    { ...common, command: "check", "commit-sha": `${model}-bad`, "fail-on-regression": "false" },
    { ...jobEnv(202, temp), PATH: nodeOnly },
  );
  assert.equal(checkLenient.code, 0, checkLenient.output);
  assert.equal(gh.comments.get("acme/evals#202"), undefined, "comment: false sends nothing");
});

test("the cli input installs the tarball of npm pack ./cli and runs it instead of the bundle", async () => {
  const model = uniq("action-tarball");
  const runnerTemp = tmp();
  // GITHUB_ACTION_PATH without cli/dist: a step that fell back to the bundle would fail.
  const env = { ...jobEnv(203, runnerTemp), GITHUB_ACTION_PATH: tmp() };
  const common = {
    environment: model,
    url: stack("SUPABASE_URL"),
    key: stack("SUPABASE_SERVICE_ROLE_KEY"),
    comment: "false",
    cli: tarball,
    "commit-sha": `${model}-sha`,
  };
  const pushed = await runAction({ ...common, file: guideFile(model) }, env);
  assert.equal(pushed.code, 0, pushed.output);
  assert.deepEqual(pushed.ran, [SETUP, "Push the results"]);
  const installed = join(runnerTemp, "benchwatch-cli", "node_modules", "benchwatch");
  assert.ok(existsSync(join(installed, "dist", "benchwatch.mjs")), "the tarball is installed");
  const [n] = await db()`select count(*)::int as n from public.benchmark_transactions
                         where model_version = ${model}`;
  assert.equal(n.n, 1, "the run is recorded");
  const check = await runAction({ ...common, command: "check" }, env);
  assert.equal(check.code, 0, check.output);
  assert.deepEqual(check.ran, [SETUP, "Check the recorded verdict"]);
});

test("the first step stops the action with an ::error when node is missing or too old", async () => {
  const inputs = { file: guideFile(uniq("action-node")), url: "http://127.0.0.1:9", key: "k" };
  const missing = await runAction(inputs, { ...jobEnv(204, tmp()), PATH: binDir({}) });
  assert.equal(missing.code, 1, missing.output);
  assert.deepEqual(missing.ran, [SETUP]);
  assert.match(
    missing.output,
    /::error title=benchwatch::node is not on PATH: .*Node\.js 20 or newer/,
  );

  // Node 18's `node --version` output, from a stand-in (the machine has no Node 18).
  const old = join(tmp(), "node");
  writeFileSync(old, "#!/bin/sh\necho v18.20.4\n", { mode: 0o755 });
  const tooOld = await runAction(inputs, { ...jobEnv(204, tmp()), PATH: binDir({ node: old }) });
  assert.equal(tooOld.code, 1, tooOld.output);
  assert.deepEqual(tooOld.ran, [SETUP]);
  assert.match(tooOld.output, /::error title=benchwatch::node v18\.20\.4 is too old: /);
});
