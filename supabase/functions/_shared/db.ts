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

/** The pool size from BENCHWATCH_DB_POOL, else the default; a bad value is an error. */
export function poolSize(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_POOL_SIZE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 20) {
    throw new Error(`Set BENCHWATCH_DB_POOL to a whole number from 1 to 20: got "${raw}"`);
  }
  return n;
}

export function db(): Sql {
  if (!client) {
    const url = Deno.env.get("SUPABASE_DB_URL");
    if (!url) {
      throw new Error("Set SUPABASE_DB_URL: hosted Supabase sets it for every Edge Function");
    }
    client = postgres(url, {
      prepare: false,
      max: poolSize(Deno.env.get("BENCHWATCH_DB_POOL")),
      idle_timeout: 20,
      connect_timeout: 10,
      onnotice: () => {},
      connection: { application_name: "benchwatch-functions" },
    });
  }
  return client;
}
