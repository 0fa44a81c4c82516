// A new user's first run: `npm start` in a fresh copy of this checkout (no dashboard/dist,
// no .local), on ports of its own. The URL it prints must render the dashboard's views
// with the demo data, not a placeholder, and what it prints up to "benchwatch is running."
// must fit in 30 lines. The copy holds the files a clone would (tracked and untracked,
// minus ignored ones), with node_modules linked to this checkout's.

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { createConnection } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { type Browser, collectErrors, launch, screenshot } from "./helpers.ts";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
// A fixed path inside this checkout's .local: if PostgreSQL must keep its data elsewhere
// (see local/stack/postgres.ts), the same place is reused run after run.
const COPY = join(ROOT, ".local", "fresh-clone");
// Fifty above the test stack's ports: stack_test.ts takes ten above, and 20-40 above are
// the bench, hardening and eval stacks' defaults.
const BASE = Number(process.env.BENCHWATCH_TEST_API_PORT || 24331) + 50;
const PORTS = { api: BASE, db: BASE + 1, sink: BASE + 2 };
const VIEWS = ["snapshot", "trends", "regressions", "stability", "models"];
const MAX_LINES = 30;

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createConnection({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      done(true);
    });
    s.once("error", () => done(false));
  });
}

function freshCopy(): void {
  rmSync(COPY, { recursive: true, force: true });
  const files = execFileSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    { cwd: ROOT, encoding: "utf8" },
  ).split("\0").filter((f) => f && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(COPY, f)), { recursive: true });
    // Timestamps kept: ensure-deps.sh compares package-lock.json with node_modules.
    cpSync(join(ROOT, f), join(COPY, f), { preserveTimestamps: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(COPY, "node_modules"));
}

let browser: Browser | undefined;
let child: ChildProcess | undefined;

before(async () => {
  const lock = statSync(join(ROOT, "package-lock.json")).mtimeMs;
  const installed = statSync(join(ROOT, "node_modules", ".package-lock.json")).mtimeMs;
  assert.ok(
    lock <= installed,
    "Run npm ci first: package-lock.json is newer than node_modules, and npm start in the copy would reinstall into this checkout's node_modules",
  );
  for (const p of Object.values(PORTS)) {
    assert.equal(await portOpen(p), false, `Free port ${p}: this test starts a stack there`);
  }
  freshCopy();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    process.kill(-child.pid, "SIGINT");
    await new Promise((r) => child!.once("exit", r));
  }
  rmSync(COPY, { recursive: true, force: true });
});

test("npm start in a fresh clone serves the built dashboard at the URL it prints, in under 30 lines", async () => {
  assert.equal(existsSync(join(COPY, "dashboard", "dist")), false, "the copy has no build");
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // The copy's own stack: none of this run's stack settings.
    if (v !== undefined && !/^(BENCHWATCH_|SUPABASE_|DASHBOARD_URL$)/.test(k)) env[k] = v;
  }
  Object.assign(env, {
    BENCHWATCH_API_PORT: String(PORTS.api),
    BENCHWATCH_DB_PORT: String(PORTS.db),
    BENCHWATCH_SLACK_SINK_PORT: String(PORTS.sink),
  });
  // Its own process group, so SIGINT reaches npm and the stack as Ctrl-C does.
  child = spawn("sh", ["-c", "exec npm start 2>&1"], {
    cwd: COPY,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const ready = new Promise<void>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`npm start was not ready within 5 minutes:\n${out}`)),
      300_000,
    );
    child!.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("Press Ctrl-C")) {
        clearTimeout(timer);
        done();
      }
    });
    child!.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`npm start exited (${code}) before it was ready:\n${out}`));
    });
  });
  await ready;

  const head = out.slice(0, out.indexOf("benchwatch is running.")).split("\n");
  const lines = head.length; // the lines before it, and its own
  console.log(`npm start printed ${lines} lines up to "benchwatch is running."`);
  assert.ok(lines <= MAX_LINES, `at most ${MAX_LINES} lines, got ${lines}:\n${out}`);
  assert.match(out, /^database: \d+ migrations applied \(\d+ new\)$/m, "a migration summary");
  assert.doesNotMatch(out, /Applying migration/, "not the full db push output");
  assert.match(out, /^dashboard: built dashboard\/dist in /m, "it built the dashboard");
  assert.ok(existsSync(join(COPY, "dashboard", "dist", "index.html")));

  const url = out.match(/Dashboard: +(http:\/\/\S+)/)?.[1];
  assert.equal(url, `http://127.0.0.1:${PORTS.api}/`, "it prints the dashboard URL");
  const page = await browser!.context.newPage();
  const errors = collectErrors(page);
  await page.goto(url!);
  await page.waitForSelector('[data-testid="snapshot-row"]');
  assert.doesNotMatch(await page.innerText("body"), /not been built/);
  assert.ok(
    (await page.locator('[data-testid="snapshot-row"][data-status="regressed"]').count()) > 0,
    "the demo's regression is on the snapshot",
  );
  for (const view of VIEWS) {
    await page.click(`[data-testid="tab-${view}"]`);
    await page.waitForSelector(`[data-testid="view-${view}"]`);
  }
  await page.waitForSelector('[data-testid="scatter-point"]');
  await screenshot(page, "fresh-clone-models");
  assert.deepEqual(errors, [], "no console errors");
  await page.close();

  process.kill(-child.pid!, "SIGINT");
  const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
    child!.once("close", (c, s) => r([c, s]))
  );
  // npm itself ends by the signal it got; the stack under it must have stopped cleanly.
  assert.ok(code === 0 || signal === "SIGINT", `npm start ends on Ctrl-C (${code}, ${signal})`);
  assert.match(out, /stopped the dev stack/, `the stack stops on Ctrl-C:\n${out}`);
  for (const p of Object.values(PORTS)) {
    assert.equal(await portOpen(p), false, `port ${p} is free again`);
  }
});

test("benchwatch dashboard in the same copy rebuilds a removed dist and serves the app's files", async () => {
  const env = Object.fromEntries(
    readFileSync(join(COPY, ".local", "env"), "utf8").split("\n")
      .map((l) => l.match(/^([A-Z_]+)=(.*)$/)).filter((m) => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  assert.ok(env.SUPABASE_ANON_KEY, "npm start wrote the copy's .local/env");
  rmSync(join(COPY, "dashboard", "dist"), { recursive: true });
  const cli = spawn(process.execPath, ["cli/bin/benchwatch.mjs", "dashboard", "--port", "0"], {
    cwd: COPY,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      TSX_DISABLE_CACHE: process.env.TSX_DISABLE_CACHE,
      SUPABASE_URL: env.SUPABASE_URL,
      SUPABASE_ANON_KEY: env.SUPABASE_ANON_KEY,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    let out = "";
    const url = await new Promise<string>((done, fail) => {
      cli.stdout!.on("data", (d) => {
        out += d;
        const m = out.match(/Local URL: (http:\/\/\S+)/);
        if (m) done(m[1]);
      });
      cli.stderr!.on("data", (d) => out += d);
      cli.once("exit", (code) => fail(new Error(`benchwatch dashboard exited ${code}:\n${out}`)));
    });
    assert.match(out, /Built the dashboard in [\d.]+ s \(dashboard\/dist is missing\)/);
    const html = await (await fetch(`${url}/`)).text();
    const script = html.match(/<script[^>]+src="\.\/(assets\/[^"]+\.js)"/)?.[1];
    assert.ok(script, `the page loads the built bundle:\n${html}`);
    const js = await fetch(`${url}/${script}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type") ?? "", /javascript/);
    assert.ok((await js.text()).length > 10_000, "the bundle is the app, not a stub");
  } finally {
    cli.kill("SIGTERM");
  }
});
