// Brings a local stack up and down: the PostgreSQL cluster, the compatibility bootstrap,
// the migrations, and the gateway serving the Edge Functions. `up` is idempotent: on a
// healthy stack it only re-applies pending migrations and rewrites the same env file.

import { ensureDashboardBuilt } from "../../dashboard/build.ts";
import { edgeRuntime, loadConfig, type Profile, type StackConfig } from "./config.ts";
import { loadKeys, loadWebhookSecret, type StackKeys } from "./keys.ts";
import {
  appliedMigrations,
  applyBootstrap,
  applyMigrationEventTriggers,
  applyTestHelpers,
  changedMigrations,
  clusterRunning,
  configureWebhook,
  pushMigrations,
  recordAppliedMigrations,
  startCluster,
  stopCluster,
  wipeDatabase,
} from "./postgres.ts";
import { exists, pidAlive, portOpen, readPid, run, waitFor } from "./proc.ts";

/** What `.local/env` holds: the variables a hosted project gives its clients. */
export interface StackEnv {
  SUPABASE_URL: string;
  SUPABASE_DB_URL: string;
  SUPABASE_ANON_KEY: string;
  SUPABASE_SERVICE_ROLE_KEY: string;
  /** The new-style keys, alongside the legacy JWTs above. */
  SUPABASE_PUBLISHABLE_KEY: string;
  SUPABASE_SECRET_KEY: string;
  DASHBOARD_URL: string;
  /** The stack's JWT signing secret (local, throwaway): tests mint tokens with it. */
  BENCHWATCH_JWT_SECRET: string;
  /** The local Slack sink, where the tests read what notify-slack sent. */
  BENCHWATCH_SLACK_SINK_URL: string;
}

export interface Stack {
  cfg: StackConfig;
  keys: StackKeys;
  env: StackEnv;
}

export function stackEnv(cfg: StackConfig, keys: StackKeys): StackEnv {
  return {
    SUPABASE_URL: cfg.apiUrl,
    SUPABASE_DB_URL: cfg.dbUrl,
    SUPABASE_ANON_KEY: keys.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
    SUPABASE_PUBLISHABLE_KEY: keys.publishableKey,
    SUPABASE_SECRET_KEY: keys.secretKey,
    DASHBOARD_URL: `${cfg.apiUrl}/`,
    BENCHWATCH_JWT_SECRET: keys.jwtSecret,
    BENCHWATCH_SLACK_SINK_URL: `http://127.0.0.1:${cfg.slackSinkPort}`,
  };
}

/**
 * The local `supabase secrets set`: what the functions get beyond the platform's own
 * variables. Slack goes to the local sink unless SLACK_WEBHOOK_URL is set.
 */
async function writeFunctionSecrets(cfg: StackConfig): Promise<void> {
  const sink = `http://127.0.0.1:${cfg.slackSinkPort}`;
  const secrets: Record<string, string> = {
    SLACK_WEBHOOK_URL: Deno.env.get("SLACK_WEBHOOK_URL") || `${sink}/services/local/sink`,
    BENCHWATCH_SLACK_TEST_SINK: sink,
    BENCHWATCH_DASHBOARD_URL: `${cfg.apiUrl}/`,
  };
  const body = Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
  await Deno.writeTextFile(`${cfg.dir}/functions.env`, body, { mode: 0o600 });
}

async function writeEnvFile(cfg: StackConfig, env: StackEnv): Promise<void> {
  const body = "# Written by `npm run local:up`. Local, throwaway keys only.\n" +
    Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
  let current = "";
  try {
    current = await Deno.readTextFile(cfg.envFile);
  } catch { /* first start */ }
  if (current !== body) await Deno.writeTextFile(cfg.envFile, body, { mode: 0o600 });
}

/** Every function's entry point (a folder under supabase/functions with an index.ts). */
export async function functionEntryPoints(root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${root}/supabase/functions`)) {
    if (!e.isDirectory || e.name.startsWith("_") || e.name === "tests") continue;
    const entry = `${root}/supabase/functions/${e.name}/index.ts`;
    if (await exists(entry)) out.push(entry);
  }
  return out.sort();
}

/**
 * Fetches the functions' `npm:` packages into the shared Deno cache with the edge runtime's
 * Deno, as the hosted bundler resolves them, so the workers start without fetching.
 */
export async function cacheFunctionDeps(root: string): Promise<void> {
  const edge = edgeRuntime(root);
  if (!(await exists(edge.deno))) {
    throw new Error(
      `Run \`npm ci\`: the edge runtime's Deno (${edge.deno}, npm alias deno-edge) is missing`,
    );
  }
  const res = await run(
    [edge.deno, "cache", "--quiet", ...edge.flags, ...await functionEntryPoints(root)],
    { env: edge.env, check: false },
  );
  if (res.code !== 0) {
    throw new Error(
      "Check that registry.npmjs.org is reachable: the edge runtime's Deno could not fetch " +
        `the functions' npm packages (import map ${edge.importMap})\n${res.stderr.trim()}`,
    );
  }
}

export async function gatewayPid(cfg: StackConfig): Promise<number | undefined> {
  const pid = await readPid(`${cfg.dir}/gateway.pid`);
  return pid && pidAlive(pid) ? pid : undefined;
}

async function healthy(cfg: StackConfig, keys: StackKeys): Promise<boolean> {
  try {
    const res = await fetch(`${cfg.apiUrl}/functions/v1/health`, {
      headers: { authorization: `Bearer ${keys.anonKey}` },
      signal: AbortSignal.timeout(2000),
    });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Database up, bootstrapped and migrated. Prints progress with `say`: one line per step,
 * and a summary of the migrations (`supabase db push`'s full output with `verbose`; on a
 * failure it is in the thrown error).
 */
export async function upDatabase(
  cfg: StackConfig,
  say: (s: string) => void,
  verbose = false,
): Promise<void> {
  let created = await startCluster(cfg);
  const changed = created ? [] : await changedMigrations(cfg);
  if (changed.length && cfg.profile !== "dev") {
    // A throwaway stack (test, bench, eval, hardening): start it again from the migrations.
    say(
      `database: ${changed.join(", ")} changed since this ${cfg.profile} database applied ` +
        "it, and supabase db push never applies a migration twice: recreating the database",
    );
    await stopCluster(cfg);
    await wipeDatabase(cfg);
    created = await startCluster(cfg);
  } else if (changed.length) {
    say(
      `⚠ ${changed.join(", ")} changed since this database applied it; supabase db push never ` +
        "applies a migration twice (hosted neither), so the database keeps the old definitions. " +
        "Put the change in a new migration (CONTRIBUTING.md, Migrations), or recreate the local " +
        "database: npm run local:down, then delete .local/dev (its runs go with it)",
    );
  }
  say(
    `database: PostgreSQL ${
      created ? "created and started" : "running"
    } on port ${cfg.dbPort} (${cfg.dataDir})`,
  );
  await applyBootstrap(cfg);
  const out = await pushMigrations(cfg);
  if (!changed.length || cfg.profile !== "dev") await recordAppliedMigrations(cfg);
  if (verbose) say(out.split("\n").filter((l) => l.trim()).join("\n"));
  const fresh = out.split("\n").filter((l) => /^Applying migration /.test(l.trim())).length;
  say(`database: ${await appliedMigrations(cfg)} migrations applied (${fresh} new)`);
  const triggers = await applyMigrationEventTriggers(cfg);
  if (verbose && triggers.length) {
    say(`event triggers (supautils stand-in, as supabase_admin): ${triggers.join(", ")}`);
  }
  if (cfg.profile === "test") {
    await applyTestHelpers(cfg);
    say("database: pgTAP helpers installed (schema tests, test stack only)");
  }
  await configureWebhook(cfg, {
    functionsUrl: `${cfg.apiUrl}/functions/v1`,
    secret: await loadWebhookSecret(cfg),
  });
}

/** Builds dashboard/dist if it is missing or stale, and says so. */
export async function upDashboard(cfg: StackConfig, say: (s: string) => void): Promise<void> {
  const b = await ensureDashboardBuilt(cfg.repoRoot);
  if (b.result === "built") {
    say(`dashboard: built dashboard/dist in ${(b.ms / 1000).toFixed(1)} s (${b.reason})`);
  }
}

/**
 * Starts the stack in the background and returns once /functions/v1/health answers 200.
 * With `foreground`, the gateway runs as a child of this process instead, and is returned.
 */
export async function up(
  profile: Profile,
  opts: { say?: (s: string) => void; foreground?: boolean; verbose?: boolean } = {},
): Promise<Stack & { gateway?: Deno.ChildProcess }> {
  const say = opts.say ?? ((s: string) => console.log(s));
  const cfg = loadConfig(profile);
  await Deno.mkdir(cfg.logDir, { recursive: true });
  const keys = await loadKeys(cfg);
  const env = stackEnv(cfg, keys);

  await upDatabase(cfg, say, opts.verbose);
  await upDashboard(cfg, say);

  let gateway: Deno.ChildProcess | undefined;
  const pid = await gatewayPid(cfg);
  if (pid && await healthy(cfg, keys)) {
    say(`gateway: already running (pid ${pid}) on ${cfg.apiUrl}`);
  } else {
    if (pid) await stopGateway(cfg);
    for (const [p, name] of [[cfg.apiPort, "API"], [cfg.slackSinkPort, "SLACK_SINK"]] as const) {
      if (await portOpen(p)) {
        throw new Error(
          `Free port ${p} or set BENCHWATCH_${name}_PORT: another program is listening there`,
        );
      }
    }
    await writeFunctionSecrets(cfg);
    await cacheFunctionDeps(cfg.repoRoot);
    say(`functions' npm packages cached for the edge runtime's Deno (${edgeRuntime().denoDir})`);
    if (opts.foreground) {
      const [exe, ...args] = gatewayArgs(cfg);
      gateway = new Deno.Command(exe, { args, env: gatewayEnv(cfg, keys), stdin: "null" }).spawn();
    } else {
      // setsid detaches the gateway from this terminal, so it outlives `local:up`.
      const child = new Deno.Command("setsid", {
        args: ["-f", "sh", "-c", 'exec "$0" "$@" >>"$BW_LOG" 2>&1', ...gatewayArgs(cfg)],
        env: { ...gatewayEnv(cfg, keys), BW_LOG: `${cfg.logDir}/gateway.log` },
        stdin: "null",
        stdout: "null",
        stderr: "inherit",
      }).spawn();
      await child.status;
    }
    await waitFor(
      `the gateway on ${cfg.apiUrl} (log: ${cfg.logDir}/gateway.log)`,
      () => healthy(cfg, keys),
      60_000,
      150,
    );
    say(`gateway: serving ${cfg.apiUrl}/ (dashboard) and ${cfg.apiUrl}/functions/v1/<name>`);
  }
  await writeEnvFile(cfg, env);
  return { cfg, keys, env, gateway };
}

function gatewayArgs(cfg: StackConfig): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--no-prompt",
    `--config=${cfg.repoRoot}/deno.json`,
    `${cfg.repoRoot}/local/gateway/main.ts`,
  ];
}

function gatewayEnv(cfg: StackConfig, keys: StackKeys): Record<string, string> {
  return {
    ...stackEnv(cfg, keys),
    BENCHWATCH_SLACK_SINK_PORT: String(cfg.slackSinkPort),
    BENCHWATCH_SLACK_SINK_PRINT: cfg.profile === "dev" ? "1" : "0",
    BENCHWATCH_REPO_ROOT: cfg.repoRoot,
    BENCHWATCH_STACK_DIR: cfg.dir,
    BENCHWATCH_API_PORT: String(cfg.apiPort),
    BENCHWATCH_JWT_SECRET: keys.jwtSecret,
  };
}

async function killAndWait(pid: number, what: string): Promise<void> {
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  try {
    await waitFor(`${what} (pid ${pid}) to exit`, () => !pidAlive(pid), 10_000, 50);
  } catch {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
}

async function stopGateway(cfg: StackConfig): Promise<void> {
  const pid = await gatewayPid(cfg);
  if (pid) await killAndWait(pid, "the gateway");
  // Workers whose gateway died without cleaning up.
  try {
    const pids = (await Deno.readTextFile(`${cfg.dir}/workers.pids`)).split("\n").map(Number)
      .filter((n) => n > 0);
    for (const p of pids) if (pidAlive(p)) await killAndWait(p, "a function worker");
    await Deno.remove(`${cfg.dir}/workers.pids`).catch(() => {});
  } catch { /* none recorded */ }
  await Deno.remove(`${cfg.dir}/gateway.pid`).catch(() => {});
}

export async function down(
  profile: Profile,
  say: (s: string) => void = console.log,
): Promise<void> {
  const cfg = loadConfig(profile);
  await stopGateway(cfg);
  await stopCluster(cfg);
  const ports = [cfg.apiPort, cfg.slackSinkPort, cfg.dbPort];
  try {
    await waitFor(`ports ${ports.join(", ")} to be free`, async () => {
      for (const p of ports) if (await portOpen(p)) return false;
      return true;
    }, 15_000);
  } catch {
    const busy = [];
    for (const p of ports) if (await portOpen(p)) busy.push(p);
    const prefix = profile === "dev" ? "BENCHWATCH_" : `BENCHWATCH_${profile.toUpperCase()}_`;
    throw new Error(
      `Free ports ${busy.join(", ")}: another program holds them, e.g. the ${profile} stack of ` +
        `another checkout (stop it there: npm run local:down -- --profile ${profile}), or pick ` +
        `other ports with ${prefix}DB_PORT, ${prefix}API_PORT and ${prefix}SLACK_SINK_PORT`,
    );
  }
  say(`stopped the ${profile} stack (ports ${ports.join(", ")} are free)`);
}

export async function status(profile: Profile): Promise<string> {
  const cfg = loadConfig(profile);
  const db = await clusterRunning(cfg);
  const gw = await gatewayPid(cfg);
  const envReady = await exists(cfg.envFile);
  return [
    `profile:  ${profile}`,
    `database: ${db ? `running on ${cfg.dbPort}` : "stopped"}`,
    `gateway:  ${gw ? `running (pid ${gw}) on ${cfg.apiUrl}` : "stopped"}`,
    `env file: ${envReady ? cfg.envFile : "not written yet"}`,
  ].join("\n");
}
