// `npm test`: every suite, against a fresh stack of its own (the `test` profile, never
// the one `npm start` serves). Static checks, pgTAP through pg_prove, Deno tests and
// Node tests each report their counts; the last line is `N passed, N failed`.
//
// `npm test -- <path or pattern>...` runs only the matching test files (pgTAP, Deno, CLI,
// browser), on the running test stack when there is one (it is started otherwise, and left
// up for the next run), with the same closing line.

import { edgeRuntime, loadConfig } from "./config.ts";
import { loadDemo } from "./demo.ts";
import { exists } from "./proc.ts";
import { run } from "./proc.ts";
import { generateSchema, readSchema, SCHEMA_DIR, schemaDiff } from "../../tools/docs/schema.ts";
import { down, type Stack, up } from "./stack.ts";
import { wipeStackDir } from "./postgres.ts";

interface Tally {
  suite: string;
  passed: number;
  failed: number;
}

const tallies: Tally[] = [];

/** CLI tests that need a database with no runs: run before the demo history is loaded. */
const EMPTY_DB_CLI_TESTS = ["cli/test/doctor-empty.test.ts"];

function header(title: string): void {
  console.log(`\n━━ ${title} ${"━".repeat(Math.max(3, 70 - title.length))}`);
}

/** Runs a command with its output streamed live, and returns what it printed. */
async function stream(
  cmd: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const pump = async (s: ReadableStream<Uint8Array>, to: typeof Deno.stdout) => {
    for await (const chunk of s) {
      output += new TextDecoder().decode(chunk);
      await to.write(chunk);
    }
  };
  await Promise.all([pump(child.stdout, Deno.stdout), pump(child.stderr, Deno.stderr)]);
  const { code } = await child.status;
  return { code, output };
}

function stripAnsi(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

async function check(suite: string, cmd: string[], cwd?: string): Promise<void> {
  header(suite);
  const { code } = await stream(cmd, {}, cwd);
  tallies.push({ suite, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 });
  console.log(code === 0 ? `✓ ${suite}` : `✗ ${suite} (exit ${code})`);
}

async function listFiles(dir: string, pattern: RegExp): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === "node_modules" || e.name.startsWith(".")) continue;
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (pattern.test(e.name)) out.push(p);
    }
  }
  await walk(dir);
  return out.sort();
}

async function staticChecks(root: string): Promise<void> {
  const deno = Deno.execPath();
  await check("deno fmt --check", [deno, "fmt", "--check"], root);
  await check("deno lint", [deno, "lint"], root);
  const tsFiles = [
    ...await listFiles(`${root}/supabase`, /\.ts$/),
    ...await listFiles(`${root}/local`, /\.ts$/),
    ...await listFiles(`${root}/tools`, /\.ts$/),
  ];
  await check("deno check", [deno, "check", "--quiet", ...tsFiles], root);
  await check(
    "tsc --noEmit (cli)",
    [`${root}/node_modules/.bin/tsc`, "--noEmit", "-p", root],
    root,
  );
  if (await exists(`${root}/dashboard/tsconfig.json`)) {
    await check("tsc --noEmit (dashboard)", [
      `${root}/node_modules/.bin/tsc`,
      "--noEmit",
      "-p",
      `${root}/dashboard`,
    ], root);
    await check("dashboard build", [
      `${root}/node_modules/.bin/vite`,
      "build",
      "dashboard",
      "--logLevel",
      "warn",
    ], root);
    await productionBundleHasNoHook(root);
  }
}

/** The chart benchmark's hook (dashboard/src/testhook.ts) must not ship in dashboard/dist. */
async function productionBundleHasNoHook(root: string): Promise<void> {
  const suite = "no test hook in the dashboard bundle";
  header(suite);
  const files = await listFiles(`${root}/dashboard/dist`, /\.(js|html)$/);
  const hooked = [];
  for (const f of files) {
    if (/__benchwatch|benchTrend/.test(await Deno.readTextFile(f))) hooked.push(f);
  }
  const ok = files.length > 0 && hooked.length === 0;
  console.log(
    ok
      ? `✓ none of the ${files.length} bundle files carries the benchmark hook`
      : files.length === 0
      ? "✗ Build the dashboard: dashboard/dist has no .js or .html file"
      : `✗ Load dashboard/src/testhook.ts only in a --mode measure build: ${hooked.join(", ")}`,
  );
  tallies.push({ suite, passed: ok ? 1 : 0, failed: ok ? 0 : 1 });
}

/**
 * Node's test runner over the CLI's and the dashboard's tests (TypeScript through tsx),
 * one file at a time since they share the stack.
 */
async function nodeTests(
  stack: Stack,
  suite: string,
  files: string[],
  extraEnv: Record<string, string> = {},
) {
  header(suite);
  const present = [];
  for (const f of files) if (await exists(`${stack.cfg.repoRoot}/${f}`)) present.push(f);
  if (present.length === 0) return;
  const { code, output } = await stream(
    [
      "node",
      "--import",
      "tsx",
      "--test",
      "--test-concurrency=1",
      "--test-reporter=spec",
      ...present,
    ],
    { ...stack.env, ...extraEnv },
    stack.cfg.repoRoot,
  );
  const text = stripAnsi(output);
  const passed = Number(text.match(/^ℹ pass (\d+)$/m)?.[1] ?? 0);
  let failed = Number(text.match(/^ℹ fail (\d+)$/m)?.[1] ?? 0);
  if (code !== 0 && failed === 0) failed = 1;
  tallies.push({ suite, passed, failed });
}

async function nodeTestFiles(root: string, dir: string): Promise<string[]> {
  return (await listFiles(`${root}/${dir}`, /\.test\.ts$/)).map((f) => f.slice(root.length + 1));
}

/** Counts a failure when docs/schema differs from a fresh generation from the stack. */
async function schemaSnapshot(stack: Stack): Promise<void> {
  header("schema snapshot (docs/schema)");
  const root = stack.cfg.repoRoot;
  const diff = schemaDiff(
    await generateSchema(root, stack.cfg.dbUrl),
    await readSchema(root),
  );
  if (diff.length === 0) {
    console.log(`✓ ${SCHEMA_DIR} matches the migrated database`);
  } else {
    console.log(
      `✗ Run \`npm run schema\` and commit ${SCHEMA_DIR}: it differs from the migrated ` +
        `database in ${diff.length} file${diff.length === 1 ? "" : "s"}:\n  ` +
        diff.slice(0, 20).join("\n  ") + (diff.length > 20 ? "\n  …" : ""),
    );
  }
  tallies.push({
    suite: "schema snapshot",
    passed: diff.length ? 0 : 1,
    failed: diff.length ? 1 : 0,
  });
}

/** plpgsql_check through the real CLI, over our schemas (pgTAP's own functions are not ours). */
async function dbLint(stack: Stack): Promise<void> {
  header("supabase db lint");
  const lint = (level: string) =>
    stream([
      `${stack.cfg.repoRoot}/node_modules/.bin/supabase`,
      "db",
      "lint",
      "--db-url",
      `${stack.cfg.dbUrl}?sslmode=disable`,
      "--workdir",
      stack.cfg.repoRoot,
      "--schema",
      "public,benchwatch_private",
      "--level",
      level,
      "--fail-on",
      level,
    ]);
  const { code, output } = await lint("error");
  const clean = code === 0 && output.includes("No schema errors found");
  if (!clean && code === 0) {
    // plpgsql_check findings below error level (an unused variable, say) make the CLI print
    // nothing at --level error; show them.
    console.log("✗ the linter reported findings below error level; at --level warning:");
    await lint("warning");
  }
  tallies.push({ suite: "supabase db lint", passed: clean ? 1 : 0, failed: clean ? 0 : 1 });
}

async function pgTap(stack: Stack, only?: string[]): Promise<void> {
  header("pgTAP (pg_prove)");
  const files = only ??
    await listFiles(`${stack.cfg.repoRoot}/supabase/tests/database`, /\.test\.sql$/);
  if (files.length === 0) {
    tallies.push({ suite: "pgTAP", passed: 0, failed: 1 });
    console.log("✗ no pgTAP files found under supabase/tests/database");
    return;
  }
  const url = new URL(stack.cfg.dbUrl);
  const { code, output } = await stream([
    "pg_prove",
    "--verbose",
    "--ext",
    ".sql",
    "-h",
    url.hostname,
    "-p",
    url.port,
    "-U",
    url.username,
    "-d",
    url.pathname.slice(1),
    ...files,
  ], { PGPASSWORD: decodeURIComponent(url.password), PGOPTIONS: "-c client_min_messages=warning" });
  const lines = stripAnsi(output).split("\n");
  const passed = lines.filter((l) => /^\s*ok \d+/.test(l)).length;
  let failed = lines.filter((l) => /^\s*not ok \d+/.test(l)).length;
  // A file that dies before planning its tests prints no "not ok": count it once.
  if (code !== 0 && failed === 0) failed = 1;
  tallies.push({ suite: "pgTAP", passed, failed });
}

/**
 * One `deno test` run, tallied under `suite`. The functions' own tests run on the edge
 * runtime's Deno with the functions' import map (what hosted runs them with); the tooling's
 * tests (local/, tools/, supabase/tests/) on the tooling Deno with the root deno.json.
 */
async function denoTests(
  stack: Stack,
  suite: string,
  opts: { deno: string; flags: string[]; env?: Record<string, string>; paths: string[] },
): Promise<void> {
  header(suite);
  const root = stack.cfg.repoRoot;
  const { code, output } = await stream(
    [opts.deno, "test", "--allow-all", "--no-prompt", ...opts.flags, ...opts.paths],
    { ...stack.env, ...opts.env },
    root,
  );
  const summary = stripAnsi(output).match(/(\d+) passed[^|\n]*\| (\d+) failed/g)?.pop();
  const m = summary?.match(/(\d+) passed[^|\n]*\| (\d+) failed/);
  const passed = m ? Number(m[1]) : 0;
  let failed = m ? Number(m[2]) : 0;
  if (code !== 0 && failed === 0) failed = 1;
  tallies.push({ suite, passed, failed });
}

/**
 * Points TMPDIR (inherited by every suite and the stack) at an empty directory of this run's
 * own, so what the tests leave behind can be told apart from what other programs on the
 * machine write to /tmp at the same time. tsx's compile cache would land there too: it is
 * turned off for the run.
 */
async function privateTmp(dir: string): Promise<string> {
  const tmp = `${dir}/tmp`;
  await Deno.mkdir(tmp, { recursive: true });
  Deno.env.set("TMPDIR", tmp);
  Deno.env.set("TSX_DISABLE_CACHE", "1");
  return tmp;
}

/**
 * What other programs keep in TMPDIR on purpose, and is not a leftover: the Supabase CLI is
 * a Bun-compiled binary that extracts its native module to `$TMPDIR/.bun-<uid>-<hash>.node`
 * and reuses it (one file per CLI build, keyed by its content hash).
 */
const NOT_LEFTOVERS = [/^\.bun-\d+-[0-9a-f]+\.node$/];

/** Counts a failure naming every entry the run left in its temp dir, then removes it. */
async function checkTmpClean(tmp: string): Promise<void> {
  header("temp files");
  const left = (await Array.fromAsync(Deno.readDir(tmp))).map((e) => e.name)
    .filter((n) => !NOT_LEFTOVERS.some((re) => re.test(n))).sort();
  if (left.length === 0) {
    console.log(`✓ the tests left nothing in their temp dir (TMPDIR=${tmp})`);
    tallies.push({ suite: "temp files", passed: 1, failed: 0 });
  } else {
    console.log(
      `✗ Remove what the tests create: they left ${left.length} entr${
        left.length === 1 ? "y" : "ies"
      } in their temp dir (TMPDIR=${tmp}): ${left.slice(0, 20).join(", ")}${
        left.length > 20 ? ", …" : ""
      }`,
    );
    tallies.push({ suite: "temp files", passed: 0, failed: 1 });
  }
  await Deno.remove(tmp, { recursive: true });
}

export async function runTests(args: string[] = []): Promise<number> {
  const patterns = args.filter((a) => !a.startsWith("--"));
  if (patterns.length > 0) return await runSelected(patterns);
  const started = performance.now();
  const cfg = loadConfig("test");
  // A fresh database every run: stop whatever a crashed run left, then wipe it.
  await down("test", () => {});
  await wipeStackDir(cfg);
  const tmp = await privateTmp(cfg.dir);
  await staticChecks(cfg.repoRoot);

  header("test stack");
  let stack: Stack | undefined;
  try {
    stack = await up("test", { say: (s) => console.log(s) });
    await schemaSnapshot(stack);
    await dbLint(stack);
    await pgTap(stack);
    // Before anything is recorded: the dashboard's empty state and doctor on an empty
    // project need an empty database.
    await nodeTests(stack, "browser (empty db)", ["dashboard/test/empty.test.ts"]);
    await nodeTests(stack, "CLI (empty db)", EMPTY_DB_CLI_TESTS);
    const root = stack.cfg.repoRoot;
    const edge = edgeRuntime(root);
    await denoTests(stack, "Deno tests (functions, edge Deno)", {
      deno: edge.deno,
      flags: edge.flags,
      env: edge.env,
      paths: ["supabase/functions"],
    });
    await denoTests(stack, "Deno tests (tooling)", {
      deno: Deno.execPath(),
      flags: [`--config=${root}/deno.json`],
      paths: ["supabase/tests", "local", "tools"],
    });
    header("demo data");
    await loadDemo(stack.env, (s) => console.log(s));
    await nodeTests(
      stack,
      "CLI (node)",
      (await nodeTestFiles(root, "cli/test")).filter((f) => !EMPTY_DB_CLI_TESTS.includes(f)),
    );
    await nodeTests(stack, "browser", [
      "dashboard/test/dashboard.test.ts",
      "dashboard/test/examples.test.ts",
    ]);
    // A stack of its own, in a copy of the checkout: the first run a new user sees.
    await nodeTests(stack, "fresh clone", ["dashboard/test/fresh-clone.test.ts"]);
  } catch (e) {
    console.error(`✗ ${(e as Error).message}`);
    tallies.push({ suite: "test stack", passed: 0, failed: 1 });
  } finally {
    await down("test", () => {}).catch((e) =>
      console.error(`could not stop the test stack: ${e.message}`)
    );
  }
  await checkTmpClean(tmp);
  return summary(started);
}

function summary(started: number): number {
  header("summary");
  for (const t of tallies) {
    console.log(
      `${t.failed ? "✗" : "✓"} ${t.suite.padEnd(20)} ${t.passed} passed, ${t.failed} failed`,
    );
  }
  const passed = tallies.reduce((a, t) => a + t.passed, 0);
  const failed = tallies.reduce((a, t) => a + t.failed, 0);
  console.log(`time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

/** Deno's default test file names: `test.ts`, `*_test.ts`, `*.test.ts` (and js/mjs/tsx…). */
const DENO_TEST = /(^|[_.])test\.(ts|tsx|mts|js|mjs|jsx)$/;

/** Every test file, by how it runs (paths relative to the repo root, sorted). */
async function catalogue(root: string) {
  const rel = (files: string[]) => files.map((f) => f.slice(root.length + 1));
  const cli = await nodeTestFiles(root, "cli/test");
  return {
    pgTap: rel(await listFiles(`${root}/supabase/tests/database`, /\.test\.sql$/)),
    denoEdge: rel(await listFiles(`${root}/supabase/functions`, DENO_TEST)),
    denoTooling: rel([
      ...await listFiles(`${root}/supabase/tests`, DENO_TEST),
      ...await listFiles(`${root}/local`, DENO_TEST),
      ...await listFiles(`${root}/tools`, DENO_TEST),
    ]),
    cliEmpty: cli.filter((f) => EMPTY_DB_CLI_TESTS.includes(f)),
    browserEmpty: ["dashboard/test/empty.test.ts"],
    cli: cli.filter((f) => !EMPTY_DB_CLI_TESTS.includes(f)),
    browser: ["dashboard/test/dashboard.test.ts", "dashboard/test/examples.test.ts"],
    freshClone: ["dashboard/test/fresh-clone.test.ts"],
  };
}

/** Whether the database holds any run (the empty-database tests need none). */
async function hasRuns(stack: Stack): Promise<boolean> {
  const res = await run([
    "psql",
    stack.cfg.dbUrl,
    "-X",
    "-q",
    "-A",
    "-t",
    "-v",
    "ON_ERROR_STOP=1",
    "-c",
    "select exists (select 1 from public.benchmark_transactions)",
  ]);
  return res.stdout.trim() === "t";
}

/**
 * `npm test -- <path or pattern>...`: the test files whose repo-relative path equals or
 * contains one of the patterns, on the running test stack (started if it is not, and left
 * up). The empty-database tests get a fresh stack if the running one holds runs; the tests
 * that read the demo history get it loaded first (once).
 */
async function runSelected(patterns: string[]): Promise<number> {
  const started = performance.now();
  const cfg = loadConfig("test");
  const root = cfg.repoRoot;
  // npm runs scripts from the repo root; INIT_CWD is where `npm test` was typed.
  const cwd = Deno.env.get("INIT_CWD") || Deno.cwd();
  const wanted = patterns.map((p) => {
    const abs = p.startsWith("/") ? p : `${cwd}/${p}`;
    const normalized = abs.startsWith(`${root}/`) ? abs.slice(root.length + 1) : p;
    return normalized.replace(/^\.\//, "");
  });
  const all = await catalogue(root);
  const pick = (files: string[]) =>
    files.filter((f) => wanted.some((w) => f === w || f.includes(w)));
  const sel = Object.fromEntries(
    Object.entries(all).map(([k, v]) => [k, pick(v)]),
  ) as typeof all;
  const count = Object.values(sel).reduce((a, v) => a + v.length, 0);
  if (count === 0) {
    console.log(
      `✗ No test file matches ${patterns.join(", ")}: give a path (e.g. ` +
        "supabase/tests/database/02-guide.test.sql) or part of one (e.g. ingest_test)",
    );
    tallies.push({ suite: "selection", passed: 0, failed: 1 });
    return summary(started);
  }
  console.log(`running ${count} test file${count === 1 ? "" : "s"}:`);
  for (const files of Object.values(sel)) for (const f of files) console.log(`  ${f}`);

  header("test stack");
  let stack: Stack;
  try {
    stack = await up("test", { say: (s) => console.log(s) });
    if ((sel.cliEmpty.length || sel.browserEmpty.length) && await hasRuns(stack)) {
      console.log("the empty-database tests need a database with no runs: recreating the stack");
      await down("test", () => {});
      await wipeStackDir(cfg);
      stack = await up("test", { say: (s) => console.log(s) });
    }
    console.log(`the test stack stays up (\`npm run local:down -- --profile test\` stops it)`);
  } catch (e) {
    console.error(`✗ ${(e as Error).message}`);
    tallies.push({ suite: "test stack", passed: 0, failed: 1 });
    return summary(started);
  }
  // After the stack is up: its own processes keep the system temp dir.
  await Deno.remove(`${cfg.dir}/tmp`, { recursive: true }).catch(() => {});
  const tmp = await privateTmp(cfg.dir);
  try {
    if (sel.pgTap.length) await pgTap(stack, sel.pgTap);
    if (sel.browserEmpty.length) await nodeTests(stack, "browser (empty db)", sel.browserEmpty);
    if (sel.cliEmpty.length) await nodeTests(stack, "CLI (empty db)", sel.cliEmpty);
    if (sel.denoEdge.length) {
      const edge = edgeRuntime(root);
      await denoTests(stack, "Deno tests (functions, edge Deno)", {
        deno: edge.deno,
        flags: edge.flags,
        env: edge.env,
        paths: sel.denoEdge,
      });
    }
    if (sel.denoTooling.length) {
      await denoTests(stack, "Deno tests (tooling)", {
        deno: Deno.execPath(),
        flags: [`--config=${root}/deno.json`],
        paths: sel.denoTooling,
      });
    }
    if (sel.cli.length || sel.browser.length) {
      header("demo data");
      await loadDemo(stack.env, (s) => console.log(s));
    }
    if (sel.cli.length) await nodeTests(stack, "CLI (node)", sel.cli);
    if (sel.browser.length) await nodeTests(stack, "browser", sel.browser);
    if (sel.freshClone.length) await nodeTests(stack, "fresh clone", sel.freshClone);
  } catch (e) {
    console.error(`✗ ${(e as Error).message}`);
    tallies.push({ suite: "test run", passed: 0, failed: 1 });
  }
  await checkTmpClean(tmp);
  return summary(started);
}
