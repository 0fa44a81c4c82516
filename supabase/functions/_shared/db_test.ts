import assert from "node:assert/strict";
import {
  connectTimeout,
  DEFAULT_POOL_SIZE,
  isClosedSocketWrite,
  poolSize,
  reconnectDelay,
} from "./db.ts";

Deno.test("poolSize() is small by default, as Supabase advises for Edge Function isolates", () => {
  assert.equal(poolSize(undefined), DEFAULT_POOL_SIZE);
  assert.equal(poolSize(" "), DEFAULT_POOL_SIZE);
  assert.ok(DEFAULT_POOL_SIZE <= 3);
  assert.equal(poolSize("1"), 1);
  assert.equal(poolSize("20"), 20);
});

Deno.test("poolSize() refuses a value that is not a whole number from 1 to 20", () => {
  for (const bad of ["0", "-1", "2.5", "21", "ten"]) {
    assert.throws(() => poolSize(bad), /Set BENCHWATCH_DB_POOL to a whole number from 1 to 20/);
  }
});

// The guard against postgres.js's write to a closed socket (db.ts), on the edge runtime's
// Deno. The fixture throws the same TypeError from a function named nextWrite, in a file laid
// out as Deno's npm cache lays out postgres.js (postgres/3.4.9/src/connection.js), from a
// setImmediate callback as postgres.js does: where no caller can catch it.
const FIXTURE = `import { setImmediate } from "node:timers";
export function writeAfterClose(name) {
  let socket = null;
  const fns = { nextWrite() { socket.write(new Uint8Array(1)); }, other() { socket.write(1); } };
  setImmediate(fns[name]);
}
`;

async function fixtureDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bw-db-guard-" });
  await Deno.mkdir(`${dir}/postgres/3.4.9/src`, { recursive: true });
  await Deno.writeTextFile(`${dir}/postgres/3.4.9/src/connection.js`, FIXTURE);
  return dir;
}

Deno.test("isClosedSocketWrite() recognizes postgres.js's nextWrite on a closed socket, and nothing else", async () => {
  const dir = await fixtureDir();
  try {
    const thrown = async (name: string) => {
      const { writeAfterClose } = await import(`${dir}/postgres/3.4.9/src/connection.js`);
      return await new Promise<unknown>((resolve) => {
        const onError = (e: ErrorEvent) => {
          e.preventDefault();
          globalThis.removeEventListener("error", onError);
          resolve(e.error);
        };
        globalThis.addEventListener("error", onError);
        writeAfterClose(name);
      });
    };
    assert.equal(isClosedSocketWrite(await thrown("nextWrite")), true);
    // The same message from another function of the file, or from anywhere else.
    assert.equal(isClosedSocketWrite(await thrown("other")), false);
    let elsewhere: unknown;
    try {
      (null as unknown as { write(): void }).write();
    } catch (e) {
      elsewhere = e;
    }
    assert.match((elsewhere as Error).message, /reading 'write'/);
    assert.equal(isClosedSocketWrite(elsewhere), false);
    assert.equal(
      isClosedSocketWrite(new Error("Cannot read properties of null (reading 'write')")),
      false,
    );
    assert.equal(isClosedSocketWrite(undefined), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Runs `body` as a script on this (the edge runtime's) Deno with the functions' import map,
 * after a prelude: `db` and the guard imported, `writeAfterClose` from the fixture, and a
 * server that accepts connections and never answers (`held` counts them), as a connection
 * that a restart has just cut never answers. Its last stdout line is parsed as JSON.
 */
async function runDriver(dir: string, body: string, env: Record<string, string> = {}) {
  const root = new URL("../../..", import.meta.url).pathname;
  const db = new URL("./db.ts", import.meta.url).href;
  const driver = `
import { db } from ${JSON.stringify(db)};
import { writeAfterClose } from ${JSON.stringify(`${dir}/postgres/3.4.9/src/connection.js`)};
const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const held = [];
(async () => { for await (const c of silent) held.push(c); })();
Deno.env.set("SUPABASE_DB_URL", \`postgres://u:p@127.0.0.1:\${silent.addr.port}/postgres\`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const settle = (q) => q.then(() => "answered", (e) => e.code ?? e.message);
${body}
for (const c of held) c.close();
silent.close();
Deno.exit(0);
`;
  await Deno.writeTextFile(`${dir}/driver.ts`, driver);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-lock",
      `--import-map=${root}supabase/functions/import_map.json`,
      "-A",
      `${dir}/driver.ts`,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const last = stdout.trim().split("\n").at(-1);
  return {
    code: out.code,
    result: last ? JSON.parse(last) : undefined,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

// A query left pending on the closed socket, the write's TypeError thrown from its timer.
const closedSocketWrite = (name: string) => `
const sql = db();
const pool = sql.options;
const pending = settle(sql\`select 1\`);
await sleep(200);
const before = held.length;
writeAfterClose(${JSON.stringify(name)});
const outcome = await Promise.race([pending, sleep(6000).then(() => "still pending")]);
// The same handle, as a handler holds it: its next query opens a connection of a new pool.
sql\`select 2\`.catch(() => {});
await sleep(300);
console.log(JSON.stringify({ outcome, before, after: held.length, replaced: sql.options !== pool }));
`;

Deno.test("the guard keeps the isolate alive, fails the pool's pending query as retryable, and the handlers' client goes on through a new pool", async () => {
  const dir = await fixtureDir();
  try {
    const run = await runDriver(dir, closedSocketWrite("nextWrite"));
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.result, {
      outcome: "CONNECTION_DESTROYED",
      before: 1,
      after: 2,
      replaced: true,
    });
    assert.match(run.stderr, /postgres\.js #1154\); the next query opens a new pool/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("any other uncaught error still ends the isolate", async () => {
  const dir = await fixtureDir();
  try {
    const run = await runDriver(dir, closedSocketWrite("other"));
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /Uncaught TypeError: Cannot read properties of null \(reading 'write'\)/,
    );
    assert.equal(run.result, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a query that times out connecting replaces the pool; another connection error does not", async () => {
  const dir = await fixtureDir();
  try {
    const run = await runDriver(
      dir,
      `
const sql = db();
const first = sql.options;
const timedOut = await settle(sql\`select 1\`);
await sleep(50);
// The next pool opens on port 1, where nothing listens: refused at once, which says nothing
// about the pool.
Deno.env.set("SUPABASE_DB_URL", "postgres://u:p@127.0.0.1:1/postgres");
const second = sql.options;
const pool = second;
const refused = await settle(sql\`select 1\`);
await sleep(50);
console.log(JSON.stringify({ timedOut, replaced: second !== first, refused, kept: sql.options === pool }));
`,
      { BENCHWATCH_DB_CONNECT_TIMEOUT: "1" },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.result, {
      timedOut: "CONNECT_TIMEOUT",
      replaced: true,
      refused: "ECONNREFUSED",
      kept: true,
    });
    assert.match(run.stderr, /a connection timed out; the next query opens a new pool/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connectTimeout() is 10 s by default and refuses a value outside 1 to 60", () => {
  assert.equal(connectTimeout(undefined), 10);
  assert.equal(connectTimeout("3"), 3);
  for (const bad of ["0", "61", "1.5", "soon"]) {
    assert.throws(
      () => connectTimeout(bad),
      /Set BENCHWATCH_DB_CONNECT_TIMEOUT to a whole number from 1 to 60/,
    );
  }
});

Deno.test("reconnectDelay() grows from 0.1 s and never waits more than 2 s", () => {
  const top = () => 1 - Number.EPSILON;
  const bottom = () => 0;
  assert.ok(Math.abs(reconnectDelay(1, top) - 0.1) < 1e-9);
  assert.equal(reconnectDelay(1, bottom), 0.05);
  for (let n = 1; n < 5; n++) assert.ok(reconnectDelay(n + 1, top) > reconnectDelay(n, top));
  for (const n of [6, 7, 10, 50, 1000]) {
    assert.ok(reconnectDelay(n, top) <= 2);
    assert.ok(reconnectDelay(n, bottom) >= 1);
  }
});
