// The one Postgres client a function process uses, over SUPABASE_DB_URL.
//
// `prepare: false` keeps it usable through Supabase's transaction pooler (port 6543),
// which hosted projects should use from Edge Functions. Every request is one call to an
// SQL function, so no logic is split across round trips.

import postgres from "postgres";

export type Sql = postgres.Sql;

let client: Sql | undefined;

export function db(): Sql {
  if (!client) {
    const url = Deno.env.get("SUPABASE_DB_URL");
    if (!url) {
      throw new Error("Set SUPABASE_DB_URL: hosted Supabase sets it for every Edge Function");
    }
    client = postgres(url, {
      prepare: false,
      max: Number(Deno.env.get("BENCHWATCH_DB_POOL") ?? 10),
      idle_timeout: 20,
      connect_timeout: 10,
      onnotice: () => {},
      connection: { application_name: "benchwatch-functions" },
    });
  }
  return client;
}
