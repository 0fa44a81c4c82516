// Byte-level helpers shared by the ingest-token and webhook-signature checks: secret
// comparison that takes the same time wherever the inputs differ, and random secrets.

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

/** `bytes` random bytes from the platform CSPRNG, base64 (padded) or base64url (unpadded). */
export function randomBase64(bytes: number, alphabet: "base64" | "base64url"): string {
  return crypto.getRandomValues(new Uint8Array(bytes))
    .toBase64({ alphabet, omitPadding: alphabet === "base64url" });
}
