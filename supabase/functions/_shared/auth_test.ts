import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { SignJWT } from "jose";
import {
  classifyCaller,
  generateIngestToken,
  hashToken,
  parseKeyList,
  projectKeysFromEnv,
} from "./auth.ts";
import { fromBase64 } from "./crypto.ts";

const jwt = (role: string | undefined, secret = "some-other-project-secret-at-least-32-bytes") =>
  new SignJWT(role === undefined ? {} : { role })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(secret));

const keys = {
  serviceRoleKey: await jwt("service_role", "local"),
  anonKey: await jwt("anon", "local"),
};

const call = (headers: Record<string, string>) =>
  classifyCaller(new Request("http://x/ingest", { method: "POST", headers }), keys);

Deno.test("classifyCaller() recognises the service role key in Authorization or apikey", () => {
  assert.deepEqual(call({ authorization: `Bearer ${keys.serviceRoleKey}` }), {
    kind: "service_role",
  });
  assert.deepEqual(call({ authorization: `bearer  ${keys.serviceRoleKey} ` }), {
    kind: "service_role",
  });
  assert.deepEqual(call({ apikey: keys.serviceRoleKey }), { kind: "service_role" });
});

Deno.test("classifyCaller() recognises the anon key", () => {
  assert.deepEqual(call({ authorization: `Bearer ${keys.anonKey}` }), { kind: "anon" });
  assert.deepEqual(call({ apikey: keys.anonKey }), { kind: "anon" });
});

Deno.test("classifyCaller() lets Authorization win over apikey, as Supabase clients send both", () => {
  assert.deepEqual(
    call({ authorization: "Bearer bw_abc", apikey: keys.anonKey }),
    { kind: "token", token: "bw_abc" },
  );
  assert.deepEqual(
    call({ authorization: `Bearer ${keys.anonKey}`, apikey: keys.serviceRoleKey }),
    { kind: "anon" },
  );
});

Deno.test("classifyCaller() treats any other JWT with a role, even service_role, as unverified", async () => {
  for (const role of ["authenticated", "service_role"]) {
    assert.deepEqual(call({ authorization: `Bearer ${await jwt(role)}` }), {
      kind: "authenticated_jwt",
    });
  }
});

Deno.test("classifyCaller() returns ingest tokens and unknown strings as tokens", async () => {
  const token = generateIngestToken();
  assert.deepEqual(call({ authorization: `Bearer ${token}` }), { kind: "token", token });
  assert.deepEqual(call({ apikey: "not-a-key" }), { kind: "token", token: "not-a-key" });
  const roleless = await jwt(undefined);
  assert.deepEqual(call({ authorization: `Bearer ${roleless}` }), {
    kind: "token",
    token: roleless,
  });
});

Deno.test("classifyCaller() returns none without a usable credential", () => {
  assert.deepEqual(call({}), { kind: "none" });
  assert.deepEqual(call({ authorization: "" }), { kind: "none" });
  assert.deepEqual(call({ authorization: "Bearer " }), { kind: "none" });
  assert.deepEqual(call({ authorization: `Basic ${btoa("user:pass")}` }), { kind: "none" });
  assert.deepEqual(call({ apikey: "  " }), { kind: "none" });
});

Deno.test("classifyCaller() never matches an unset key", () => {
  const req = new Request("http://x", { headers: { apikey: "x" } });
  assert.deepEqual(classifyCaller(req, { serviceRoleKey: "", anonKey: "" }), {
    kind: "token",
    token: "x",
  });
});

Deno.test("hashToken() equals Postgres encode(digest(token, 'sha256'), 'hex')", async () => {
  // Computed by pgcrypto 1.3 on PostgreSQL 15: select encode(digest('bw_abc', 'sha256'), 'hex').
  assert.equal(
    await hashToken("bw_abc"),
    "dc9a3377f5e05f6c1e7bb157dc5bbb3e93a479812ecfcdcce70f60511c52da9d",
  );
  const token = generateIngestToken();
  assert.equal(await hashToken(token), createHash("sha256").update(token).digest("hex"));
});

Deno.test("generateIngestToken() returns bw_ and 32 random bytes in base64url", () => {
  const token = generateIngestToken();
  assert.match(token, /^bw_[A-Za-z0-9_-]{43}$/);
  assert.equal(fromBase64(token.slice(3), "base64url").length, 32);
  assert.notEqual(generateIngestToken(), token);
});

// New-style keys as the CLI shapes them (apps/cli-go/pkg/config/apikeys.go); throwaway.
const newKeys = {
  ...keys,
  secretKeys: [
    "sb_secret_AAAAAAAAAAAAAAAAAAAAAA_aaaaaaaa",
    "sb_secret_BBBBBBBBBBBBBBBBBBBBBB_bbbbbbbb",
  ],
  publishableKeys: ["sb_publishable_CCCCCCCCCCCCCCCCCCCCCC_cccccccc"],
};
const callNew = (headers: Record<string, string>) =>
  classifyCaller(new Request("http://x/ingest", { method: "POST", headers }), newKeys);

Deno.test("classifyCaller() takes any secret key as the service role, in apikey or Authorization", () => {
  for (const key of newKeys.secretKeys) {
    assert.deepEqual(callNew({ apikey: key }), { kind: "service_role" });
    assert.deepEqual(callNew({ authorization: `Bearer ${key}`, apikey: key }), {
      kind: "service_role",
    });
  }
  assert.deepEqual(callNew({ authorization: `Bearer ${keys.serviceRoleKey}` }), {
    kind: "service_role",
  });
});

Deno.test("classifyCaller() takes a publishable key as anon", () => {
  const key = newKeys.publishableKeys[0];
  assert.deepEqual(callNew({ apikey: key }), { kind: "anon" });
  assert.deepEqual(callNew({ authorization: `Bearer ${key}`, apikey: key }), { kind: "anon" });
});

Deno.test("classifyCaller() never takes an unknown sb_ key for an ingest token", () => {
  for (const key of ["sb_secret_not_this_projects", "sb_publishable_not_this_projects"]) {
    assert.deepEqual(callNew({ apikey: key }), { kind: "unknown_key" });
    assert.deepEqual(call({ authorization: `Bearer ${key}` }), { kind: "unknown_key" });
  }
});

Deno.test("parseKeyList() reads the JSON object hosted functions get, a bare key, or nothing", () => {
  assert.deepEqual(parseKeyList('{"default":"sb_secret_x","ci":"sb_secret_y"}'), [
    "sb_secret_x",
    "sb_secret_y",
  ]);
  assert.deepEqual(parseKeyList("sb_publishable_z"), ["sb_publishable_z"]);
  for (const raw of [undefined, "", "  ", "{not json", '["sb_secret_x"]', '{"a":1,"b":""}']) {
    assert.deepEqual(parseKeyList(raw), [], String(raw));
  }
});

Deno.test("projectKeysFromEnv() gathers both kinds from a hosted function's environment", () => {
  const env: Record<string, string> = {
    SUPABASE_SERVICE_ROLE_KEY: "svc",
    SUPABASE_ANON_KEY: "anon",
    SUPABASE_SECRET_KEYS: '{"default":"sb_secret_1"}',
    SUPABASE_PUBLISHABLE_KEYS: '{"default":"sb_publishable_1"}',
  };
  assert.deepEqual(projectKeysFromEnv((n) => env[n]), {
    serviceRoleKey: "svc",
    anonKey: "anon",
    secretKeys: ["sb_secret_1"],
    publishableKeys: ["sb_publishable_1"],
  });
  assert.deepEqual(projectKeysFromEnv(() => undefined), {
    serviceRoleKey: "",
    anonKey: "",
    secretKeys: [],
    publishableKeys: [],
  });
});
