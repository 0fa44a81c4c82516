import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fromBase64, randomBase64, timingSafeEqual, toBase64, toHex } from "./crypto.ts";

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
  assert.equal(fromBase64(a).length, 32);
  assert.match(randomBase64(32, "base64url"), /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(randomBase64(32, "base64"), randomBase64(32, "base64"));
});

Deno.test("toHex(), toBase64() and fromBase64() agree with node:buffer on every byte value", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (const bytes of [new Uint8Array(0), all, all.subarray(0, 1), all.subarray(7, 9)]) {
    const buf = Buffer.from(bytes);
    assert.equal(toHex(bytes), buf.toString("hex"));
    assert.equal(toBase64(bytes), buf.toString("base64"));
    assert.equal(toBase64(bytes, "base64url"), buf.toString("base64url"));
    assert.deepEqual(fromBase64(buf.toString("base64")), bytes);
    assert.deepEqual(fromBase64(buf.toString("base64url"), "base64url"), bytes);
  }
});

Deno.test("fromBase64() rejects characters outside the alphabet", () => {
  assert.throws(() => fromBase64("ab$d"), SyntaxError);
  assert.throws(() => fromBase64("a-_b"), SyntaxError);
  assert.throws(() => fromBase64("a+/b", "base64url"), SyntaxError);
});
