// The pg_net stand-in delivers what pg_net would: a net.http_post made in a transaction
// that commits reaches the receiver with method, headers and body intact and its status
// lands in net._http_response; one made in a transaction that rolls back is never sent.

import assert from "node:assert/strict";
import postgres from "postgres";
import { eventually, stackEnv } from "./env.ts";

interface Received {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

Deno.test("relay: a committed net.http_post is delivered intact, a rolled-back one never", async () => {
  const received: Received[] = [];
  const receiver = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (req) => {
      received.push({
        method: req.method,
        path: new URL(req.url).pathname,
        headers: req.headers,
        body: await req.text(),
      });
      return new Response("received", { status: 202, headers: { "content-type": "text/plain" } });
    },
  );
  const base = `http://127.0.0.1:${receiver.addr.port}`;
  const sql = postgres(stackEnv("SUPABASE_DB_URL"), { max: 2, onnotice: () => {} });
  try {
    const rolledBack = await sql.begin(async (tx) => {
      const [r] = await tx`select net.http_post(${base + "/rolled-back"}, '{"n": 0}'::jsonb) as id`;
      await tx`select pg_notify('net_http_request_queue', '')`;
      throw Object.assign(new Error("rollback on purpose"), { id: r.id });
    }).catch((e) => e.id as string);
    assert.ok(rolledBack, "the rolled-back transaction queued a request id");

    const [{ id }] = await sql.begin((tx) =>
      tx`select net.http_post(
           url := ${base + "/committed"},
           body := '{"run": "r-1", "metrics": {"f1": 0.895}}'::jsonb,
           params := '{"source": "relay test"}'::jsonb,
           headers := '{"Content-Type": "application/json", "X-Custom": "kept-as-is"}'::jsonb,
           timeout_milliseconds := 2000
         ) as id`
    );

    const got = await eventually(
      "the committed request",
      () => received.find((r) => r.path === "/committed"),
    );
    assert.equal(got.method, "POST");
    assert.equal(got.headers.get("x-custom"), "kept-as-is");
    assert.equal(got.headers.get("content-type"), "application/json");
    assert.deepEqual(JSON.parse(got.body), { run: "r-1", metrics: { f1: 0.895 } });

    const response = await eventually("the response row", async () => {
      const rows =
        await sql`select status_code, content, timed_out from net._http_response where id = ${id}`;
      return rows[0];
    });
    assert.equal(response.status_code, 202);
    assert.equal(response.content, "received");
    assert.equal(response.timed_out, false);

    // The relay sends in id order, so once the later request has arrived the rolled-back
    // one would have arrived too, had it been sent.
    assert.equal(received.filter((r) => r.path === "/rolled-back").length, 0);
    const [{ n }] =
      await sql`select count(*)::int as n from net._http_response where id = ${rolledBack}`;
    assert.equal(n, 0, "no response is recorded for the rolled-back request");
  } finally {
    await sql.end();
    await receiver.shutdown();
  }
});

Deno.test("relay: an unreachable receiver is recorded as an error, not retried", async () => {
  const sql = postgres(stackEnv("SUPABASE_DB_URL"), { max: 1, onnotice: () => {} });
  try {
    const [{ id }] =
      await sql`select net.http_post('http://127.0.0.1:9/closed', '{}'::jsonb) as id`;
    const row = await eventually("the error row", async () => {
      const rows =
        await sql`select status_code, error_msg from net._http_response where id = ${id}`;
      return rows[0];
    });
    assert.equal(row.status_code, null);
    assert.ok(row.error_msg, "the failure reason is recorded");
    const [{ n }] =
      await sql`select count(*)::int as n from net.http_request_queue where id = ${id}`;
    assert.equal(n, 0, "the request left the queue");
  } finally {
    await sql.end();
  }
});
