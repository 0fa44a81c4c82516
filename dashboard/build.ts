// Builds dashboard/dist when it is missing or older than what it is built from, so every
// command that serves the dashboard (npm start, npm run local:up, the gateway,
// `benchwatch dashboard`) serves the app a fresh clone's sources describe, never a
// placeholder or a stale bundle. Plain Node APIs: the Deno stack scripts and the Node CLI
// both import it.

import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export interface DashboardBuild {
  /** "fresh": dist was up to date; "built": it was (re)built just now. */
  result: "fresh" | "built";
  /** Why it was built, e.g. "dashboard/dist is missing". */
  reason?: string;
  ms: number;
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : e.isFile() ? [p] : [];
  });
}

/** Why dist must be built, or null when every file in it is newer than every input. */
export function staleReason(root: string): string | null {
  const dist = join(root, "dashboard", "dist");
  if (!existsSync(join(dist, "index.html"))) return "dashboard/dist is missing";
  const built = Math.min(...files(dist).map((f) => statSync(f).mtimeMs));
  const inputs = [
    ...files(join(root, "dashboard", "src")),
    join(root, "dashboard", "index.html"),
    join(root, "dashboard", "vite.config.ts"),
    // A changed lock file can mean another vite or chart library in the bundle.
    join(root, "package-lock.json"),
  ].filter((f) => existsSync(f));
  const newer = inputs.find((f) => statSync(f).mtimeMs > built);
  return newer ? `${newer.slice(root.length + 1)} is newer than dashboard/dist` : null;
}

/**
 * Runs `vite build dashboard` when dist is stale. Throws with vite's output when the build
 * fails, so nothing serves a half-written bundle as if it were fine.
 */
export async function ensureDashboardBuilt(root: string): Promise<DashboardBuild> {
  const started = performance.now();
  const reason = staleReason(root);
  if (reason === null) return { result: "fresh", ms: performance.now() - started };
  const vite = join(root, "node_modules", ".bin", "vite");
  if (!existsSync(vite)) {
    throw new Error(
      `Install the npm packages (npm ci) to build the dashboard: ${vite} is missing`,
    );
  }
  await new Promise<void>((done, fail) => {
    execFile(
      vite,
      ["build", "dashboard", "--logLevel", "warn"],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return done();
        fail(
          new Error(
            `Fix the dashboard build (npm run build:dashboard shows it): vite failed: ${err.message}\n${stdout}${stderr}`
              .trimEnd(),
          ),
        );
      },
    );
  });
  return { result: "built", reason, ms: performance.now() - started };
}
