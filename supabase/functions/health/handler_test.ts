import assert from "node:assert/strict";
import postgres from "postgres";
import { createHealthHandler } from "./handler.ts";

const dbUrl = () => {
  const v = Deno.env.get("SUPABASE_DB_URL");
  if (!v) throw new Error("Set SUPABASE_DB_URL: run through `npm test`");
  return v;
};

Deno.test("health() answers 200 with the schema state from the real database", async () => {
  const sql = postgres(dbUrl(), { max: 1, onnotice: () => {} });
  try {
    const res = await createHealthHandler({ sql })(new Request("http://x/health"));
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
    const res = await createHealthHandler({ sql })(
      new Request("http://x/health", { method: "POST" }),
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
    const res = await createHealthHandler({ sql })(new Request("http://x/health"));
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.error, "database_unreachable");
    assert.match(body.message, /SUPABASE_DB_URL/);
  } finally {
    await sql.end();
  }
});
