// The local stack's contract: `up` returns a healthy stack and writes the env file,
// a second `up` changes nothing, `down` stops every process and frees the ports, and
// `start` stops everything it started on Ctrl-C. These run against a throwaway profile
// on ports of its own, beside the stack the rest of the suite uses.

import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";
import { pidAlive, portOpen, readPid, run } from "./proc.ts";
import { down, up } from "./stack.ts";
import { wipeStackDir } from "./postgres.ts";

const PROFILE = `selftest${Deno.env.get("BENCHWATCH_TEST_API_PORT") ?? ""}`;
// Ten above the test stack's own ports, so parallel test runs on other ports never collide.
const BASE = Number(Deno.env.get("BENCHWATCH_TEST_API_PORT") || 24331) + 10;
const PORTS = { API: String(BASE), DB: String(BASE + 1), SLACK_SINK: String(BASE + 2) };

function useSelftestProfile(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(PORTS)) {
    env[`BENCHWATCH_${PROFILE.toUpperCase()}_${k}_PORT`] = v;
  }
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  return env;
}

async function postgresPid(dataDir: string): Promise<number | undefined> {
  try {
    return Number((await Deno.readTextFile(`${dataDir}/postmaster.pid`)).split("\n")[0]);
  } catch {
    return undefined;
  }
}

const quiet = () => {};

Deno.test({
  name: "stack: up is healthy and idempotent, down stops everything and frees both ports",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    useSelftestProfile();
    const cfg = loadConfig(PROFILE);
    await wipeStackDir(cfg);
    try {
      const first = await up(PROFILE, { say: quiet });
      const env = await Deno.readTextFile(cfg.envFile);
      for (
        const key of [
          "SUPABASE_URL",
          "SUPABASE_DB_URL",
          "SUPABASE_ANON_KEY",
          "SUPABASE_SERVICE_ROLE_KEY",
          "DASHBOARD_URL",
        ]
      ) {
        assert.match(env, new RegExp(`^${key}=\\S+$`, "m"), `.local env has ${key}`);
      }
      const gw1 = await readPid(`${cfg.dir}/gateway.pid`);
      const pg1 = await postgresPid(cfg.dataDir);
      const mtime1 = (await Deno.stat(cfg.envFile)).mtime?.getTime();

      const said: string[] = [];
      const second = await up(PROFILE, { say: (s) => said.push(s) });
      assert.deepEqual(second.env, first.env, "the second up yields the same keys and URLs");
      assert.equal(await readPid(`${cfg.dir}/gateway.pid`), gw1, "the gateway was not restarted");
      assert.equal(await postgresPid(cfg.dataDir), pg1, "postgres was not restarted");
      assert.equal(
        (await Deno.stat(cfg.envFile)).mtime?.getTime(),
        mtime1,
        "the env file was not rewritten",
      );
      assert.ok(
        said.some((s) => s.includes("already running")),
        "it says the gateway is already running",
      );

      const workerPids = (await Deno.readTextFile(`${cfg.dir}/workers.pids`)).split("\n").map(
        Number,
      )
        .filter((n) => n > 0);
      assert.ok(workerPids.length > 0, "function workers were started");

      await down(PROFILE, quiet);
      assert.equal(await portOpen(cfg.apiPort), false, "the API port is free");
      assert.equal(await portOpen(cfg.dbPort), false, "the database port is free");
      for (const pid of [gw1!, pg1!, ...workerPids]) {
        assert.equal(pidAlive(pid), false, `process ${pid} is gone`);
      }
    } finally {
      await down(PROFILE, quiet).catch(() => {});
    }
  },
});

Deno.test({
  name: "stack: start serves until SIGINT, then leaves no postgres or deno behind",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const env = useSelftestProfile();
    const cfg = loadConfig(PROFILE);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `--config=${cfg.repoRoot}/deno.json`,
        `${cfg.repoRoot}/local/stack/main.ts`,
        "start",
        "--profile",
        PROFILE,
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let out = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const deadline = Date.now() + 90_000;
    while (!out.includes("Press Ctrl-C") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    assert.match(
      out,
      new RegExp(`Dashboard: +http://127\\.0\\.0\\.1:${PORTS.API}/`),
      "it prints the dashboard URL",
    );
    assert.match(out, /Press Ctrl-C/);
    const gw = await readPid(`${cfg.dir}/gateway.pid`);
    const pg = await postgresPid(cfg.dataDir);
    const workers = (await Deno.readTextFile(`${cfg.dir}/workers.pids`)).split("\n").map(Number)
      .filter((n) => n > 0);
    assert.ok(gw && pg && workers.length > 0, "gateway, postgres and workers are running");

    child.kill("SIGINT");
    void (async () => {
      while (!(await reader.read()).done) { /* drain */ }
    })();
    const [status] = await Promise.all([child.status, new Response(child.stderr).text()]);
    assert.equal(status.code, 0, "start exits 0 on Ctrl-C");
    for (const pid of [gw!, pg!, ...workers]) {
      assert.equal(pidAlive(pid), false, `process ${pid} is gone`);
    }
    assert.equal(await portOpen(cfg.apiPort), false);
    assert.equal(await portOpen(cfg.dbPort), false);
    // The throwaway profile's folder (and a /var/tmp cluster, if it needed one) goes too.
    await wipeStackDir(cfg);
    assert.equal(await Deno.stat(cfg.dir).then(() => true, () => false), false);
  },
});

Deno.test("migrations: supabase db push again on the test database is a no-op", async () => {
  const dbUrl = Deno.env.get("SUPABASE_DB_URL");
  if (!dbUrl) throw new Error("Set SUPABASE_DB_URL: run through `npm test`");
  const root = loadConfig("test").repoRoot;
  const res = await run([
    `${root}/node_modules/.bin/supabase`,
    "db",
    "push",
    "--db-url",
    `${dbUrl}?sslmode=disable`,
    "--workdir",
    root,
    "--yes",
  ]);
  assert.match(res.stdout + res.stderr, /up to date/, "nothing left to apply");
});
