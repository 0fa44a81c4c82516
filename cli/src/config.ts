// Where the CLI finds the project URL and its key: flags, then the environment, then a
// `.env` file in the working directory. The URL is checked the way the setup guide's
// troubleshooting describes it (https://, no trailing slash).

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseEnv } from "node:util";
import { CliError, EXIT } from "./errors.ts";

export type KeyKind = "service_role" | "anon" | "token" | "other";

export interface Connection {
  url: string;
  key: string;
  keyKind: KeyKind;
}

export interface ConnectionFlags {
  url?: string;
  key?: string;
}

/** The environment as the CLI sees it: process.env over the values of ./.env. */
export function loadEnv(
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  const file = resolve(cwd, ".env");
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, "utf8")) : {};
  return { ...fromFile, ...env };
}

/**
 * What a key may do. The new API keys are opaque: a secret key (`sb_secret_...`) acts as the
 * service role key, a publishable key (`sb_publishable_...`) as the anon key.
 */
export function keyKind(key: string): KeyKind {
  if (key.startsWith("bw_")) return "token";
  if (key.startsWith("sb_secret_")) return "service_role";
  if (key.startsWith("sb_publishable_")) return "anon";
  const parts = key.split(".");
  if (parts.length !== 3) return "other";
  try {
    const role = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")).role;
    return role === "service_role" || role === "anon" ? role : "other";
  } catch {
    return "other";
  }
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Checks SUPABASE_URL as the guide's "Could not connect to Supabase" checklist does. */
export function checkUrl(raw: string | undefined): string {
  if (!raw) {
    throw new CliError(
      "Set SUPABASE_URL: export SUPABASE_URL=https://xxxxx.supabase.co (or put it in .env, or pass --url)",
      EXIT.CONFIG,
    );
  }
  const url = raw.trim();
  if (url.endsWith("/")) {
    throw new CliError(
      `Remove the trailing slash from SUPABASE_URL: got ${url}\n` +
        `  Fix: export SUPABASE_URL=${url.replace(/\/+$/, "")}`,
      EXIT.CONFIG,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(
      `Use a full URL for SUPABASE_URL, with the https:// prefix: got ${url}\n` +
        `  Fix: export SUPABASE_URL=https://${url.replace(/^[a-z]+:\/\//i, "")}`,
      EXIT.CONFIG,
    );
  }
  const local = parsed.protocol === "http:" && LOOPBACK.has(parsed.hostname);
  if (parsed.protocol !== "https:" && !local) {
    throw new CliError(
      `Use https:// in SUPABASE_URL: got ${url}\n` +
        `  Fix: export SUPABASE_URL=https://${parsed.host}${
          parsed.pathname === "/" ? "" : parsed.pathname
        }`,
      EXIT.CONFIG,
    );
  }
  return url;
}

/** Where each kind of key is looked for, new-style keys first (legacy JWT keys are deprecated). */
const READ_KEYS = ["SUPABASE_PUBLISHABLE_KEY", "SUPABASE_ANON_KEY"];
const ADMIN_KEYS = ["SUPABASE_SECRET_KEY", "SUPABASE_SERVICE_ROLE_KEY"];

/**
 * The connection for a command. `want` says which key it needs: "write" takes a secret key
 * (SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY) or BENCHWATCH_INGEST_TOKEN, "admin"
 * only a secret key, "read" prefers a publishable key (SUPABASE_PUBLISHABLE_KEY or
 * SUPABASE_ANON_KEY) and accepts the others.
 */
export function connection(
  flags: ConnectionFlags,
  want: "write" | "admin" | "read",
  env = loadEnv(),
): Connection {
  const url = checkUrl(flags.url ?? env.SUPABASE_URL);
  const names = want === "read"
    ? [...READ_KEYS, ...ADMIN_KEYS, "BENCHWATCH_INGEST_TOKEN"]
    : want === "write"
    ? [...ADMIN_KEYS, "BENCHWATCH_INGEST_TOKEN"]
    : ADMIN_KEYS;
  const key = flags.key ?? names.map((n) => env[n]).find((k) => k && k.trim() !== "")?.trim();
  if (!key) {
    const names = want === "read"
      ? "SUPABASE_PUBLISHABLE_KEY (or SUPABASE_ANON_KEY)"
      : want === "write"
      ? "SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY (or BENCHWATCH_INGEST_TOKEN)"
      : "SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY";
    throw new CliError(`Set ${names}: the environment, .env and --key give no key`, EXIT.CONFIG);
  }
  const kind = keyKind(key);
  if (want !== "read" && kind === "anon") {
    throw new CliError(
      "Permission denied: this is the publishable / anon (read-only) key. " +
        (want === "write"
          ? "Set SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY (or BENCHWATCH_INGEST_TOKEN) " +
            "for pushes, e.g. in your CI secrets"
          : "Set SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY for this command"),
      EXIT.CONFIG,
    );
  }
  if (want === "admin" && kind === "token") {
    throw new CliError(
      "Permission denied: an ingest token can only push runs. Set SUPABASE_SECRET_KEY or " +
        "SUPABASE_SERVICE_ROLE_KEY for this command",
      EXIT.CONFIG,
    );
  }
  return { url, key, keyKind: kind };
}
