// Who is calling `ingest`. It runs with verify_jwt = false so that ingest tokens, which are
// not JWTs, reach it; this module therefore decides what the caller presented, and the
// handler decides what each kind may do (the token itself is checked by the database).

import { decodeJwt } from "jose";
import { randomBase64, timingSafeEqual, toHex } from "./crypto.ts";

export type Caller =
  | { kind: "service_role" }
  | { kind: "anon" }
  /** Some other JWT with a role claim: unverifiable here, so never allowed to write. */
  | { kind: "authenticated_jwt" }
  | { kind: "token"; token: string }
  | { kind: "none" };

const TOKEN_PREFIX = "bw_";

/**
 * Reads `Authorization: Bearer <credential>`, or else the `apikey` header that Supabase
 * clients also send. Keys are matched exactly, in constant time. Any other credential that
 * is not a JWT is returned as a token for the database to look up (and reject if unknown).
 */
export function classifyCaller(
  req: Request,
  deps: { serviceRoleKey: string; anonKey: string },
): Caller {
  const authorization = req.headers.get("authorization");
  const credential = authorization === null
    ? req.headers.get("apikey")?.trim()
    : /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (!credential) return { kind: "none" };
  if (deps.serviceRoleKey && timingSafeEqual(credential, deps.serviceRoleKey)) {
    return { kind: "service_role" };
  }
  if (deps.anonKey && timingSafeEqual(credential, deps.anonKey)) return { kind: "anon" };
  if (!credential.startsWith(TOKEN_PREFIX) && hasRoleClaim(credential)) {
    return { kind: "authenticated_jwt" };
  }
  return { kind: "token", token: credential };
}

function hasRoleClaim(credential: string): boolean {
  try {
    return typeof decodeJwt(credential).role === "string";
  } catch {
    return false;
  }
}

/** Lowercase hex SHA-256, equal to Postgres `encode(extensions.digest(token, 'sha256'), 'hex')`. */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return toHex(new Uint8Array(digest));
}

/** A fresh ingest token: `bw_` + 32 random bytes in unpadded base64url. */
export function generateIngestToken(): string {
  return TOKEN_PREFIX + randomBase64(32, "base64url");
}
