// The one Postgres client a function process uses, over SUPABASE_DB_URL.
//
// Sized for hosted Supabase, where every Edge Function isolate opens its own pool and many
// isolates run at once: connections go through Supavisor's transaction pooler (port 6543),
// which has no prepared statements (hence `prepare: false`), and each isolate keeps a small
// pool, opened lazily: 3 connections, as Supabase's own postgres-on-the-edge example does
// (its agent-skills go as low as 1 per serverless instance). Every request is one call to an
// SQL function, so a connection is held for one statement and no logic is split across round
// trips. BENCHWATCH_DB_POOL and BENCHWATCH_DB_CONNECT_TIMEOUT (function secrets) change the
// size and the connect timeout.
//
// The pool is replaced, never repaired, when postgres.js 3.4.9 leaves a connection broken
// (below); the handlers hold one client for their whole life (`db()`), which always reaches
// the current pool.

import postgres from "postgres";

export type Sql = postgres.Sql;

export const DEFAULT_POOL_SIZE = 3;
export const DEFAULT_CONNECT_TIMEOUT = 10;
/** Seconds a replaced pool's queries in flight get to finish before they are failed. */
const DRAIN_SECONDS = 2;

let client: Sql | undefined;
let guarded = false;
let handle: Sql | undefined;

/** A whole number from `min` to `max` from the env var `name`, else `fallback`. */
function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
) {
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`Set ${name} to a whole number from ${min} to ${max}: got "${raw}"`);
  }
  return n;
}

/** The pool size from BENCHWATCH_DB_POOL, else the default; a bad value is an error. */
export function poolSize(raw: string | undefined): number {
  return wholeNumber("BENCHWATCH_DB_POOL", raw, DEFAULT_POOL_SIZE, 1, 20);
}

/** Seconds to wait for a connection, from BENCHWATCH_DB_CONNECT_TIMEOUT, else 10. */
export function connectTimeout(raw: string | undefined): number {
  return wholeNumber("BENCHWATCH_DB_CONNECT_TIMEOUT", raw, DEFAULT_CONNECT_TIMEOUT, 1, 60);
}

/**
 * Seconds before a connection of the pool tries again after its connection failed, the
 * n-th failure in a row (postgres.js counts them per pool, and resets on a connect):
 * 0.1, 0.2, 0.4, 0.8, 1.6, then 2 s at most, each with jitter (half to all of it).
 * postgres.js's own default grows as 3^n / 100 up to 20 s: a database restart of 2 s under
 * load failed enough connects to reach 7-20 s, and ingest stayed down up to 14 s after the
 * database was back (`npm run test:hardening -- --only db-restart`). Hosted Supabase
 * restarts the database for upgrades and settings changes, and its pooler takes reconnects
 * from every isolate's few connections.
 */
export function reconnectDelay(failures: number, random: () => number = Math.random): number {
  return (0.5 + random() / 2) * Math.min(0.05 * 2 ** failures, 2);
}

/**
 * Replaces the pool `stale` (if it is still the current one): new queries go to a new pool at
 * once, the old one's queries in flight get DRAIN_SECONDS to finish, and the rest fail with
 * CONNECTION_DESTROYED, answered 503 with Retry-After (the CLI retries under the same
 * Idempotency-Key, so nothing is recorded twice).
 */
function replacePool(stale: Sql, why: string): void {
  if (client !== stale) return;
  client = undefined;
  stale.end({ timeout: DRAIN_SECONDS }).catch(() => {});
  console.error(`database: ${why}; the next query opens a new pool`);
}

/**
 * postgres.js 3.4.9 can write to a socket that a restart or a reset has just closed: a write
 * queued with setImmediate runs after the connection's close handler has set its socket to
 * null, and throws `Cannot read properties of null (reading 'write')` from the timer, where
 * no caller can catch it (porsager/postgres#1154 and #1066; the fix, #1168, is not
 * released). Uncaught, it ends the whole isolate: every request in flight on it fails and
 * the next ones wait for a new worker. The guard keeps the isolate and replaces the pool,
 * which also fails a query queued on the closed socket, one that would otherwise never
 * settle. Only that error, thrown from postgres.js's nextWrite, is stopped; anything else
 * still ends the isolate as before.
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
    if (!isClosedSocketWrite(event.error) || !client) return;
    event.preventDefault();
    replacePool(client, "a connection closed under a pending write (postgres.js #1154)");
  });
}

/** The current pool, opened on first use (and again after one was replaced). */
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
      connect_timeout: connectTimeout(Deno.env.get("BENCHWATCH_DB_CONNECT_TIMEOUT")),
      backoff: (failures: number) => reconnectDelay(failures),
      onnotice: () => {},
      connection: { application_name: "benchwatch-functions" },
    });
  }
  return client;
}

/**
 * The client the functions hold for their whole life (each index.ts passes it to its handler
 * once): every query and helper goes to the current pool. A query that times out connecting
 * replaces the pool: postgres.js 3.4.9's close handler cancels a pending small write without
 * forgetting it, after which that connection never sends a small write again, its startup
 * packet included, so it times out on every connect for the life of the pool (the 10 s
 * stalls of the db-restart case, tools/hardening/reliability-notes.md).
 */
export function db(): Sql {
  handle ??= new Proxy(function () {} as unknown as Sql, {
    apply: (_target, _this, args) => {
      const current = pool();
      const query = Reflect.apply(
        current as unknown as (...a: unknown[]) => Promise<unknown>,
        undefined,
        args,
      );
      query.then(undefined, (e: { code?: string } | undefined) => {
        if (e?.code === "CONNECT_TIMEOUT") replacePool(current, "a connection timed out");
      });
      return query;
    },
    get: (_target, prop) => {
      const current = pool();
      const value = Reflect.get(current, prop, current);
      return typeof value === "function" ? value.bind(current) : value;
    },
  });
  return handle;
}
