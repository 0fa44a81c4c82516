// Runtime configuration: where the API is and which key reads it.
// The page first asks its host for ./env.json (the local gateway and `benchwatch dashboard`
// answer it from SUPABASE_URL and SUPABASE_PUBLISHABLE_KEY or SUPABASE_ANON_KEY), then falls
// back to the values baked in at build time (VITE_SUPABASE_URL and
// VITE_SUPABASE_PUBLISHABLE_KEY or VITE_SUPABASE_ANON_KEY) for plain static hosting.
// Either kind of read-only key works: a publishable key (sb_publishable_...) or the legacy
// anon JWT.
// Only a read-only key is ever accepted: a service-role key in a browser is a full
// database credential handed to every visitor.

export interface Config {
  url: string;
  anonKey: string;
  source: "env.json" | "build";
}

export class ConfigError extends Error {
  constructor(message: string, readonly checks: string[]) {
    super(message);
  }
}

/** The `role` claim of a Supabase JWT key, or null when the key is not a JWT. */
export function keyRole(key: string): string | null {
  const parts = key.split(".");
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const payload = JSON.parse(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, "="))) as unknown;
    if (payload && typeof payload === "object" && "role" in payload) {
      const role = (payload as { role: unknown }).role;
      return typeof role === "string" ? role : null;
    }
  } catch {
    return null;
  }
  return null;
}

/** Problems with a URL/key pair, in the words of the guide's "Dashboard shows No data" checks. */
export function checkConfig(url: string | undefined, key: string | undefined): string[] {
  const problems: string[] = [];
  if (!url) problems.push("SUPABASE_URL is not set");
  else {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      problems.push(`SUPABASE_URL is not a URL: ${url}`);
    }
    if (
      parsed && parsed.protocol !== "https:" &&
      !["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname)
    ) {
      problems.push(`SUPABASE_URL must use https: ${url}`);
    }
  }
  if (!key) problems.push("SUPABASE_PUBLISHABLE_KEY (or SUPABASE_ANON_KEY) is not set");
  else if (key.startsWith("sb_secret_")) {
    problems.push(
      "Use the publishable (or anon) key: this is a secret key, which must never reach a browser",
    );
  } else if (!key.startsWith("sb_publishable_")) {
    const role = keyRole(key);
    if (role !== "anon") {
      problems.push(
        role
          ? `Use the publishable (or anon) key: this key has role "${role}", and the dashboard only reads with a read-only key`
          : "Use the publishable (or anon) key: this is not a Supabase key",
      );
    }
  }
  return problems;
}

async function fromEnvJson(): Promise<{ url?: string; key?: string } | null> {
  try {
    // Same request as the preload in index.html, so the browser reuses that response.
    const res = await fetch("./env.json");
    if (!res.ok || !(res.headers.get("content-type") ?? "").includes("json")) return null;
    const body = (await res.json()) as Record<string, unknown>;
    const url = typeof body.SUPABASE_URL === "string" ? body.SUPABASE_URL : undefined;
    const pick = (v: unknown) => typeof v === "string" && v !== "" ? v : undefined;
    const key = pick(body.SUPABASE_PUBLISHABLE_KEY) ?? pick(body.SUPABASE_ANON_KEY);
    return url || key ? { url, key } : null;
  } catch {
    return null;
  }
}

export async function loadConfig(): Promise<Config> {
  const runtime = await fromEnvJson();
  const source: Config["source"] = runtime ? "env.json" : "build";
  const url = runtime ? runtime.url : (import.meta.env.VITE_SUPABASE_URL as string | undefined);
  const key = runtime ? runtime.key : ((import.meta.env.VITE_SUPABASE_PUBLISHABLE_KEY ||
    import.meta.env.VITE_SUPABASE_ANON_KEY) as string | undefined);
  const problems = checkConfig(url, key);
  if (problems.length > 0 || !url || !key) {
    throw new ConfigError(
      `Cannot start the dashboard: ${problems[0] ?? "configuration is missing"}`,
      problems,
    );
  }
  // A trailing slash would make every function URL contain "//functions".
  return { url: url.replace(/\/+$/, ""), anonKey: key, source };
}
