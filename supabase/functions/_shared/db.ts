// The one Postgres client a function process uses, over SUPABASE_DB_URL.
//
// Sized for hosted Supabase, where every Edge Function isolate opens its own pool and many
// isolates run at once: connections go through Supavisor's transaction pooler (port 6543),
// which has no prepared statements (hence `prepare: false`), and each isolate keeps a small
// pool, opened lazily: 3 connections, as Supabase's own postgres-on-the-edge example does
// (its agent-skills go as low as 1 per serverless instance). Every request is one call to an
// SQL function, so a connection is held for one statement and no logic is split across round
// trips. BENCHWATCH_DB_POOL (a function secret) changes the size.

import postgres from "postgres";

export type Sql = postgres.Sql;

export const DEFAULT_POOL_SIZE = 3;

let client: Sql | undefined;
let guarded = false;

/**
 * postgres.js 3.4.9 can write to a socket that a restart or a reset has just closed: a write
 * queued with setImmediate runs after the connection's close handler has set its socket to
 * null, and throws `Cannot read properties of null (reading 'write')` from the timer, where
 * no caller can catch it (porsager/postgres#1154 and #1066; the fix, #1168, is not
 * released). Uncaught, it ends the whole isolate: every request in flight on it fails and
 * the next ones wait for a new worker. Instead, the guard keeps the isolate and drops the
 * pool: the pool's pending queries fail with CONNECTION_DESTROYED (answered 503 with
 * Retry-After; the CLI retries under the same Idempotency-Key, so nothing is recorded twice),
 * including one that was queued on the closed socket and would otherwise never settle, and
 * the next request opens a fresh pool. Only that error, thrown from postgres.js's nextWrite,
 * is stopped; anything else still ends the isolate as before.
 */
export function isClosedSocketWrite(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  if (!/^Cannot read properties of null \(reading 'write'\)$/.test(error.message)) return false;
  const frames = String(error.stack ?? "").split("\n").slice(1);
  // The frame names the package's file wherever it was installed: node_modules/postgres/,
  // Deno's cache (npm/registry.npmjs.org/postgres/3.4.9/) or an eszip bundle.
  return /\bnextWrite\b.*\/postgres\/(?:[^/]+\/)?src\/connection\.js:/.test(frames[0] ?? "");
}

/** Installs the guard above once per isolate (edge runtime and Deno: the global "error"
 * event, which an uncaught exception from a timer dispatches first; preventDefault keeps
 * the isolate running). */
export function guardClosedSocketWrites(): void {
  if (guarded) return;
  guarded = true;
  globalThis.addEventListener("error", (event) => {
    if (!isClosedSocketWrite(event.error)) return;
    event.preventDefault();
    const old = client;
    client = undefined;
    old?.end({ timeout: 0 }).catch(() => {});
    console.error(
      "database: a connection closed under a pending write (postgres.js #1154); the pool's " +
        "queries were failed as retryable and the next request opens a new pool",
    );
  });
}

/** The pool size from BENCHWATCH_DB_POOL, else the default; a bad value is an error. */
export function poolSize(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_POOL_SIZE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 20) {
    throw new Error(`Set BENCHWATCH_DB_POOL to a whole number from 1 to 20: got "${raw}"`);
  }
  return n;
}

/**
 * Seconds before a connection of the pool tries again after its connection failed, the
 * n-th failure in a row (postgres.js counts them per pool, and resets on a connect):
 * 0.1, 0.2, 0.4, 0.8, 1.6, then 2 s at most, each with jitter (half to all of it).
 * postgres.js's own default grows as 3^n / 100 up to 20 s: a database restart of 2 s under
 * load failed enough connects to reach 7-20 s, and ingest stayed down 15-18 s after the
 * database was back (`npm run test:hardening -- --only db-restart`). Hosted Supabase
 * restarts the database for upgrades and settings changes, and its pooler takes reconnects
 * from every isolate's few connections.
 */
export function reconnectDelay(failures: number, random: () => number = Math.random): number {
  return (0.5 + random() / 2) * Math.min(0.05 * 2 ** failures, 2);
}

/** The current pool, opened on first use (and again after the guard above dropped one). */
function pool(): Sql {
  if (!client) {
    const url = Deno.env.get("SUPABASE_DB_URL");
    if (!url) {
      throw new Error("Set SUPABASE_DB_URL: hosted Supabase sets it for every Edge Function");
    }
    guardClosedSocketWrites();
    client = postgres(url, {
      prepare: false,
      max: poolSize(Deno.env.get("BENCHWATCH_DB_POOL")),
      idle_timeout: 20,
      connect_timeout: 10,
      backoff: (failures: number) => reconnectDelay(failures),
      onnotice: () => {},
      connection: { application_name: "benchwatch-functions" },
    });
  }
  return client;
}

let handle: Sql | undefined;

/**
 * The client the functions hold for their whole life (each index.ts passes it to its handler
 * once). Every query and helper goes to the current pool, so when the guard drops a pool the
 * next request is served by a new one, with no handler holding on to the old.
 */
export function db(): Sql {
  handle ??= new Proxy(function () {} as unknown as Sql, {
    apply: (_target, _this, args) =>
      Reflect.apply(pool() as unknown as (...a: unknown[]) => unknown, undefined, args),
    get: (_target, prop) => {
      const current = pool();
      const value = Reflect.get(current, prop, current);
      return typeof value === "function" ? value.bind(current) : value;
    },
  });
  return handle;
}
