import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { createJwtGate } from "./verify-jwt.ts";

const SECRET = "the-project-jwt-secret-at-least-32-characters";

async function jwt(secret: string, exp?: number): Promise<string> {
  const t = new SignJWT({ role: "anon" }).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
  return await (exp === undefined ? t : t.setExpirationTime(exp)).sign(
    new TextEncoder().encode(secret),
  );
}

const req = (headers: Record<string, string>) => new Request("http://x/fn", { headers });

async function message(res: Response | null): Promise<string | null> {
  return res === null ? null : (await res.json()).message;
}

Deno.test("verify_jwt gate: a JWT signed with the project secret passes; anything else is 401", async () => {
  const gate = createJwtGate(SECRET);
  assert.equal(await gate(req({ authorization: `Bearer ${await jwt(SECRET)}` })), null);
  assert.equal(await message(await gate(req({}))), "Missing authorization header");
  const forged = await jwt("another-secret-another-secret-another-secret");
  assert.equal(
    await message(await gate(req({ authorization: `Bearer ${forged}` }))),
    "Invalid JWT",
  );
  assert.equal(await message(await gate(req({ authorization: "Basic eDp5" }))), "Invalid JWT");
});

Deno.test("verify_jwt gate: the new sb_ keys are not JWTs and are refused, as on hosted", async () => {
  const gate = createJwtGate(SECRET);
  for (const key of ["sb_publishable_AAAAAAAAAAAAAAAAAAAAAA_aaaaaaaa", "sb_secret_BBBB_bbbb"]) {
    const asBearer = await gate(req({ authorization: `Bearer ${key}`, apikey: key }));
    assert.equal(asBearer?.status, 401);
    assert.equal(await message(asBearer), "Invalid JWT");
    assert.equal(await message(await gate(req({ apikey: key }))), "Missing authorization header");
  }
});

Deno.test("verify_jwt gate: a verified JWT is refused once it expires, cache or not", async () => {
  let clock = 1_800_000_000_000;
  const gate = createJwtGate(SECRET, () => clock);
  const token = await jwt(SECRET, clock / 1000 + 2);
  const call = () => gate(req({ authorization: `Bearer ${token}` }));
  assert.equal(await call(), null);
  assert.equal(await call(), null, "again, now from the cache");
  clock += 2_500;
  assert.equal(await message(await call()), "Invalid JWT");
});
