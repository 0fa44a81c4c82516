// benchwatch dashboard: serves the built dashboard against any Supabase project, the way
// the setup guide runs `streamlit run` (default port 8501). It hands the page only the
// project URL and a read-only key: the publishable key, or the legacy anon key.

import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkUrl, keyKind, loadEnv } from "../config.ts";
import { CliError, EXIT } from "../errors.ts";

/** Defined (true) by cli/build.ts in the npm package's bundle, which ships no dashboard. */
declare const BENCHWATCH_PACKAGE: boolean | undefined;

const ROOT = resolve(fileURLToPath(import.meta.url), "../../../..");
const DIST = join(ROOT, "dashboard", "dist");
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export async function dashboard(
  o: { port?: string; host?: string; url?: string },
  log = console.log,
): Promise<Server> {
  const env = loadEnv();
  const url = checkUrl(o.url ?? env.SUPABASE_URL);
  const name = env.SUPABASE_PUBLISHABLE_KEY ? "SUPABASE_PUBLISHABLE_KEY" : "SUPABASE_ANON_KEY";
  const anon = env[name];
  if (!anon) {
    throw new CliError(
      "Set SUPABASE_PUBLISHABLE_KEY (or SUPABASE_ANON_KEY): the dashboard reads with the " +
        "publishable / anon (read-only) key",
      EXIT.CONFIG,
    );
  }
  if (keyKind(anon) !== "anon") {
    throw new CliError(
      `Use a read-only key in ${name}: the dashboard must never hold a secret or service key`,
      EXIT.CONFIG,
    );
  }
  if (typeof BENCHWATCH_PACKAGE !== "undefined") {
    throw new CliError(
      "Serve the dashboard from a checkout of benchwatch: the npm package carries the CLI only " +
        "(git clone the repository, npm install, then npx benchwatch dashboard there)",
      EXIT.CONFIG,
    );
  }
  try {
    // Imported here, not at the top: the npm package's bundle leaves this module out.
    const { ensureDashboardBuilt } = await import("../../../dashboard/build.ts");
    const b = await ensureDashboardBuilt(ROOT);
    if (b.result === "built") {
      log(`Built the dashboard in ${(b.ms / 1000).toFixed(1)} s (${b.reason})`);
    }
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.CONFIG);
  }
  const port = Number(o.port ?? 8501);
  const envJson = JSON.stringify({ SUPABASE_URL: url, [name]: anon });
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (path === "/env.json") {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(
        envJson,
      );
      return;
    }
    let file = normalize(join(DIST, path));
    if (!file.startsWith(DIST) || !existsSync(file) || path.endsWith("/")) {
      file = join(DIST, "index.html");
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(
      readFileSync(file),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once(
      "error",
      (e: NodeJS.ErrnoException) =>
        fail(
          e.code === "EADDRINUSE"
            ? new CliError(`Port ${port} is taken: pass --port <another>`, EXIT.CONFIG)
            : e,
        ),
    );
    server.listen(port, o.host ?? "127.0.0.1", () => ok());
  });
  const addr = server.address();
  const actual = typeof addr === "object" && addr ? addr.port : port;
  log(
    `benchwatch dashboard for ${url}\n  Local URL: http://${
      o.host ?? "127.0.0.1"
    }:${actual}\nPress Ctrl-C to stop.`,
  );
  return server;
}
