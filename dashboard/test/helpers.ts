// Shared pieces of the dashboard's browser tests: Debian's chromium through playwright-core,
// console-error collection, a static server for dashboard/dist with a chosen env.json, and
// screenshot output under test-artifacts/dashboard/.

import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type ConsoleMessage, type Page } from "playwright-core";

const here = fileURLToPath(new URL(".", import.meta.url));
export const DIST = resolve(here, "../dist");
export const ARTIFACTS = resolve(here, "../../test-artifacts/dashboard");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`Set ${name}: run \`set -a; . .local/env; set +a\` first`);
  return v;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh chromium with its own throwaway profile. */
export async function launch(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), "benchwatch-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Console errors and uncaught exceptions of a page, as text. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error") errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves dashboard/dist like a static host, with /env.json answering `env`. */
export async function serveDist(env: Record<string, string>): Promise<StaticServer> {
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/env.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(env));
      return;
    }
    const rel = normalize(decodeURIComponent(path)).replace(/^([/\\])+/, "");
    const file = rel && !rel.startsWith("..") ? join(DIST, rel) : join(DIST, "index.html");
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(200, { "content-type": TYPES[".html"] });
      res.end(await readFile(join(DIST, "index.html")));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  if (!addr || typeof addr === "string") throw new Error("Cannot start the static server: no port");
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** GET on the read API with the anon key, as the dashboard does, to compare against. */
export async function apiGet<T>(path: string): Promise<T> {
  const res = await fetch(`${requireEnv("SUPABASE_URL")}/functions/v1/${path}`, {
    headers: { Authorization: `Bearer ${requireEnv("SUPABASE_ANON_KEY")}` },
  });
  if (!res.ok) {
    throw new Error(`Cannot read the API: GET ${path} answered ${res.status} ${await res.text()}`);
  }
  return (await res.json()) as T;
}

/** POST to a function with the service role key; throws unless it answers `status`. */
async function postAsService<T>(fn: string, body: unknown, status: number): Promise<T> {
  const key = requireEnv("SUPABASE_SERVICE_ROLE_KEY");
  const res = await fetch(`${requireEnv("SUPABASE_URL")}/functions/v1/${fn}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, apikey: key, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== status) {
    throw new Error(`${fn} answered ${res.status}: ${JSON.stringify(json)}`);
  }
  return json as T;
}

/** POST /ingest (one run, or {runs: [...]}); expects 201. */
export function ingest(body: unknown): Promise<{ transaction_id: string }> {
  return postAsService("ingest", body, 201);
}

/** Pins a run as its series' baseline (POST /regressions, action pin); expects 200. */
export async function pinBaseline(transactionId: string): Promise<void> {
  await postAsService("regressions", { action: "pin", transaction_id: transactionId }, 200);
}
