// Every function against every kind of caller: no credential, the legacy anon and service
// role keys, the new publishable and secret keys (as supabase-js sends them, and in apikey
// alone), another project's secret key, a user JWT, a valid and a revoked ingest token; and
// for notify-slack, a forged signature, a stale timestamp and a replayed webhook-id.

import assert from "node:assert/strict";
import { signWebhook } from "../_shared/webhook.ts";
import { functionsUrl, stackEnv } from "./env.ts";
import { call, closeDb, type Credential, db, guideRun, uniq, userJwt } from "./helpers.ts";

async function credentials(): Promise<Record<string, Credential>> {
  const [valid] = await db()`select benchwatch_private.create_ingest_token('matrix valid') as t`;
  const [revoked] =
    await db()`select benchwatch_private.create_ingest_token('matrix revoked') as t`;
  await db()`select benchwatch_private.revoke_ingest_token(${revoked.t.id}::uuid)`;
  return {
    none: "none",
    anon: "anon",
    publishable: "publishable",
    publishable_apikey: { apikey: stackEnv("SUPABASE_PUBLISHABLE_KEY") },
    authenticated: { bearer: await userJwt() },
    service_role: "service_role",
    secret: "secret",
    secret_apikey: { apikey: stackEnv("SUPABASE_SECRET_KEY") },
    foreign_secret: { apikey: "sb_secret_AAAAAAAAAAAAAAAAAAAAAA_notours0" },
    token: { bearer: valid.t.token },
    revoked_token: { bearer: revoked.t.token },
  };
}

Deno.test("auth matrix: ingest, benchmarks, regressions", async () => {
  const creds = await credentials();
  const model = uniq("matrix");
  const seeded = await call("ingest", { body: guideRun(model) });
  // Every function checks keys itself (verify_jwt = false): a user JWT cannot be verified
  // there, so it reads nothing; a read-only key (anon, publishable) writes nothing.
  const reads = {
    none: 401,
    anon: 200,
    publishable: 200,
    publishable_apikey: 200,
    authenticated: 401,
    service_role: 200,
    secret: 200,
    secret_apikey: 200,
    foreign_secret: 401,
    token: 401,
    revoked_token: 401,
  };
  const expected: Record<string, Record<string, number>> = {
    "POST ingest": {
      none: 401,
      anon: 403,
      publishable: 403,
      publishable_apikey: 403,
      authenticated: 403,
      service_role: 201,
      secret: 201,
      secret_apikey: 201,
      foreign_secret: 401,
      token: 201,
      revoked_token: 401,
    },
    "GET health": reads,
    "GET benchmarks": reads,
    "GET regressions": reads,
    "POST regressions": {
      ...reads,
      anon: 403,
      publishable: 403,
      publishable_apikey: 403,
    },
  };
  const got: Record<string, Record<string, number>> = {};
  for (const [target, row] of Object.entries(expected)) {
    got[target] = {};
    for (const who of Object.keys(row)) {
      const [method, fn] = target.split(" ");
      const body = fn === "ingest"
        ? guideRun(model, { run_id: `${who}-${crypto.randomUUID()}` })
        : method === "POST"
        ? { action: "pin", transaction_id: seeded.body.transaction_id }
        : undefined;
      const res = await call(fn, { method, as: creds[who], body });
      got[target][who] = res.status;
    }
  }
  assert.deepEqual(got, expected);
  await closeDb();
});

Deno.test("auth matrix: notify-slack takes only requests the database signed", async () => {
  const [{ secret }] =
    await db()`select benchwatch_private.webhook_config() ->> 'secret' as secret`;
  assert.ok(secret, "the stack configured the webhook secret in vault");
  const body = JSON.stringify({
    type: "SWEEP",
    table: "regression_alerts",
    schema: "public",
    record: null,
    old_record: null,
  });
  const post = async (headers: Record<string, string>, as: Credential = "none") => {
    const res = await call("notify-slack", {
      as,
      rawBody: body,
      headers: { "content-type": "application/json", ...headers },
    });
    return res;
  };
  const now = Math.floor(Date.now() / 1000);
  const signed = async (id: string, ts: number, key = secret) => ({
    "webhook-id": id,
    "webhook-timestamp": String(ts),
    "webhook-signature": await signWebhook({ id, timestamp: ts, body, secret: key }),
  });

  for (const who of ["none", "anon", "service_role", "publishable", "secret"] as const) {
    const res = await post({}, who);
    assert.equal(res.status, 401, `${who} without a signature`);
  }
  const forged = await post(
    await signed(crypto.randomUUID(), now, "whsec_" + btoa("not the secret, not the secret!!")),
  );
  assert.equal(forged.status, 401);
  assert.equal(forged.body.details.reason, "bad_signature");
  const stale = await post(await signed(crypto.randomUUID(), now - 301));
  assert.equal(stale.status, 401);
  assert.equal(stale.body.details.reason, "stale_timestamp");

  const id = crypto.randomUUID();
  const first = await post(await signed(id, now));
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.duplicate, undefined);
  const replay = await post(await signed(id, now));
  assert.equal(replay.status, 200);
  assert.equal(replay.body.duplicate, true, "a replayed webhook-id is acknowledged and ignored");

  const res = await fetch(`${functionsUrl()}/notify-slack`, { method: "GET" });
  assert.equal(res.status, 405);
  await res.body?.cancel();
  await closeDb();
});
