// ingest's handler called directly, Request in and Response out, with the real database.

import assert from "node:assert/strict";
import postgres from "postgres";
import { createIngestHandler } from "./handler.ts";

function env(name: string): string {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`Set ${name}: run through \`npm test\``);
  return v;
}

function handler(sql: postgres.Sql) {
  return createIngestHandler({
    sql,
    serviceRoleKey: env("SUPABASE_SERVICE_ROLE_KEY"),
    anonKey: env("SUPABASE_ANON_KEY"),
  });
}

function post(body: string, headers: Record<string, string> = {}): Request {
  return new Request("http://local/ingest", {
    method: "POST",
    headers: {
      authorization: `Bearer ${env("SUPABASE_SERVICE_ROLE_KEY")}`,
      "content-type": "application/json",
      ...headers,
    },
    body,
  });
}

const run = (model: string) =>
  JSON.stringify({
    model_version: model,
    dataset_version: "d",
    prompt_version: "p",
    model_provider: "openai",
    commit_sha: "c1",
    metrics: { f1: 0.9 },
  });

Deno.test("ingest() records a run and answers 201 with its transaction id", async () => {
  const sql = postgres(env("SUPABASE_DB_URL"), { max: 1, onnotice: () => {} });
  try {
    const model = `direct-${crypto.randomUUID()}`;
    const res = await handler(sql)(post(run(model)));
    assert.equal(res.status, 201);
    const body = await res.json();
    const [row] =
      await sql`select model_version from public.benchmark_transactions where id = ${body.transaction_id}`;
    assert.equal(row.model_version, model);
  } finally {
    await sql.end();
  }
});

Deno.test("ingest() answers 405 to GET, 401 without a key and 403 to the anon key", async () => {
  const sql = postgres(env("SUPABASE_DB_URL"), { max: 1 });
  try {
    const h = handler(sql);
    assert.equal((await h(new Request("http://local/ingest"))).status, 405);
    assert.equal((await h(post(run("x"), { authorization: "" }))).status, 401);
    const anon = await h(post(run("x"), { authorization: `Bearer ${env("SUPABASE_ANON_KEY")}` }));
    assert.equal(anon.status, 403);
    assert.match((await anon.json()).message, /read-only/);
  } finally {
    await sql.end();
  }
});

Deno.test("ingest() rejects a NaN metric, a wrong content type, a big body and a bad key", async () => {
  const sql = postgres(env("SUPABASE_DB_URL"), { max: 1 });
  try {
    const h = handler(sql);
    const nan = await h(post(run("x").replace("0.9", "NaN")));
    assert.equal(nan.status, 400);
    assert.equal((await nan.json()).error, "invalid_json");
    assert.equal((await h(post(run("x"), { "content-type": "text/csv" }))).status, 415);
    assert.equal((await h(post(" ".repeat(1024 * 1024 + 1)))).status, 413);
    assert.equal((await h(post(run("x"), { "idempotency-key": "has space" }))).status, 400);
  } finally {
    await sql.end();
  }
});
