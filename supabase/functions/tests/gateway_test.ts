// The local gateway behaves like a hosted project's function edge: every function folder
// is served at /functions/v1/<name>, and verify_jwt from config.toml is honoured.

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

Deno.test("gateway: verify_jwt rejects a missing JWT with 401", async () => {
  const res = await fetch(`${functionsUrl()}/health`);
  assert.equal(res.status, 401);
  assert.equal((await res.json()).message, "Missing authorization header");
});

Deno.test("gateway: verify_jwt rejects a JWT signed with another secret with 401", async () => {
  const forged = await forge("not-the-project-secret-not-the-project-secret", "service_role");
  const res = await fetch(`${functionsUrl()}/health`, {
    headers: { authorization: `Bearer ${forged}` },
  });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).message, "Invalid JWT");
});

Deno.test("gateway: a JWT signed with the project secret is accepted", async () => {
  const token = await forge(stackEnv("BENCHWATCH_JWT_SECRET"), "authenticated");
  const res = await fetch(`${functionsUrl()}/health`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

Deno.test("gateway: a verified JWT is refused once it expires (the verification cache keeps exp)", async () => {
  const expiresAt = Math.floor(Date.now() / 1000) + 2;
  const token = await new SignJWT({ role: "authenticated" })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(stackEnv("BENCHWATCH_JWT_SECRET")));
  const call = () =>
    fetch(`${functionsUrl()}/health`, { headers: { authorization: `Bearer ${token}` } });
  const before = await call();
  assert.equal(before.status, 200);
  await before.body?.cancel();
  const again = await call();
  assert.equal(again.status, 200, "the same token again, now from the cache");
  await again.body?.cancel();
  await new Promise((r) => setTimeout(r, expiresAt * 1000 - Date.now() + 200));
  const after = await call();
  assert.equal(after.status, 401);
  assert.equal((await after.json()).message, "Invalid JWT");
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
    functions: Record<string, { verify_jwt?: boolean }>;
  };
  for (const name of ["ingest", "regressions", "notify-slack", "benchmarks", "health"]) {
    assert.ok(toml.functions[name], `[functions.${name}] is declared`);
    assert.equal(typeof toml.functions[name].verify_jwt, "boolean", `${name} sets verify_jwt`);
  }
  assert.equal(
    toml.functions["notify-slack"].verify_jwt,
    false,
    "notify-slack checks its own signature",
  );
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
