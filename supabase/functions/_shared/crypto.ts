// Byte-level helpers shared by the ingest-token and webhook-signature checks: secret
// comparison that takes the same time wherever the inputs differ, random secrets, and
// hex / base64 encodings.
//
// The encodings are written with btoa/atob on purpose: the hosted Edge Runtime is built on
// Deno 2.1.4 (V8 13.0), which has no Uint8Array.prototype.toBase64 / toHex and no
// Uint8Array.fromBase64, so using those makes every caller fail there with a TypeError.

const encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths, never their contents. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

export type Base64Alphabet = "base64" | "base64url";

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** base64 (padded) or base64url (unpadded) of `bytes`. */
export function toBase64(
  bytes: Uint8Array,
  alphabet: Base64Alphabet = "base64",
): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  const padded = btoa(binary);
  return alphabet === "base64"
    ? padded
    : padded.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Decodes base64 or base64url (padding optional). Throws a SyntaxError on any character
 * outside the alphabet, as Uint8Array.fromBase64 does.
 */
export function fromBase64(
  text: string,
  alphabet: Base64Alphabet = "base64",
): Uint8Array {
  const valid = alphabet === "base64" ? /^[A-Za-z0-9+/]*={0,2}$/ : /^[A-Za-z0-9_-]*={0,2}$/;
  if (!valid.test(text)) throw new SyntaxError(`Invalid ${alphabet} string`);
  const standard = alphabet === "base64" ? text : text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(standard.padEnd(Math.ceil(standard.length / 4) * 4, "="));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** `bytes` random bytes from the platform CSPRNG, base64 (padded) or base64url (unpadded). */
export function randomBase64(bytes: number, alphabet: Base64Alphabet): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(bytes)), alphabet);
}
