import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { fromBase64, toBase64 } from "./crypto.ts";
import { generateWebhookSecret, signWebhook, verifyWebhook } from "./webhook.ts";

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const timestamp = 1614265330;
const body = '{"test": 2432232314}';
const at = (seconds: number) => () => seconds * 1000;

const headersFor = (signature: string, ts = timestamp): Headers =>
  new Headers({
    "webhook-id": id,
    "webhook-timestamp": String(ts),
    "webhook-signature": signature,
  });

Deno.test("signWebhook() reproduces the Standard Webhooks reference vector", async () => {
  assert.equal(
    await signWebhook({ id, timestamp, body, secret }),
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  );
});

Deno.test("signWebhook() equals HMAC-SHA256 over id.timestamp.body keyed by the decoded secret", async () => {
  const key = fromBase64("c2VjcmV0LWtleS1ieXRlcy1mb3ItYmVuY2h3YXRjaCE=");
  const payload = JSON.stringify({ type: "INSERT", record: { id: "a1b2", note: "ünïcødé ✓" } });
  const expected = createHmac("sha256", key)
    .update(Buffer.from(`wh_1.1700000000.${payload}`, "utf8"))
    .digest("base64");
  const signature = await signWebhook({
    id: "wh_1",
    timestamp: 1700000000,
    body: payload,
    secret: toBase64(key),
  });
  assert.equal(signature, `v1,${expected}`);
  // The same inputs signed by pgcrypto 1.3 on PostgreSQL 15, as the database trigger does.
  assert.equal(signature, "v1,ObYrNwBWotLkVxOoQ4h7wXFgjtFQ7ORXMlzJyrcIAUw=");
  assert.equal(
    await signWebhook({
      id: "wh_1",
      timestamp: 1700000000,
      body: payload,
      secret: `whsec_${toBase64(key)}`,
    }),
    signature,
  );
});

Deno.test("signWebhook() rejects a secret that is not base64", async () => {
  await assert.rejects(
    signWebhook({ id, timestamp, body, secret: "whsec_not base64!" }),
    /whsec_<base64>/,
  );
  await assert.rejects(signWebhook({ id, timestamp, body, secret: "whsec_" }), /empty/);
});

Deno.test("verifyWebhook() accepts a valid signature inside the window", async () => {
  const signature = await signWebhook({ id, timestamp, body, secret });
  assert.deepEqual(
    await verifyWebhook(headersFor(signature), body, { secret, now: at(timestamp + 299) }),
    { ok: true, id, timestamp },
  );
});

Deno.test("verifyWebhook() accepts any matching entry of a space-delimited signature list", async () => {
  const signature = await signWebhook({ id, timestamp, body, secret });
  const list = `v1,Zm9vYmFyYmF6 v1a,ignored ${signature}`;
  const result = await verifyWebhook(headersFor(list), body, { secret, now: at(timestamp) });
  assert.ok(result.ok);
});

Deno.test("verifyWebhook() rejects a forged or tampered signature with bad_signature", async () => {
  const signature = await signWebhook({ id, timestamp, body, secret });
  const other = generateWebhookSecret();
  const cases: [Headers, string][] = [
    [headersFor(await signWebhook({ id, timestamp, body, secret: other })), body],
    [headersFor(signature), body + " "],
    [headersFor(signature.replace("v1,", "v2,")), body],
    [headersFor(signature.slice(3)), body],
    [
      new Headers({ ...Object.fromEntries(headersFor(signature)), "webhook-id": "msg_other" }),
      body,
    ],
  ];
  for (const [headers, payload] of cases) {
    assert.deepEqual(
      await verifyWebhook(headers, payload, { secret, now: at(timestamp) }),
      { ok: false, reason: "bad_signature" },
    );
  }
});

Deno.test("verifyWebhook() rejects timestamps outside the tolerance in either direction", async () => {
  const signature = await signWebhook({ id, timestamp, body, secret });
  for (const now of [timestamp + 301, timestamp - 301]) {
    assert.deepEqual(
      await verifyWebhook(headersFor(signature), body, { secret, now: at(now) }),
      { ok: false, reason: "stale_timestamp" },
    );
  }
  const narrow = await verifyWebhook(headersFor(signature), body, {
    secret,
    now: at(timestamp + 11),
    toleranceSeconds: 10,
  });
  assert.deepEqual(narrow, { ok: false, reason: "stale_timestamp" });
});

Deno.test("verifyWebhook() reports missing or malformed headers", async () => {
  const signature = await signWebhook({ id, timestamp, body, secret });
  const full = Object.fromEntries(headersFor(signature));
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const { [name]: _, ...rest } = full;
    assert.deepEqual(
      await verifyWebhook(new Headers(rest), body, { secret, now: at(timestamp) }),
      { ok: false, reason: "missing_headers" },
      name,
    );
  }
  for (const ts of ["1614265330.5", "-1", "soon", ""]) {
    const headers = new Headers({ ...full, "webhook-timestamp": ts });
    const result = await verifyWebhook(headers, body, { secret, now: at(timestamp) });
    assert.deepEqual(result, { ok: false, reason: "missing_headers" }, ts);
  }
});

Deno.test("generateWebhookSecret() returns whsec_ and 32 random bytes in base64", () => {
  const generated = generateWebhookSecret();
  assert.match(generated, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(fromBase64(generated.slice(6)).length, 32);
  assert.notEqual(generateWebhookSecret(), generated);
});
