// `npm run migrations:verify [-- <rev>] [--keep]`: proves that the migrations in the working
// tree build the same database as the migrations at a git revision. It is how the domain
// migrations were checked against the chain they replaced, and how any rewrite of migrations
// that must not change the schema is checked.
//
// Without Docker: two throwaway PostgreSQL clusters (pg_cron can live in one database per
// cluster only), each given the Supabase compatibility bootstrap and then its migrations with
// `supabase db push --db-url` as the demoted `postgres` role, exactly as the local stack does.
// Then, both ways where a diff has a direction:
//   1. `supabase db diff --experimental --from <old> --to <new>` (and back) must print nothing;
//   2. `pg_dump --schema-only` of both, normalized, must be the same;
//   3. catalog facts the CLI's diff is known to drop: owners and ACLs of every schema, table,
//      view, sequence, function and type (the aclitem arrays as stored, NULL included), default
//      privileges, column ACLs, comments, RLS flags, policies, triggers, event triggers and
//      extensions;
//   4. the pg_cron jobs (name, schedule, command, database, user, active);
//   5. every table's rows (`pg_dump --data-only`), i.e. the seed rows;
//   6. `docs/schema/` as `npm run schema` would generate it from each database.
// The default revision is the parent of the last commit that changed supabase/migrations.
// Exits 1 when anything differs, and prints the differences.

import { loadConfig, type StackConfig } from "../../local/stack/config.ts";
import {
  applyBootstrap,
  applyMigrationEventTriggers,
  PG_BIN,
  pushMigrations,
  startCluster,
  stopCluster,
} from "../../local/stack/postgres.ts";
import { freePort, run } from "../../local/stack/proc.ts";
import { generateSchema } from "../docs/schema.ts";

const CLI_ENV = { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" };

/** Schemas that are PostgreSQL's own or record which migrations ran (different by design). */
const SKIP_SCHEMAS = "('pg_catalog', 'information_schema', 'pg_toast', 'supabase_migrations')";

/** Catalog facts, one line each, in a stable order. */
const CATALOG_QUERIES: Record<string, string> = {
  schemas: `
    select n.nspname, pg_catalog.pg_get_userbyid(n.nspowner),
      coalesce(n.nspacl::text, 'default')
    from pg_catalog.pg_namespace n
    where n.nspname not in ${SKIP_SCHEMAS} and n.nspname not like 'pg\\_temp%'
      and n.nspname not like 'pg\\_toast%'
    order by 1`,
  relations: `
    select c.oid::regclass::text, c.relkind, pg_catalog.pg_get_userbyid(c.relowner),
      'rls=' || c.relrowsecurity, 'force_rls=' || c.relforcerowsecurity,
      'populated=' || c.relispopulated, c.relpersistence, coalesce(c.reloptions::text, ''),
      coalesce(c.relacl::text, 'default')
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ${SKIP_SCHEMAS} and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
    order by 1`,
  column_acls: `
    select a.attrelid::regclass::text, a.attname, a.attacl::text
    from pg_catalog.pg_attribute a
    join pg_catalog.pg_class c on c.oid = a.attrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ${SKIP_SCHEMAS} and a.attacl is not null
    order by 1, 2`,
  functions: `
    select p.oid::regprocedure::text, pg_catalog.pg_get_userbyid(p.proowner),
      'secdef=' || p.prosecdef, p.provolatile, coalesce(p.proconfig::text, ''),
      coalesce(p.proacl::text, 'default'),
      pg_catalog.md5(case when p.prokind = 'a' then p.proname
        else pg_catalog.pg_get_functiondef(p.oid) end)
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname not in ${SKIP_SCHEMAS}
    order by 1`,
  types: `
    select t.oid::regtype::text, pg_catalog.pg_get_userbyid(t.typowner), t.typtype,
      coalesce(t.typacl::text, 'default')
    from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
    where n.nspname not in ${SKIP_SCHEMAS} and t.typtype in ('c', 'd', 'e', 'r', 'm')
      and (t.typrelid = 0 or (select c.relkind from pg_catalog.pg_class c
                              where c.oid = t.typrelid) = 'c')
    order by 1`,
  default_privileges: `
    select pg_catalog.pg_get_userbyid(d.defaclrole), coalesce(n.nspname, '-'), d.defaclobjtype,
      (select pg_catalog.string_agg(a::text, ',' order by a::text)
       from pg_catalog.unnest(d.defaclacl) a)
    from pg_catalog.pg_default_acl d
    left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
    order by 1, 2, 3`,
  comments: `
    select pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
    from pg_catalog.pg_description d
    where d.objoid >= 16384
    order by 1`,
  policies: `
    select schemaname, tablename, policyname, permissive, roles::text, cmd,
      coalesce(qual, ''), coalesce(with_check, '')
    from pg_catalog.pg_policies
    order by 1, 2, 3`,
  triggers: `
    select t.tgrelid::regclass::text, t.tgname, t.tgenabled,
      pg_catalog.pg_get_triggerdef(t.oid)
    from pg_catalog.pg_trigger t
    where not t.tgisinternal
    order by 1, 2`,
  event_triggers: `
    select e.evtname, e.evtevent, pg_catalog.pg_get_userbyid(e.evtowner),
      e.evtfoid::regprocedure::text, e.evtenabled, coalesce(e.evttags::text, '')
    from pg_catalog.pg_event_trigger e
    order by 1`,
  extensions: `
    select e.extname, e.extversion, n.nspname, pg_catalog.pg_get_userbyid(e.extowner)
    from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
    order by 1`,
  cron_jobs: `
    select jobname, schedule, command, database, username, active
    from cron.job
    order by jobname`,
};

interface Side {
  name: "old" | "new";
  label: string;
  projectDir: string;
  cfg: StackConfig;
}

async function git(root: string, args: string[]): Promise<string> {
  return (await run(["git", "-C", root, ...args])).stdout.trim();
}

/** The revision whose migrations are the "old" set: the argument, or the default above. */
async function oldRevision(root: string, arg: string | undefined): Promise<string> {
  if (arg) return await git(root, ["rev-parse", "--verify", `${arg}^{commit}`]);
  const last = await git(root, ["log", "-1", "--format=%H", "--", "supabase/migrations"]);
  if (!last) throw new Error("Pass a revision: no commit has changed supabase/migrations");
  return await git(root, ["rev-parse", "--verify", `${last}^`]);
}

/** A project folder holding supabase/config.toml and the migrations of `rev` (or the tree). */
async function projectAt(root: string, dir: string, rev?: string): Promise<void> {
  await Deno.mkdir(`${dir}/supabase/migrations`, { recursive: true });
  await Deno.copyFile(`${root}/supabase/config.toml`, `${dir}/supabase/config.toml`);
  if (rev) {
    const tar = `${dir}/migrations.tar`;
    await run(["git", "-C", root, "archive", "-o", tar, rev, "supabase/migrations"]);
    await run(["tar", "-x", "-f", tar, "-C", dir]);
    await Deno.remove(tar);
    return;
  }
  for await (const e of Deno.readDir(`${root}/supabase/migrations`)) {
    if (e.isFile && e.name.endsWith(".sql")) {
      await Deno.copyFile(
        `${root}/supabase/migrations/${e.name}`,
        `${dir}/supabase/migrations/${e.name}`,
      );
    }
  }
}

function sideConfig(base: string, name: string): StackConfig {
  const test = loadConfig("test");
  const dir = `${base}/${name}`;
  const port = freePort();
  return {
    ...test,
    profile: `migrations-verify-${name}`,
    dir,
    dbPort: port,
    dataDir: `${dir}/db/data`,
    logDir: `${dir}/logs`,
    envFile: `${dir}/env`,
    jwtSecretFile: `${dir}/jwt-secret`,
    dbUrl: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
    adminDbUrl: `postgresql://supabase_admin:postgres@127.0.0.1:${port}/postgres`,
  };
}

async function build(side: Side, say: (s: string) => void): Promise<void> {
  await startCluster(side.cfg);
  await applyBootstrap(side.cfg);
  const out = await pushMigrations(side.cfg, side.projectDir);
  const applied = out.split("\n").filter((l) => /^Applying migration /.test(l.trim())).length;
  const triggers = await applyMigrationEventTriggers(side.cfg, side.projectDir);
  say(
    `${side.name}: ${side.label}: ${applied} migrations applied on port ${side.cfg.dbPort}` +
      (triggers.length ? ` (event triggers: ${triggers.join(", ")})` : ""),
  );
}

async function psqlLines(cfg: StackConfig, sql: string): Promise<string> {
  const res = await run([
    "psql",
    cfg.adminDbUrl,
    "-X",
    "-q",
    "-A",
    "-t",
    "-F",
    " | ",
    "-v",
    "ON_ERROR_STOP=1",
    "-c",
    sql,
  ]);
  return res.stdout;
}

/** pg_dump as supabase_admin, without the migration history and the lines naming versions. */
async function dump(cfg: StackConfig, mode: "--schema-only" | "--data-only"): Promise<string> {
  const res = await run([
    `${PG_BIN}/pg_dump`,
    mode,
    "--no-sync",
    "--exclude-schema=supabase_migrations",
    // cron's jobs are compared on their own, without their ids; its run log is not schema.
    ...(mode === "--data-only" ? ["--exclude-table-data=cron.*"] : []),
    cfg.adminDbUrl,
  ]);
  const lines = res.stdout.split("\n")
    // \restrict carries a random key per run (pg_dump 15.14+).
    .filter((l) => !/^-- Dumped (from|by) /.test(l) && !/^\\(un)?restrict /.test(l));
  return (mode === "--data-only" ? normalizeRows(lines) : lines).join("\n");
}

/**
 * A data dump made comparable: a table is a set, so each COPY block's rows are sorted (an
 * UPDATE in a migration moves a row to the end of its table); and a timestamp of today (a
 * `default now()` filled in while the migrations ran) reads `<migration time>`.
 */
export function normalizeRows(
  lines: string[],
  today = new Date().toISOString().slice(0, 10),
): string[] {
  const now = new RegExp(`${today} \\d\\d:\\d\\d:\\d\\d(\\.\\d+)?\\+00`, "g");
  const out: string[] = [];
  let rows: string[] | undefined;
  for (const l of lines) {
    if (rows) {
      if (l === "\\.") {
        out.push(...rows.sort(), l);
        rows = undefined;
      } else rows.push(l.replace(now, "<migration time>"));
    } else {
      out.push(l);
      if (/^COPY .* FROM stdin;$/.test(l)) rows = [];
    }
  }
  return out;
}

/** `diff -u` of two texts; empty when they are equal. */
async function textDiff(dir: string, name: string, a: string, b: string): Promise<string> {
  const fa = `${dir}/${name}.old`;
  const fb = `${dir}/${name}.new`;
  await Deno.writeTextFile(fa, a);
  await Deno.writeTextFile(fb, b);
  const res = await run(["diff", "-u", fa, fb], { check: false });
  if (res.code > 1) throw new Error(`diff failed: ${res.stderr}`);
  return res.stdout;
}

/** `supabase db diff --experimental --from a --to b`: the statements that turn a into b. */
async function cliDiff(root: string, from: StackConfig, to: StackConfig): Promise<string> {
  const res = await run([
    `${root}/node_modules/.bin/supabase`,
    "db",
    "diff",
    "--experimental",
    "--from",
    `${from.dbUrl}?sslmode=disable`,
    "--to",
    `${to.dbUrl}?sslmode=disable`,
    "--workdir",
    root,
    "--yes",
  ], { env: CLI_ENV, check: false });
  if (res.code !== 0) {
    throw new Error(
      `supabase db diff --from ${from.dbUrl} --to ${to.dbUrl} failed (exit ${res.code}):\n` +
        (res.stderr + res.stdout).trim(),
    );
  }
  return res.stdout.trim();
}

export interface VerifyOptions {
  /** Where the clusters and projects go (wiped first); default `.local/migrations-verify`. */
  base?: string;
  /** Called with both project folders before anything is built (the tests add a migration). */
  prepare?: (oldDir: string, newDir: string) => Promise<void>;
  /** Where the report goes; default stdout. */
  say?: (s: string) => void;
}

export async function verifyMigrations(
  args: string[],
  opts: VerifyOptions = {},
): Promise<number> {
  const keep = args.includes("--keep");
  const rest = args.filter((a) => !a.startsWith("--"));
  const root = loadConfig("test").repoRoot;
  const rev = await oldRevision(root, rest[0]);
  const base = opts.base ?? `${root}/.local/migrations-verify`;
  await Deno.remove(base, { recursive: true }).catch(() => {});
  await Deno.mkdir(base, { recursive: true });
  const say = opts.say ?? ((s: string) => console.log(s));
  const section = (title: string, diff: string): boolean => {
    const empty = diff.trim() === "";
    say(`\n== ${title}: ${empty ? "no difference" : "DIFFERENT"}`);
    if (!empty) say(diff.trimEnd());
    return empty;
  };

  const sides: Side[] = [
    {
      name: "old",
      label: `supabase/migrations at ${rev.slice(0, 12)}`,
      projectDir: `${base}/old-project`,
      cfg: sideConfig(base, "old"),
    },
    {
      name: "new",
      label: "supabase/migrations in the working tree",
      projectDir: `${base}/new-project`,
      cfg: sideConfig(base, "new"),
    },
  ];
  await projectAt(root, sides[0].projectDir, rev);
  await projectAt(root, sides[1].projectDir);
  await opts.prepare?.(sides[0].projectDir, sides[1].projectDir);
  const [oldSide, newSide] = sides;
  let same = true;
  try {
    for (const side of sides) await build(side, say);
    const o = oldSide.cfg;
    const n = newSide.cfg;

    same = section(
      "supabase db diff --experimental --from old --to new",
      await cliDiff(root, o, n),
    ) && same;
    same = section(
      "supabase db diff --experimental --from new --to old",
      await cliDiff(root, n, o),
    ) && same;
    same = section(
      "pg_dump --schema-only (old → new)",
      await textDiff(
        base,
        "schema",
        await dump(o, "--schema-only"),
        await dump(n, "--schema-only"),
      ),
    ) && same;
    for (const [name, sql] of Object.entries(CATALOG_QUERIES)) {
      same = section(
        `catalog: ${name} (old → new)`,
        await textDiff(base, name, await psqlLines(o, sql), await psqlLines(n, sql)),
      ) && same;
    }
    same = section(
      "pg_dump --data-only: every table's rows (old → new)",
      await textDiff(base, "data", await dump(o, "--data-only"), await dump(n, "--data-only")),
    ) && same;
    const render = (m: Map<string, string>) =>
      [...m].map(([rel, text]) => `### ${rel}\n${text}`).join("\n");
    same = section(
      "docs/schema as npm run schema generates it (old → new)",
      await textDiff(
        base,
        "docs-schema",
        render(await generateSchema(root, o.dbUrl)),
        render(await generateSchema(root, n.dbUrl)),
      ),
    ) && same;
  } finally {
    if (!keep) {
      for (const side of sides) await stopCluster(side.cfg).catch(() => {});
      await Deno.remove(base, { recursive: true }).catch(() => {});
    } else {
      say(
        `\nkept: old ${oldSide.cfg.dbUrl}, new ${newSide.cfg.dbUrl} (data in ${base}; ` +
          "stop them with pg_ctl -D <dir>/db/data stop)",
      );
    }
  }
  say(
    same
      ? `\nOK: the working tree's migrations build the same database as ${rev.slice(0, 12)}'s.`
      : `\nDIFFERENT: the working tree's migrations do not build the same database as ${
        rev.slice(0, 12)
      }'s (see above).`,
  );
  return same ? 0 : 1;
}
