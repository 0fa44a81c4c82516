// Standard Webhooks (https://www.standardwebhooks.com/) signing and verification, so
// `notify-slack` accepts only requests the database signed.
//
// The signature is `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)), where the
// key is the base64-decoded secret after an optional `whsec_` prefix. The database
// reproduces it exactly with pgcrypto:
//   'v1,' || encode(hmac(id || '.' || ts || '.' || body, decode(secret_base64, 'base64'),
//                        'sha256'), 'base64')
// (a 32-byte digest encodes to 44 characters, below encode()'s 76-character line wrap).

import { fromBase64, randomBase64, timingSafeEqual, toBase64 } from "./crypto.ts";

const SECRET_PREFIX = "whsec_";

export type WebhookVerification =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: "missing_headers" | "stale_timestamp" | "bad_signature" };

/** The decoded key, as an ArrayBuffer: the one byte type WebCrypto accepts under every Deno. */
function secretBytes(secret: string): ArrayBuffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(encoded);
  } catch {
    throw new Error("Set the webhook secret as whsec_<base64>: it is not valid base64");
  }
  if (bytes.length === 0) throw new Error("Set the webhook secret: it is empty");
  return bytes.buffer as ArrayBuffer;
}

export async function signWebhook(
  opts: { id: string; timestamp: number; body: string; secret: string },
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    secretBytes(opts.secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const content = new TextEncoder().encode(`${opts.id}.${opts.timestamp}.${opts.body}`);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, content));
  return `v1,${toBase64(mac)}`;
}

/**
 * Checks the webhook-id, webhook-timestamp and webhook-signature headers against `body`.
 * `webhook-signature` may list several space-delimited signatures (key rotation); one valid
 * `v1` entry suffices. `now` returns milliseconds since the epoch, like Date.now.
 */
export async function verifyWebhook(
  headers: Headers,
  body: string,
  opts: { secret: string; now?: () => number; toleranceSeconds?: number },
): Promise<WebhookVerification> {
  const id = headers.get("webhook-id");
  const timestampHeader = headers.get("webhook-timestamp");
  const signatures = headers.get("webhook-signature");
  if (!id || !signatures || !/^\d{1,12}$/.test(timestampHeader ?? "")) {
    return { ok: false, reason: "missing_headers" };
  }
  const timestamp = Number(timestampHeader);
  const nowSeconds = Math.floor((opts.now ?? Date.now)() / 1000);
  if (Math.abs(nowSeconds - timestamp) > (opts.toleranceSeconds ?? 300)) {
    return { ok: false, reason: "stale_timestamp" };
  }
  const expected = await signWebhook({ id, timestamp, body, secret: opts.secret });
  // Compare every entry, without stopping at a match, so timing says nothing about which.
  const valid = signatures.split(" ").reduce(
    (found, candidate) => timingSafeEqual(candidate, expected) || found,
    false,
  );
  return valid ? { ok: true, id, timestamp } : { ok: false, reason: "bad_signature" };
}

/** A fresh signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBase64(32, "base64");
}
