// The local gateway behaves like a hosted project's function edge: every function folder
// is served at /functions/v1/<name>. The platform's verify_jwt check itself is unit-tested
// in local/gateway/verify-jwt_test.ts: no function uses it any more.

import assert from "node:assert/strict";
import { SignJWT } from "jose";
// Not in the functions' import map: that map holds only what the functions themselves import.
import { parse as parseToml } from "npm:smol-toml@1.9.1";
import { functionsUrl, stackEnv } from "./env.ts";

const functionsDir = new URL("..", import.meta.url).pathname;

function functionFolders(): string[] {
  return [...Deno.readDirSync(functionsDir)]
    .filter((e) => e.isDirectory && e.name !== "_shared" && e.name !== "tests")
    .map((e) => e.name)
    .sort();
}

async function forge(secret: string, role: string): Promise<string> {
  return await new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(secret));
}

Deno.test("gateway: health answers 200 through the gateway with the anon key", async () => {
  const res = await fetch(`${functionsUrl()}/health`, {
    headers: { authorization: `Bearer ${stackEnv("SUPABASE_ANON_KEY")}` },
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.database, "ok");
  assert.equal(typeof body.schema.benchmark_transactions, "boolean");
});

Deno.test("gateway: health answers 200 with the publishable key too, in apikey alone", async () => {
  const res = await fetch(`${functionsUrl()}/health`, {
    headers: { apikey: stackEnv("SUPABASE_PUBLISHABLE_KEY") },
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).database, "ok");
});

Deno.test("gateway: without the platform's JWT check, health itself refuses what is not a project key", async () => {
  const forged = await forge("not-the-project-secret-not-the-project-secret", "service_role");
  for (
    const [headers, error] of [
      [{}, "missing_credentials"],
      [{ authorization: `Bearer ${forged}` }, "invalid_key"],
      [{ apikey: "sb_publishable_AAAAAAAAAAAAAAAAAAAAAA_notours0" }, "invalid_key"],
    ] as const
  ) {
    const res = await fetch(`${functionsUrl()}/health`, { headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal((await res.json()).error, error);
  }
});

Deno.test("gateway: every function folder is served, and nothing else", async () => {
  const anon = { authorization: `Bearer ${stackEnv("SUPABASE_ANON_KEY")}` };
  const folders = functionFolders();
  assert.ok(folders.includes("health"));
  for (const name of folders) {
    const res = await fetch(`${functionsUrl()}/${name}`, { headers: anon });
    const text = await res.text();
    assert.ok(
      !text.includes("Requested function was not found"),
      `${name} is served (got ${res.status})`,
    );
  }
  for (const hidden of ["_shared", "tests", "no-such-function"]) {
    const res = await fetch(`${functionsUrl()}/${hidden}`, { headers: anon });
    assert.equal(res.status, 404, `${hidden} is not served`);
    await res.body?.cancel();
  }
});

Deno.test("config.toml declares the product's functions, each with an explicit verify_jwt", () => {
  const toml = parseToml(Deno.readTextFileSync(new URL("../../config.toml", import.meta.url))) as {
    functions: Record<string, { verify_jwt?: boolean; import_map?: string }>;
  };
  for (const name of ["ingest", "regressions", "notify-slack", "benchmarks", "health"]) {
    assert.ok(toml.functions[name], `[functions.${name}] is declared`);
    assert.equal(typeof toml.functions[name].verify_jwt, "boolean", `${name} sets verify_jwt`);
  }
  for (const name of Object.keys(toml.functions)) {
    // The platform's check would refuse the new sb_ keys; each function checks keys itself
    // (the auth matrix shows every one still refuses callers without a valid credential).
    assert.equal(toml.functions[name].verify_jwt, false, `${name} checks its caller itself`);
    assert.equal(toml.functions[name].import_map, "./functions/import_map.json", name);
  }
});

Deno.test("slack sink: answers a post as Slack does, records it, and misbehaves on request", async () => {
  const sink = stackEnv("BENCHWATCH_SLACK_SINK_URL");
  await fetch(`${sink}/_sink/messages`, { method: "DELETE" });
  const message = {
    text: "fallback",
    blocks: [{ type: "section", text: { type: "mrkdwn", text: "*f1* dropped" } }],
  };
  const ok = await fetch(`${sink}/services/T/B/x`, {
    method: "POST",
    body: JSON.stringify(message),
  });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "ok");

  const set = await fetch(`${sink}/_sink/behaviour`, {
    method: "POST",
    body: JSON.stringify({ mode: "rate_limited", retry_after: 2, times: 1 }),
  });
  assert.equal(set.status, 200);
  await set.body?.cancel();
  const limited = await fetch(`${sink}/services/T/B/x`, {
    method: "POST",
    body: JSON.stringify(message),
  });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "2");
  await limited.body?.cancel();
  const after = await fetch(`${sink}/services/T/B/x`, {
    method: "POST",
    body: JSON.stringify(message),
  });
  assert.equal(after.status, 200, "it answers ok again once the misbehaviour is used up");
  await after.body?.cancel();

  const got = await (await fetch(`${sink}/_sink/messages`)).json();
  assert.deepEqual(got.map((m: { answered: string }) => m.answered), ["ok", "rate_limited", "ok"]);
  assert.deepEqual(got[0].body, message);
});
