// The local stack's throwaway keys, of both kinds a hosted project has:
// - legacy: a JWT secret and the anon / service_role JWTs signed with it. The secret is
//   generated on first start and kept in `<dir>/jwt-secret` (or taken from
//   BENCHWATCH_JWT_SECRET);
// - new: an `sb_publishable_...` and an `sb_secret_...` key, opaque random strings shaped
//   like the CLI's (supabase/cli apps/cli-go/pkg/config/apikeys.go: prefix, 22 base64url
//   characters, `_`, 8 more), kept in `<dir>/publishable-key` and `<dir>/secret-key`.
// So the keys stay the same across restarts and `local:up` twice writes the same `.local/env`.

import { SignJWT } from "jose";
import type { StackConfig } from "./config.ts";

export interface StackKeys {
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  /** sb_publishable_...: read-only, like the anon key. */
  publishableKey: string;
  /** sb_secret_...: full access, like the service role key. */
  secretKey: string;
}

// A fixed issue time keeps the keys byte-identical for a given secret.
const ISSUED_AT = 1_767_225_600; // 2026-01-01T00:00:00Z
const TEN_YEARS = 10 * 365 * 24 * 3600;

export async function signRoleKey(secret: string, role: string): Promise<string> {
  return await new SignJWT({ role, iss: "supabase", ref: "local" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(ISSUED_AT)
    .setExpirationTime(ISSUED_AT + TEN_YEARS)
    .sign(new TextEncoder().encode(secret));
}

/** A throwaway secret kept in a file of the stack's directory, made on first use. */
async function fileSecret(path: string, generate: () => string): Promise<string> {
  try {
    const s = (await Deno.readTextFile(path)).trim();
    if (s.length >= 32) return s;
  } catch { /* first start */ }
  const secret = generate();
  await Deno.writeTextFile(path, secret + "\n", { mode: 0o600 });
  return secret;
}

const randomBytes = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const base64url = (bytes: Uint8Array): string =>
  bytes.toBase64({ alphabet: "base64url", omitPadding: true });

/** A new-style API key: `sb_<kind>_` + 22 + `_` + 8 random base64url characters. */
export function newApiKey(kind: "publishable" | "secret"): string {
  return `sb_${kind}_${base64url(randomBytes(16))}_${base64url(randomBytes(6))}`;
}

async function loadOrCreateSecret(cfg: StackConfig): Promise<string> {
  if (cfg.jwtSecretFromEnv) {
    if (cfg.jwtSecretFromEnv.length < 32) {
      throw new Error(
        "Use a JWT secret of at least 32 characters: BENCHWATCH_JWT_SECRET is too short",
      );
    }
    return cfg.jwtSecretFromEnv;
  }
  await Deno.mkdir(cfg.dir, { recursive: true });
  return await fileSecret(
    cfg.jwtSecretFile,
    () => Array.from(randomBytes(32), (b) => b.toString(16).padStart(2, "0")).join(""),
  );
}

/** The Standard Webhooks secret the database signs notify-slack calls with (whsec_...). */
export async function loadWebhookSecret(cfg: StackConfig): Promise<string> {
  await Deno.mkdir(cfg.dir, { recursive: true });
  return await fileSecret(`${cfg.dir}/webhook-secret`, () => `whsec_${randomBytes(32).toBase64()}`);
}

export async function loadKeys(cfg: StackConfig): Promise<StackKeys> {
  const jwtSecret = await loadOrCreateSecret(cfg);
  return {
    jwtSecret,
    anonKey: await signRoleKey(jwtSecret, "anon"),
    serviceRoleKey: await signRoleKey(jwtSecret, "service_role"),
    publishableKey: await fileSecret(`${cfg.dir}/publishable-key`, () => newApiKey("publishable")),
    secretKey: await fileSecret(`${cfg.dir}/secret-key`, () => newApiKey("secret")),
  };
}
