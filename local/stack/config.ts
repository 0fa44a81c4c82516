// Where each local stack lives and which ports it uses.
//
// Two profiles share one code path: `dev` is what `npm start` and `npm run local:up`
// serve, `test` is what `npm test` brings up. They never share a data directory or a
// port, so the test suite can wipe its own database without touching the demo one.
// Every default can be overridden from the environment (see docs/architecture.md).

export type Profile = "dev" | "test" | string;

export interface StackConfig {
  profile: Profile;
  repoRoot: string;
  /** Everything this profile writes: data, logs, pids, env. */
  dir: string;
  dbPort: number;
  apiPort: number;
  /** Local Slack capture (the stand-in for hooks.slack.com). */
  slackSinkPort: number;
  dataDir: string;
  logDir: string;
  envFile: string;
  jwtSecretFile: string;
  /** Set when the JWT secret comes from the environment rather than a generated file. */
  jwtSecretFromEnv?: string;
  /** The demoted `postgres` login, as hosted's connection strings give it. */
  dbUrl: string;
  /**
   * The cluster's superuser, `supabase_admin` (initdb's user, as on hosted). Only the
   * compatibility bootstrap and server maintenance use it; never migrations or tests.
   */
  adminDbUrl: string;
  apiUrl: string;
}

/**
 * How the functions run, as the hosted Edge Runtime runs them: on its Deno (the npm alias
 * `deno-edge`, pinned in package.json), resolving imports through the functions' own
 * import map (the file config.toml names as `import_map`, the one `supabase functions
 * deploy` uploads), with Deno fetching `npm:` packages itself into `denoDir` rather than
 * reading the repo's node_modules.
 */
export interface EdgeRuntimeConfig {
  /** The Deno the hosted Edge Runtime is built on (supabase/edge-runtime's deno/Cargo.toml). */
  deno: string;
  importMap: string;
  /** Deno's module cache: shared by every profile, so a restart does not fetch again. */
  denoDir: string;
  /** What every edge Deno process gets in its environment. */
  env: Record<string, string>;
  /** Flags for `run`, `test`, `cache` and `check`. */
  flags: string[];
}

export function edgeRuntime(root = repoRoot()): EdgeRuntimeConfig {
  const baseDir = Deno.env.get("BENCHWATCH_LOCAL_DIR") || `${root}/.local`;
  const denoDir = Deno.env.get("BENCHWATCH_DENO_DIR") || `${baseDir}/deno-cache`;
  return {
    deno: `${root}/node_modules/deno-edge/deno`,
    importMap: `${root}/supabase/functions/import_map.json`,
    denoDir,
    env: {
      DENO_DIR: denoDir,
      // The npm registry's certificate is trusted here only through the system store.
      DENO_TLS_CA_STORE: "system",
      // Never resolve through the repo's package.json / node_modules: nothing of them is uploaded.
      DENO_NO_PACKAGE_JSON: "1",
      DENO_NO_UPDATE_CHECK: "1",
    },
    // `supabase functions deploy` uploads the import map and no Deno config or lock file, so
    // the repo's deno.json (nodeModulesDir "manual") is not read, nor a lock file written.
    flags: ["--no-config", "--no-lock", `--import-map=${root}/supabase/functions/import_map.json`],
  };
}

// The dev stack keeps the Supabase CLI's local ports. The throwaway stacks bind below 32768,
// outside the kernel's ephemeral range (32768-60999 on Linux, 49152-65535 elsewhere): a
// client socket of an earlier run that happened to get one of their ports as its local port
// can sit in TIME_WAIT for a minute, and while it does, that port cannot be bound.
const DEFAULTS: Record<string, { db: number; api: number; sink: number; sub: string }> = {
  dev: { db: 54322, api: 54321, sink: 54323, sub: "" },
  test: { db: 24332, api: 24331, sink: 24333, sub: "test" },
  bench: { db: 24352, api: 24351, sink: 24353, sub: "bench" },
  hardening: { db: 24362, api: 24361, sink: 24363, sub: "hardening" },
  eval: { db: 24372, api: 24371, sink: 24373, sub: "eval" },
};

function envNumber(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`Set ${name} to a TCP port between 1 and 65535: got "${raw}"`);
  }
  return n;
}

export function repoRoot(): string {
  return new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
}

/**
 * Resolves a profile's configuration. `dev` reads BENCHWATCH_DB_PORT, BENCHWATCH_API_PORT,
 * BENCHWATCH_SLACK_SINK_PORT, BENCHWATCH_LOCAL_DIR and BENCHWATCH_JWT_SECRET; `test` reads the
 * same names with BENCHWATCH_TEST_ in place of BENCHWATCH_.
 */
export function loadConfig(profile: Profile): StackConfig {
  const root = repoRoot();
  const d = DEFAULTS[profile] ?? { db: 0, api: 0, sink: 0, sub: profile };
  const prefix = profile === "dev" ? "BENCHWATCH_" : `BENCHWATCH_${profile.toUpperCase()}_`;
  const baseDir = Deno.env.get("BENCHWATCH_LOCAL_DIR") || `${root}/.local`;
  const dir = Deno.env.get(`${prefix}LOCAL_DIR`) ||
    (d.sub ? `${baseDir}/${d.sub}` : baseDir);
  const dbPort = envNumber(`${prefix}DB_PORT`, d.db);
  const apiPort = envNumber(`${prefix}API_PORT`, d.api);
  const slackSinkPort = envNumber(`${prefix}SLACK_SINK_PORT`, d.sink);
  if (!dbPort || !apiPort || !slackSinkPort) {
    throw new Error(
      `Set ${prefix}DB_PORT, ${prefix}API_PORT and ${prefix}SLACK_SINK_PORT: profile "${profile}" has no default ports`,
    );
  }
  if (new Set([dbPort, apiPort, slackSinkPort]).size !== 3) {
    throw new Error(
      `Use three different ports for profile "${profile}": got ${dbPort}, ${apiPort}, ${slackSinkPort}`,
    );
  }
  return {
    profile,
    repoRoot: root,
    dir,
    dbPort,
    apiPort,
    slackSinkPort,
    dataDir: `${dir}/db/data`,
    logDir: `${dir}/logs`,
    envFile: `${dir}/env`,
    jwtSecretFile: `${dir}/jwt-secret`,
    jwtSecretFromEnv: Deno.env.get(`${prefix}JWT_SECRET`) || undefined,
    dbUrl: `postgresql://postgres:postgres@127.0.0.1:${dbPort}/postgres`,
    adminDbUrl: `postgresql://supabase_admin:postgres@127.0.0.1:${dbPort}/postgres`,
    apiUrl: `http://127.0.0.1:${apiPort}`,
  };
}
