// Who is calling a function. Every function runs with verify_jwt = false and authenticates
// the caller here, because two kinds of project keys must work and only one is a JWT:
//
// - legacy keys: the anon and service_role JWTs (SUPABASE_ANON_KEY,
//   SUPABASE_SERVICE_ROLE_KEY);
// - new keys: `sb_publishable_...` and `sb_secret_...`, which are not JWTs. Hosted Supabase
//   gives a function every one of them as JSON objects of name -> key in
//   SUPABASE_PUBLISHABLE_KEYS and SUPABASE_SECRET_KEYS (the CLI's `functions serve` sets
//   `{"default": "<key>"}`), and its verify_jwt check answers 401 "Invalid JWT" to them.
//
// A secret key acts as the service role key, a publishable key as the anon key. Ingest
// tokens (`bw_...`) are returned for the database to check. Keys are matched exactly, in
// constant time; nothing is accepted on its looks.

import { decodeJwt } from "jose";
import { randomBase64, timingSafeEqual, toHex } from "./crypto.ts";
import { problem } from "./http.ts";

export type Caller =
  /** The service role key or a secret key. */
  | { kind: "service_role" }
  /** The anon key or a publishable key. */
  | { kind: "anon" }
  /** Some other JWT with a role claim: unverifiable here, so never allowed anything. */
  | { kind: "authenticated_jwt" }
  /** Shaped like a new API key (sb_publishable_ / sb_secret_) but none of this project's. */
  | { kind: "unknown_key" }
  | { kind: "token"; token: string }
  | { kind: "none" };

/** The project's keys, as a function's environment carries them. Empty strings never match. */
export interface ProjectKeys {
  serviceRoleKey: string;
  anonKey: string;
  secretKeys?: string[];
  publishableKeys?: string[];
}

const TOKEN_PREFIX = "bw_";
const NEW_KEY = /^sb_(publishable|secret)_/;

/**
 * The keys of a SUPABASE_PUBLISHABLE_KEYS / SUPABASE_SECRET_KEYS value: a JSON object of
 * name -> key. A bare key is taken as one key; anything unreadable as none.
 */
export function parseKeyList(raw: string | undefined | null): string[] {
  const text = raw?.trim();
  if (!text) return [];
  if (!text.startsWith("{")) return /^[^\s{}[\]"]+$/.test(text) ? [text] : [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      parsed === null || typeof parsed !== "object" || Array.isArray(parsed)
    ) return [];
    return Object.values(parsed).filter((v): v is string => typeof v === "string" && v !== "");
  } catch {
    return [];
  }
}

/** Every key a hosted function is given, read from its environment. */
export function projectKeysFromEnv(
  get: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Required<ProjectKeys> {
  return {
    serviceRoleKey: get("SUPABASE_SERVICE_ROLE_KEY") ?? "",
    anonKey: get("SUPABASE_ANON_KEY") ?? "",
    secretKeys: parseKeyList(get("SUPABASE_SECRET_KEYS")),
    publishableKeys: parseKeyList(get("SUPABASE_PUBLISHABLE_KEYS")),
  };
}

function matchesAny(credential: string, keys: (string | undefined)[]): boolean {
  // Compare against every key, without stopping at a match.
  return keys.reduce<boolean>(
    (found, k) => (!!k && timingSafeEqual(credential, k)) || found,
    false,
  );
}

/**
 * Reads `Authorization: Bearer <credential>`, or else the `apikey` header that Supabase
 * clients also send (and that the new keys are meant to travel in). supabase-js sends its
 * key in both; a signed-in user's JWT in Authorization wins over the apikey.
 */
export function classifyCaller(req: Request, deps: ProjectKeys): Caller {
  const authorization = req.headers.get("authorization");
  const credential = authorization === null
    ? req.headers.get("apikey")?.trim()
    : /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (!credential) return { kind: "none" };
  if (
    matchesAny(credential, [deps.serviceRoleKey, ...(deps.secretKeys ?? [])])
  ) {
    return { kind: "service_role" };
  }
  if (matchesAny(credential, [deps.anonKey, ...(deps.publishableKeys ?? [])])) {
    return { kind: "anon" };
  }
  if (NEW_KEY.test(credential)) return { kind: "unknown_key" };
  if (!credential.startsWith(TOKEN_PREFIX) && hasRoleClaim(credential)) {
    return { kind: "authenticated_jwt" };
  }
  return { kind: "token", token: credential };
}

/**
 * For the read endpoints: any of the project's keys may read. Anything else gets 401, as the
 * platform's verify_jwt check answered before these functions checked keys themselves.
 */
export function requireProjectKey(
  req: Request,
  deps: ProjectKeys,
): Caller | Response {
  const caller = classifyCaller(req, deps);
  if (caller.kind === "service_role" || caller.kind === "anon") return caller;
  const [error, message] = caller.kind === "none"
    ? [
      "missing_credentials",
      "Send the project's publishable (or anon) key: apikey: <key>, or Authorization: Bearer <key>",
    ]
    : caller.kind === "token"
    ? [
      "invalid_key",
      "Use the project's publishable (or anon) key: this is not one of its API keys " +
      "(ingest tokens can only record runs)",
    ]
    : caller.kind === "authenticated_jwt"
    ? [
      "invalid_key",
      "Use the project's publishable (or anon) key: user JWTs are not accepted here",
    ]
    : [
      "invalid_key",
      "Use a valid API key: this key is not one of the project's keys",
    ];
  return problem(401, error, message);
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
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(token),
  );
  return toHex(new Uint8Array(digest));
}

/** A fresh ingest token: `bw_` + 32 random bytes in unpadded base64url. */
export function generateIngestToken(): string {
  return TOKEN_PREFIX + randomBase64(32, "base64url");
}
