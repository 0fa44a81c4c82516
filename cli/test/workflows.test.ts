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
    steps().some((s) => s.file === "ci.yml" && s.step.run?.trim() === "npm test"),
    "CI runs npm test",
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
  assert.ok(seen >= 4, `found the benchwatch steps (${seen})`);
});

test("the README's Option A step uses real flags", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = readme.match(/- name: Push to Supabase[\s\S]*?```/)?.[0];
  assert.ok(block, "the README shows the Option A step");
  const call = block.replace(/\\\n\s*/g, " ").match(/npx benchwatch (push[^\n]*)/)?.[1];
  assert.ok(call);
  const { cmd, rest } = commandFor(call.split(/\s+/));
  const flags = new Set(cmd.options.map((o) => o.long));
  for (const w of rest.filter((w) => w.startsWith("--"))) assert.ok(flags.has(w), `push has ${w}`);
  for (const secret of ["SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"]) {
    assert.ok(block.includes(`secrets.${secret}`));
  }
});
