// The npm package: `npm pack ./cli` builds a tarball with the bundled CLI and nothing
// else; installed into an empty project without the network, `npx benchwatch push` records an
// eval tool's output on the test stack, with no TypeScript runtime and no dependencies.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { closeDb, db, ROOT, stack, tmp, uniq } from "./helpers.ts";

after(closeDb);

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      {
        cwd,
        timeout: 240_000,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          TMPDIR: process.env.TMPDIR,
          // The prepack build runs through tsx, whose cache would stay in npm test's temp dir.
          TSX_DISABLE_CACHE: process.env.TSX_DISABLE_CACHE,
          ...env,
        },
      },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === "number" ? err.code : 99) : 0, stdout, stderr }),
    );
  });
}

/** Every file under dir, with its size. */
function files(dir: string): { path: string; bytes: number }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : [{ path: p, bytes: statSync(p).size }];
  });
}

test("npm pack ./cli, installed in an empty project without the network, pushes an lm-eval file to the stack", async (t) => {
  const out = tmp();
  const packed = await run(
    "npm",
    ["pack", join(ROOT, "cli"), "--json", "--pack-destination", out],
    ROOT,
  );
  assert.equal(packed.code, 0, packed.stderr);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("[")));
  assert.equal(info.name, "benchwatch");
  assert.deepEqual(
    info.files.map((f: { path: string }) => f.path).sort(),
    ["README.md", "dist/THIRD_PARTY_LICENSES.md", "dist/benchwatch.mjs", "package.json"],
    "the CLI only: no sources, dashboard or tooling",
  );
  const manifest = JSON.parse(readFileSync(join(ROOT, "cli", "package.json"), "utf8"));
  assert.equal(manifest.dependencies, undefined, "everything it needs is bundled");

  const project = tmp();
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "evals", private: true }));
  const installed = await run(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", join(out, info.filename)],
    project,
  );
  assert.equal(installed.code, 0, installed.stderr);
  assert.deepEqual(readdirSync(join(project, "node_modules")).filter((n) => !n.startsWith(".")), [
    "benchwatch",
  ]);
  const shipped = files(join(project, "node_modules", "benchwatch"));
  assert.ok(shipped.every((f) => !f.path.endsWith(".ts")), "no TypeScript at run time");
  const bytes = shipped.reduce((n, f) => n + f.bytes, 0);
  t.diagnostic(`installed size: ${(bytes / 1024).toFixed(0)} KiB in ${shipped.length} files`);
  assert.ok(bytes < 2 * 1024 * 1024, `a small footprint (${bytes} bytes)`);

  const environment = uniq("packed");
  const env = {
    SUPABASE_URL: stack("SUPABASE_URL"),
    SUPABASE_SERVICE_ROLE_KEY: stack("SUPABASE_SERVICE_ROLE_KEY"),
    SUPABASE_ANON_KEY: stack("SUPABASE_ANON_KEY"),
  };
  const pushed = await run(
    "npx",
    [
      "--no-install",
      "benchwatch",
      "push",
      "--input",
      join(ROOT, "cli", "test", "fixtures", "lm-eval", "results.json"),
      "--environment",
      environment,
      "--model-version",
      "EleutherAI/pythia-14m-deduped",
      "--model-provider",
      "hf",
      "--commit-sha",
      "packed-1",
    ],
    project,
    env,
  );
  assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
  assert.match(pushed.stdout, /✓ \d+ benchmark runs persisted successfully/);
  const runs = await db()<{ dataset_version: string; bpb: number | null }[]>`
    select dataset_version, (metrics ->> 'bits_per_byte')::float8 as bpb
    from public.benchmark_transactions where environment = ${environment} order by dataset_version`;
  assert.ok(runs.length >= 2, `the file's tasks were recorded (${runs.length})`);
  assert.ok(runs.some((r) => r.dataset_version.startsWith("wikitext") && r.bpb! > 0));

  const dashboard = await run("npx", ["--no-install", "benchwatch", "dashboard"], project, env);
  assert.equal(dashboard.code, 2);
  assert.match(dashboard.stderr, /Serve the dashboard from a checkout of benchwatch/);
});
