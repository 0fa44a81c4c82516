import assert from "node:assert/strict";
import { DEFAULT_POOL_SIZE, isClosedSocketWrite, poolSize, reconnectDelay } from "./db.ts";

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

/** Runs a driver script on this (the edge runtime's) Deno with the functions' import map. */
async function runDriver(dir: string, name: string) {
  const root = new URL("../../..", import.meta.url).pathname;
  const db = new URL("./db.ts", import.meta.url).href;
  // A server that accepts and never answers: the pool's query stays pending, as one does on
  // a connection that a restart has just cut.
  const driver = `
import { db, guardClosedSocketWrites } from ${JSON.stringify(db)};
import { writeAfterClose } from ${JSON.stringify(`${dir}/postgres/3.4.9/src/connection.js`)};
const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const held = [];
(async () => { for await (const c of silent) held.push(c); })();
Deno.env.set("SUPABASE_DB_URL", \`postgres://u:p@127.0.0.1:\${silent.addr.port}/postgres\`);
guardClosedSocketWrites();
const sql = db();
const pending = sql\`select 1\`.then(() => "answered", (e) => e.code ?? e.message);
await new Promise((r) => setTimeout(r, 200));
const before = held.length;
writeAfterClose(${JSON.stringify(name)});
const outcome = await Promise.race([pending, new Promise((r) => setTimeout(() => r("still pending"), 5000))]);
// The same handle, as a handler holds it: its next query opens a connection of a new pool.
sql\`select 2\`.catch(() => {});
await new Promise((r) => setTimeout(r, 300));
console.log(JSON.stringify({ outcome, before, after: held.length, same: db() === sql }));
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
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("the guard keeps the isolate alive, fails the pool's pending query as retryable, and the handlers' client goes on through a new pool", async () => {
  const dir = await fixtureDir();
  try {
    const run = await runDriver(dir, "nextWrite");
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim().split("\n").at(-1)!), {
      outcome: "CONNECTION_DESTROYED",
      before: 1,
      after: 2,
      same: true,
    });
    assert.match(run.stderr, /postgres\.js #1154/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("any other uncaught error still ends the isolate", async () => {
  const dir = await fixtureDir();
  try {
    const run = await runDriver(dir, "other");
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /Uncaught TypeError: Cannot read properties of null \(reading 'write'\)/,
    );
    assert.equal(run.stdout.trim(), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
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
