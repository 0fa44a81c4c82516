// The private PostgreSQL 15 cluster of a local stack: create it, start it with pg_cron
// preloaded, apply the Supabase compatibility bootstrap, and apply the migrations with
// the real Supabase CLI. PostgreSQL refuses to run as root, so as root every server
// command runs as the `postgres` system user.

import type { StackConfig } from "./config.ts";
import { exists, isRoot, pidAlive, portOpen, run, waitFor } from "./proc.ts";

export const PG_BIN = Deno.env.get("BENCHWATCH_PG_BIN") || "/usr/lib/postgresql/15/bin";

function asPostgres(cmd: string[]): string[] {
  // From / so that postgres never needs to enter a checkout it may not be allowed into.
  return isRoot()
    ? ["runuser", "-u", "postgres", "--", "sh", "-c", 'cd / && exec "$@"', "sh", ...cmd]
    : cmd;
}

async function postgresCanUse(dir: string): Promise<boolean> {
  if (!isRoot()) return true;
  const res = await run(["runuser", "-u", "postgres", "--", "test", "-w", dir], { check: false });
  return res.code === 0;
}

/**
 * The folder that holds the cluster. It is `<dir>/db`, unless we are root and the
 * `postgres` user cannot reach the checkout (a clone under /root, say): then the data
 * lives in /var/tmp and `<dir>/db` is a link to it, so the layout stays the same.
 */
async function ensureDbRoot(cfg: StackConfig): Promise<string> {
  const dbRoot = `${cfg.dir}/db`;
  await Deno.mkdir(cfg.dir, { recursive: true });
  if (await exists(dbRoot)) return await Deno.realPath(dbRoot);
  await Deno.mkdir(dbRoot);
  if (isRoot()) {
    await run(["chown", "postgres:postgres", dbRoot]);
    if (!(await postgresCanUse(dbRoot))) {
      await Deno.remove(dbRoot);
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(dbRoot));
      const tag = Array.from(new Uint8Array(digest).slice(0, 6))
        .map((b) => b.toString(16).padStart(2, "0")).join("");
      const target = `/var/tmp/benchwatch-${tag}`;
      // <dir>/db did not exist, so whatever the target holds belongs to a wiped stack.
      await Deno.remove(target, { recursive: true }).catch(() => {});
      await Deno.mkdir(target, { recursive: true });
      await run(["chown", "postgres:postgres", target]);
      await Deno.symlink(target, dbRoot);
    }
  }
  return await Deno.realPath(dbRoot);
}

/**
 * Removes a stopped stack's folder, and the /var/tmp folder its `db` link points to when the
 * cluster had to live there (see ensureDbRoot), so a wiped stack leaves nothing behind.
 */
export async function wipeStackDir(cfg: StackConfig): Promise<void> {
  await wipeDatabase(cfg);
  await Deno.remove(cfg.dir, { recursive: true }).catch(() => {});
}

/** Removes a stopped stack's database (its `db` folder, or the /var/tmp folder it links to). */
export async function wipeDatabase(cfg: StackConfig): Promise<void> {
  const dbRoot = `${cfg.dir}/db`;
  const linked = await Deno.lstat(dbRoot).then((s) => s.isSymlink, () => false);
  if (linked) {
    const target = await Deno.readLink(dbRoot);
    if (target.startsWith("/var/tmp/benchwatch-")) {
      await Deno.remove(target, { recursive: true }).catch(() => {});
    }
  }
  await Deno.remove(dbRoot, { recursive: true }).catch(() => {});
}

/** The data directory as the postgres user must name it: the real path, not through a link. */
async function realDataDir(cfg: StackConfig): Promise<string> {
  try {
    return `${await Deno.realPath(`${cfg.dir}/db`)}/data`;
  } catch {
    return cfg.dataDir;
  }
}

function serverConf(cfg: StackConfig): string {
  return [
    "# Written by local/stack/postgres.ts on every start; edit the script, not this file.",
    `port = ${cfg.dbPort}`,
    "listen_addresses = '127.0.0.1'",
    // TCP only: a socket path under a deep checkout can exceed the 107-byte limit.
    "unix_socket_directories = ''",
    "shared_preload_libraries = 'pg_cron'",
    "cron.database_name = 'postgres'",
    "cron.use_background_workers = on",
    "max_worker_processes = 20",
    "max_connections = 200",
    "shared_buffers = 256MB",
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    "log_min_messages = warning",
    // The bench stack holds up to 10 million runs (several GB with their indexes) and loads
    // them in bulk: give it the memory this machine has, and let the load run without a
    // checkpoint every few seconds. Later lines win over earlier ones in postgresql.conf.
    ...(cfg.profile === "bench"
      ? ["shared_buffers = 2GB", "max_wal_size = 8GB", "checkpoint_timeout = 30min"]
      : []),
    "",
  ].join("\n");
}

export async function clusterRunning(cfg: StackConfig): Promise<boolean> {
  const dataDir = await realDataDir(cfg);
  if (!(await exists(`${dataDir}/PG_VERSION`))) return false;
  const res = await run(asPostgres([`${PG_BIN}/pg_ctl`, "-D", dataDir, "status"]), {
    check: false,
  });
  return res.code === 0;
}

/** Creates the cluster if needed and starts it. Returns true when it created a new one. */
export async function startCluster(cfg: StackConfig): Promise<boolean> {
  const dbRoot = await ensureDbRoot(cfg);
  const dataDir = `${dbRoot}/data`;
  let created = false;
  if (!(await exists(`${dataDir}/PG_VERSION`))) {
    const pwfile = `${dbRoot}/.pwfile`;
    await Deno.writeTextFile(pwfile, "postgres\n");
    if (isRoot()) await run(["chown", "postgres:postgres", pwfile]);
    await run(asPostgres([
      `${PG_BIN}/initdb`,
      "-D",
      dataDir,
      // supabase_admin is the bootstrap superuser, as in supabase/postgres; the
      // compatibility bootstrap creates `postgres` and demotes it.
      "-U",
      "supabase_admin",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      `--pwfile=${pwfile}`,
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
    ]));
    await Deno.remove(pwfile);
    await Deno.writeTextFile(
      `${dataDir}/postgresql.conf`,
      "\ninclude 'benchwatch.conf'\n",
      { append: true },
    );
    created = true;
  }
  if (await clusterRunning(cfg)) return created;

  const confPath = `${dataDir}/benchwatch.conf`;
  await Deno.writeTextFile(confPath, serverConf(cfg));
  if (isRoot()) await run(["chown", "postgres:postgres", confPath]);

  const start = () =>
    run(
      asPostgres([
        `${PG_BIN}/pg_ctl`,
        "-D",
        dataDir,
        "-l",
        `${dbRoot}/postgres.log`,
        "-w",
        "-t",
        "60",
        "start",
      ]),
      { check: false },
    );
  let res = await start();
  // A port in Linux's ephemeral range (32768-60999; the dev stack's 54322, or one set by hand)
  // can be the local port of a client connection, which holds it in TIME_WAIT for 60 s after
  // it closes; PostgreSQL cannot bind it meanwhile although nothing listens there: wait that
  // out, saying so.
  const deadline = Date.now() + 75_000;
  let said = false;
  while (res.code !== 0 && Date.now() < deadline) {
    const log = await Deno.readTextFile(`${dbRoot}/postgres.log`).catch(() => "");
    const held = log.split("\n").slice(-8).some((l) => l.includes("Address already in use"));
    if (!held || await portOpen(cfg.dbPort)) break;
    if (!said) {
      console.log(
        `database: port ${cfg.dbPort} is held by a closing connection (nothing listens on it); ` +
          "waiting up to 75 s for the system to free it",
      );
      said = true;
    }
    await new Promise((r) => setTimeout(r, 2000));
    res = await start();
  }
  if (res.code !== 0) {
    let tail = "";
    try {
      tail = (await Deno.readTextFile(`${dbRoot}/postgres.log`)).split("\n").slice(-15).join("\n");
    } catch { /* no log yet */ }
    const variable = cfg.profile === "dev"
      ? "BENCHWATCH_DB_PORT"
      : `BENCHWATCH_${cfg.profile.toUpperCase()}_DB_PORT`;
    const why = said
      ? `port ${cfg.dbPort} stayed held by closing connections for 75 s (this machine is opening ` +
        "many short connections, e.g. another test run). Retry when it is quieter, or set " +
        `${variable} to a free port below 32768, outside the range the system lends to ` +
        "connections (e.g. 24322)"
      : `is the port taken? Set ${variable} to another one`;
    throw new Error(
      `Could not start PostgreSQL on port ${cfg.dbPort}: ${why}.\n${res.stdout}${res.stderr}\n${tail}`,
    );
  }
  await waitFor("PostgreSQL to accept connections", async () => {
    const r = await run([`${PG_BIN}/pg_isready`, "-h", "127.0.0.1", "-p", String(cfg.dbPort)], {
      check: false,
    });
    return r.code === 0;
  }, 30_000);
  return created;
}

/** pg_ctl stop: "fast" by default; "immediate" is a crash stop (the hardening suite's fault). */
export async function stopCluster(
  cfg: StackConfig,
  mode: "fast" | "immediate" = "fast",
): Promise<void> {
  if (!(await clusterRunning(cfg))) return;
  const dataDir = await realDataDir(cfg);
  const pid = Number((await Deno.readTextFile(`${dataDir}/postmaster.pid`)).split("\n")[0]);
  await run(
    asPostgres([`${PG_BIN}/pg_ctl`, "-D", dataDir, "-m", mode, "-w", "-t", "60", "stop"]),
  );
  // pg_ctl returns once the pid file is gone, a moment before the postmaster exits.
  await waitFor(`PostgreSQL (pid ${pid}) to exit`, () => !pidAlive(pid), 10_000, 20);
}

/**
 * Applies the compatibility bootstrap as supabase_admin. A cluster made before the stack
 * modelled hosted's roles has `postgres` as its superuser and no supabase_admin: it cannot
 * be converted in place, so say how to recreate it.
 */
export async function applyBootstrap(cfg: StackConfig): Promise<void> {
  const probe = await run(["psql", cfg.adminDbUrl, "-X", "-q", "-t", "-c", "select 1"], {
    check: false,
  });
  if (probe.code !== 0) {
    const dbDir = `${cfg.dir}/db`;
    throw new Error(
      /supabase_admin/.test(probe.stderr)
        ? `Recreate the ${cfg.profile} database: it was created before the local stack ` +
          `modelled hosted Supabase's roles (postgres was its superuser). Run: npm run ` +
          `local:down && rm -rf ${dbDir} && npm run local:up (npm start reloads the demo).\n` +
          probe.stderr.trim()
        : `Could not connect to PostgreSQL on port ${cfg.dbPort} as supabase_admin:\n` +
          probe.stderr.trim(),
    );
  }
  const password = decodeURIComponent(new URL(cfg.dbUrl).password);
  await run([
    "psql",
    cfg.adminDbUrl,
    "-X",
    "-q",
    "-v",
    "ON_ERROR_STOP=1",
    "-v",
    `postgres_password=${password}`,
    "-f",
    `${cfg.repoRoot}/local/compat/supabase-compat.sql`,
  ], { env: { PGOPTIONS: "-c client_min_messages=warning" } });
}

/**
 * The `test` profile only: installs the shared pgTAP helpers (the `tests` schema) after the
 * migrations, so any pgTAP file can run alone. Idempotent.
 */
export async function applyTestHelpers(cfg: StackConfig): Promise<void> {
  await run([
    "psql",
    cfg.dbUrl,
    "-X",
    "-q",
    "-v",
    "ON_ERROR_STOP=1",
    "-f",
    `${cfg.repoRoot}/local/stack/test-helpers.sql`,
  ], { env: { PGOPTIONS: "-c client_min_messages=warning" } });
}

/**
 * `supabase db push --db-url`, exactly as a user deploys to hosted Supabase. `projectDir`
 * (default the repo) is the folder whose `supabase/migrations` is pushed.
 */
export async function pushMigrations(
  cfg: StackConfig,
  projectDir = cfg.repoRoot,
): Promise<string> {
  const res = await run([
    `${cfg.repoRoot}/node_modules/.bin/supabase`,
    "db",
    "push",
    "--db-url",
    `${cfg.dbUrl}?sslmode=disable`,
    "--workdir",
    projectDir,
    "--yes",
  ], { env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" } });
  return (res.stderr + res.stdout).trim();
}

/** Each migration file's SHA-256, by file name, under `projectDir`/supabase/migrations. */
async function migrationHashes(projectDir: string): Promise<Record<string, string>> {
  const dir = `${projectDir}/supabase/migrations`;
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".sql")) continue;
    const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(`${dir}/${e.name}`));
    out[e.name] = Array.from(new Uint8Array(digest)).map((b) => b.toString(16).padStart(2, "0"))
      .join("");
  }
  return out;
}

const appliedRecord = (cfg: StackConfig) => `${cfg.dir}/db/applied-migrations.json`;

/** Records the content of the migrations just pushed, next to the cluster they went into. */
export async function recordAppliedMigrations(
  cfg: StackConfig,
  projectDir = cfg.repoRoot,
): Promise<void> {
  await Deno.writeTextFile(
    appliedRecord(cfg),
    JSON.stringify(await migrationHashes(projectDir), null, 2) + "\n",
  );
}

/**
 * The migration files that changed (or went away) after this database applied them.
 * `supabase db push` never applies a version twice, hosted or here, so such a database still
 * runs the old definitions: tests and `npm run schema` on it would read stale SQL.
 */
export async function changedMigrations(
  cfg: StackConfig,
  projectDir = cfg.repoRoot,
): Promise<string[]> {
  let applied: Record<string, string>;
  try {
    applied = JSON.parse(await Deno.readTextFile(appliedRecord(cfg)));
  } catch {
    return [];
  }
  const now = await migrationHashes(projectDir);
  return Object.keys(applied).filter((f) => now[f] !== applied[f]).sort();
}

/** How many migrations the database records as applied (the CLI's own history table). */
export async function appliedMigrations(cfg: StackConfig): Promise<number> {
  const res = await run([
    "psql",
    cfg.dbUrl,
    "-X",
    "-q",
    "-A",
    "-t",
    "-v",
    "ON_ERROR_STOP=1",
    "-c",
    "select count(*) from supabase_migrations.schema_migrations",
  ]);
  return Number(res.stdout.trim());
}

/**
 * The one part of supautils the migrations use: on hosted, supautils lets `postgres` (its
 * privileged role) run CREATE EVENT TRIGGER. Plain PostgreSQL refuses, so a migration's
 * `create event trigger` fails here (the migrations catch that and warn). This stand-in
 * then creates, as supabase_admin, each event trigger the migrations declare, with the
 * event, tags and function of the last migration that declares it.
 */
export async function applyMigrationEventTriggers(
  cfg: StackConfig,
  projectDir = cfg.repoRoot,
): Promise<string[]> {
  const dir = `${projectDir}/supabase/migrations`;
  const files = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name)
    .filter((n) => n.endsWith(".sql")).sort();
  const declared = new Map<string, string>();
  const re =
    /create\s+event\s+trigger\s+([a-z_][a-z0-9_]*)\s+on\s+([a-z_]+)\s+(when\s+tag\s+in\s*\([^)]*\)\s+)?execute\s+(?:function|procedure)\s+([a-z_][a-z0-9_.]*)\s*\(\s*\)/gi;
  for (const f of files) {
    const text = await Deno.readTextFile(`${dir}/${f}`);
    for (const m of text.matchAll(re)) {
      const [, name, event, when, fn] = m;
      declared.set(
        name,
        `drop event trigger if exists ${name};\n` +
          `create event trigger ${name} on ${event} ${when ?? ""}execute function ${fn}();`,
      );
    }
  }
  if (declared.size === 0) return [];
  await run(["psql", cfg.adminDbUrl, "-X", "-q", "-v", "ON_ERROR_STOP=1"], {
    stdin: `begin;\n${[...declared.values()].join("\n")}\ncommit;\n`,
    env: { PGOPTIONS: "-c client_min_messages=warning" },
  });
  return [...declared.keys()];
}

/**
 * Points the database webhook at this stack's notify-slack, as `benchwatch webhook setup`
 * does on a hosted project: the functions URL and signing secret go into vault.
 */
export async function configureWebhook(
  cfg: StackConfig,
  opts: { functionsUrl: string; secret: string },
): Promise<void> {
  await run([
    "psql",
    cfg.dbUrl,
    "-X",
    "-q",
    "-v",
    "ON_ERROR_STOP=1",
    "-v",
    `url=${opts.functionsUrl}`,
    "-v",
    `secret=${opts.secret}`,
  ], {
    stdin: "select benchwatch_private.configure_webhook(:'url', :'secret');\n",
    env: { PGOPTIONS: "-c client_min_messages=warning" },
  });
}
