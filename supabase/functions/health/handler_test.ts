import assert from "node:assert/strict";
import postgres from "postgres";
import { createHealthHandler } from "./handler.ts";

// Keys of both kinds, shaped like a hosted project's; the handler compares them exactly.
const keys = {
  serviceRoleKey: "service-role-jwt",
  anonKey: "anon-jwt",
  secretKeys: ["sb_secret_health_test_key"],
  publishableKeys: ["sb_publishable_health_test_key"],
};
const withKey = { headers: { apikey: "sb_publishable_health_test_key" } };

const dbUrl = () => {
  const v = Deno.env.get("SUPABASE_DB_URL");
  if (!v) throw new Error("Set SUPABASE_DB_URL: run through `npm test`");
  return v;
};

Deno.test("health() answers 200 with the schema state from the real database", async () => {
  const sql = postgres(dbUrl(), { max: 1, onnotice: () => {} });
  try {
    const res = await createHealthHandler({ sql, ...keys })(
      new Request("http://x/health", withKey),
    );
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.database, "ok");
    const [row] = await sql`select to_regclass('public.benchmark_transactions') is not null as tx`;
    assert.equal(body.schema.benchmark_transactions, row.tx);
    assert.equal(body.status, row.tx ? "ok" : "degraded");
  } finally {
    await sql.end();
  }
});

Deno.test("health() answers 405 to a POST", async () => {
  const sql = postgres(dbUrl(), { max: 1 });
  try {
    const res = await createHealthHandler({ sql, ...keys })(
      new Request("http://x/health", { method: "POST", ...withKey }),
    );
    assert.equal(res.status, 405);
    assert.equal((await res.json()).error, "method_not_allowed");
  } finally {
    await sql.end();
  }
});

Deno.test("health() answers 503 with a problem body when the database is unreachable", async () => {
  const sql = postgres("postgresql://postgres:postgres@127.0.0.1:9/postgres", {
    max: 1,
    connect_timeout: 2,
  });
  try {
    const res = await createHealthHandler({ sql, ...keys })(
      new Request("http://x/health", withKey),
    );
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.error, "database_unreachable");
    assert.match(body.message, /SUPABASE_DB_URL/);
  } finally {
    await sql.end();
  }
});

Deno.test("health() answers 401 without one of the project's keys, before touching the database", async () => {
  const sql = postgres("postgresql://postgres:postgres@127.0.0.1:9/postgres", { max: 1 });
  const health = createHealthHandler({ sql, ...keys });
  try {
    for (
      const [headers, error] of [
        [{}, "missing_credentials"],
        [{ apikey: "sb_publishable_someone_elses" }, "invalid_key"],
        [{ authorization: "Bearer bw_an_ingest_token" }, "invalid_key"],
      ] as const
    ) {
      const res = await health(new Request("http://x/health", { headers }));
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal((await res.json()).error, error);
    }
    for (const key of ["anon-jwt", "service-role-jwt", "sb_secret_health_test_key"]) {
      const res = await health(new Request("http://x/health", { headers: { apikey: key } }));
      assert.equal(res.status, 503, `${key} gets past authentication to the database`);
      await res.body?.cancel();
    }
  } finally {
    await sql.end();
  }
});
