import assert from "node:assert/strict";
import { randomBase64, timingSafeEqual } from "./crypto.ts";

Deno.test("timingSafeEqual() is true only for identical strings", () => {
  assert.equal(timingSafeEqual("secret", "secret"), true);
  assert.equal(timingSafeEqual("", ""), true);
  assert.equal(timingSafeEqual("secret", "secreT"), false);
  assert.equal(timingSafeEqual("secret", "secret2"), false);
  assert.equal(timingSafeEqual("é", "e\u0301"), false);
});

Deno.test("randomBase64() returns fresh values of the requested size and alphabet", () => {
  const a = randomBase64(32, "base64");
  assert.match(a, /^[A-Za-z0-9+/]{43}=$/);
  assert.equal(Uint8Array.fromBase64(a).length, 32);
  assert.match(randomBase64(32, "base64url"), /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(randomBase64(32, "base64"), randomBase64(32, "base64"));
});
