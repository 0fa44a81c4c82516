// Test 6: the authorization audit. A generated matrix: every table, view and function in
// public and benchwatch_private (from pg_catalog) × the database roles a Supabase API key
// maps to, trying select / insert / update / delete / execute for real (as that role, with
// its request.jwt.claims, in a transaction that is rolled back); and every HTTP endpoint ×
// every credential. Only the intended cells may succeed.

import { SignJWT } from "jose";
import {
  BAD,
  Checks,
  type Ctx,
  GOOD,
  type HardeningTest,
  mdTable,
  type Outcome,
  post,
  run,
  seriesWithBaseline,
} from "./lib.ts";

const ROLES = ["anon", "authenticated", "service_role"] as const;
type Role = typeof ROLES[number];
type Op = "select" | "insert" | "update" | "delete" | "execute";

/** What the dashboard reads with the anon key (and a signed-in user with theirs). */
const DASHBOARD_READS = new Set([
  "public.benchmark_transactions",
  "public.benchmark_transactions_archive",
  "public.benchmark_snapshots",
  "public.v_latest_benchmarks",
  "public.regression_alerts",
  "public.metric_policies",
  "public.mv_daily_stats",
]);

/** The intended answer: may this role do this to this object? null: either is fine. */
function intended(role: Role, obj: DbObject, op: Op): boolean | null {
  const parent = obj.parent ?? obj.name;
  if (role !== "service_role") {
    // anon and authenticated read what the dashboard needs and nothing else, write nothing,
    // and execute no function (the functions reach SQL with their own connection).
    // Partitions are read through their table, not directly.
    return op === "select" ? DASHBOARD_READS.has(obj.name) : false;
  }
  if (obj.kind === "function") return null; // the service role key is the admin key
  if (obj.schema === "benchwatch_private" && op !== "select") return false; // only through functions
  if (parent === "public.benchmark_transactions" && (op === "insert" || op === "update")) {
    return false; // append-only; runs are recorded through record_run
  }
  return null;
}

interface DbObject {
  schema: string;
  name: string; // schema-qualified
  kind: "table" | "view" | "materialized view" | "function" | "procedure";
  parent?: string; // a partition's table
  args?: number;
  firstColumn?: string;
  rows?: number;
}

type Cell = "yes" | "no" | "n/a";

async function objects(ctx: Ctx): Promise<DbObject[]> {
  const rels = await ctx.sql<
    { schema: string; name: string; relkind: string; parent: string | null; col: string | null }[]
  >`
    select n.nspname as schema, n.nspname || '.' || c.relname as name, c.relkind,
           (select pn.nspname || '.' || pc.relname from pg_inherits i
              join pg_class pc on pc.oid = i.inhparent join pg_namespace pn on pn.oid = pc.relnamespace
             where i.inhrelid = c.oid limit 1) as parent,
           -- A column an update may name: not "generated always" (identity or computed), which
           -- PostgreSQL refuses (428C9) before it checks privileges.
           (select a.attname from pg_attribute a where a.attrelid = c.oid and a.attnum > 0
              and not a.attisdropped and a.attidentity <> 'a' and a.attgenerated = ''
             order by a.attnum limit 1) as col
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('public', 'benchwatch_private') and c.relkind in ('r', 'p', 'v', 'm', 'f')
     order by 2`;
  const out: DbObject[] = [];
  for (const r of rels) {
    const [{ n }] = await ctx.sql.unsafe(`select count(*)::int as n from ${r.name}`).catch(
      () => [{ n: 0 }],
    );
    out.push({
      schema: r.schema,
      name: r.name,
      kind: r.relkind === "v" ? "view" : r.relkind === "m" ? "materialized view" : "table",
      parent: r.parent ?? undefined,
      firstColumn: r.col ?? undefined,
      rows: n,
    });
  }
  const fns = await ctx.sql<{ schema: string; name: string; nargs: number; prokind: string }[]>`
    select n.nspname as schema, n.nspname || '.' || p.proname as name, p.pronargs::int as nargs, p.prokind
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ('public', 'benchwatch_private') and p.prokind in ('f', 'p')
       and p.prorettype <> 'pg_catalog.trigger'::regtype and p.prorettype <> 'pg_catalog.event_trigger'::regtype
     order by 2, 3`;
  for (const f of fns) {
    out.push({
      schema: f.schema,
      name: `${f.name}(${f.nargs ? `${f.nargs} args` : ""})`,
      kind: f.prokind === "p" ? "procedure" : "function",
      args: f.nargs,
    });
  }
  return out;
}

function statement(obj: DbObject, op: Op): string | null {
  const fnName = obj.name.replace(/\(.*$/, "");
  const col = obj.firstColumn ? `"${obj.firstColumn}"` : null;
  switch (op) {
    case "select":
      return obj.kind.includes("function") || obj.kind === "procedure"
        ? null
        : `select 1 from ${obj.name} limit 1`;
    case "insert":
      return obj.kind === "table" ? `insert into ${obj.name} default values` : null;
    case "update":
      return obj.kind === "table" && col ? `update ${obj.name} set ${col} = ${col}` : null;
    case "delete":
      return obj.kind === "table" ? `delete from ${obj.name}` : null;
    case "execute": {
      if (obj.kind !== "function" && obj.kind !== "procedure") return null;
      const args = Array(obj.args).fill("null").join(", ");
      return obj.kind === "procedure" ? `call ${fnName}(${args})` : `select ${fnName}(${args})`;
    }
  }
}

class Rollback extends Error {}

/** Tries one statement as `role`; "yes" unless the privilege system or RLS stopped it. */
async function attempt(ctx: Ctx, role: Role, obj: DbObject, op: Op): Promise<Cell> {
  const stmt = statement(obj, op);
  if (!stmt) return "n/a";
  let cell: Cell = "yes";
  try {
    await ctx.sql.begin(async (tx) => {
      await tx.unsafe(`set local statement_timeout = '5s'`);
      await tx.unsafe(`set local role ${role}`);
      await tx.unsafe(`select set_config('request.jwt.claims', $1, true)`, [
        JSON.stringify({ role, sub: role === "authenticated" ? crypto.randomUUID() : undefined }),
      ]);
      const res = await tx.unsafe(stmt);
      // An update or delete that RLS filtered to nothing, on a table that has rows, did nothing.
      if ((op === "update" || op === "delete") && res.count === 0 && (obj.rows ?? 0) > 0) {
        cell = "no";
      }
      throw new Rollback();
    });
  } catch (e) {
    if (e instanceof Rollback) return cell;
    const code = (e as { code?: string }).code;
    // 42501: insufficient privilege, or a row RLS does not allow.
    return code === "42501" ? "no" : "yes";
  }
  return cell;
}

// --- HTTP ---------------------------------------------------------------------------

// Both kinds of project keys: the legacy JWTs (anon, service_role) in Authorization, and the
// new sb_publishable_ / sb_secret_ keys as supabase-js sends them (apikey and Authorization);
// plus a secret key of another project, a user JWT, and ingest tokens.
type Cred =
  | "none"
  | "anon"
  | "publishable"
  | "authenticated"
  | "service_role"
  | "secret"
  | "foreign_secret"
  | "token"
  | "revoked_token";
const CREDS: Cred[] = [
  "none",
  "anon",
  "publishable",
  "authenticated",
  "service_role",
  "secret",
  "foreign_secret",
  "token",
  "revoked_token",
];
const ADMIN: Cred[] = ["service_role", "secret"];

interface Endpoint {
  method: string;
  path: string;
  body?: unknown;
  allowed: Cred[];
}

function endpoints(): Endpoint[] {
  // Every function checks the caller itself (verify_jwt = false, so the new keys work): any
  // project key reads; a user JWT cannot be verified there, so it reads nothing.
  const readers: Cred[] = ["anon", "publishable", "service_role", "secret"];
  return [
    {
      method: "POST",
      path: "ingest",
      body: () => run(`authz-${crypto.randomUUID().slice(0, 8)}`, "authz", GOOD),
      allowed: [...ADMIN, "token"],
    },
    { method: "GET", path: "ingest/tokens", allowed: ADMIN },
    {
      method: "POST",
      path: "ingest/tokens",
      body: { name: "authz audit" },
      allowed: ADMIN,
    },
    { method: "DELETE", path: `ingest/tokens/${crypto.randomUUID()}`, allowed: ADMIN },
    { method: "GET", path: "benchmarks?view=filters", allowed: readers },
    { method: "GET", path: "benchmarks?view=snapshot", allowed: readers },
    { method: "GET", path: "regressions", allowed: readers },
    {
      method: "POST",
      path: "regressions",
      body: { action: "acknowledge", alert_id: crypto.randomUUID(), by: "authz" },
      allowed: ADMIN,
    },
    { method: "GET", path: "health", allowed: readers },
    {
      method: "POST",
      path: "notify-slack",
      body: {
        type: "SWEEP",
        table: "regression_alerts",
        schema: "public",
        record: null,
        old_record: null,
      },
      allowed: [], // only requests the database signed
    },
    {
      method: "POST",
      path: "notify-slack/setup",
      body: { functions_url: "not a url", secret: "not a secret" }, // rejected after auth: nothing changes
      allowed: ADMIN,
    },
    { method: "GET", path: "notify-slack/status", allowed: ADMIN },
  ];
}

async function httpMatrix(ctx: Ctx, checks: Checks): Promise<{ md: string; cells: number }> {
  const [valid] = await ctx.sql`select benchwatch_private.create_ingest_token('authz valid') as t`;
  const [revoked] = await ctx
    .sql`select benchwatch_private.create_ingest_token('authz revoked') as t`;
  await ctx.sql`select benchwatch_private.revoke_ingest_token(${revoked.t.id}::uuid)`;
  ctx.secrets.set("ingest token (authz)", valid.t.token);
  ctx.secrets.set("revoked ingest token (authz)", revoked.t.token);
  const userJwt = await new SignJWT({ role: "authenticated", sub: crypto.randomUUID() })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt().setExpirationTime("1h")
    .sign(new TextEncoder().encode(ctx.stack.keys.jwtSecret));
  const bearer: Record<Cred, string | null> = {
    none: null,
    anon: ctx.stack.keys.anonKey,
    publishable: ctx.stack.keys.publishableKey,
    authenticated: userJwt,
    service_role: ctx.stack.keys.serviceRoleKey,
    secret: ctx.stack.keys.secretKey,
    foreign_secret: "sb_secret_AAAAAAAAAAAAAAAAAAAAAA_notours0",
    token: valid.t.token,
    revoked_token: revoked.t.token,
  };
  const asSupabaseJs = new Set<Cred>(["publishable", "secret", "foreign_secret"]);
  const rows: string[][] = [];
  let cells = 0;
  for (const ep of endpoints()) {
    const row = [`${ep.method} /functions/v1/${ep.path.replace(/[0-9a-f-]{36}/, "{id}")}`];
    for (const c of CREDS) {
      const body = typeof ep.body === "function" ? (ep.body as () => unknown)() : ep.body;
      const res = await fetch(`${ctx.stack.cfg.apiUrl}/functions/v1/${ep.path}`, {
        method: ep.method,
        headers: {
          ...(bearer[c] ? { authorization: `Bearer ${bearer[c]}` } : {}),
          ...(bearer[c] && asSupabaseJs.has(c) ? { apikey: bearer[c]! } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (ep.path === "ingest/tokens" && ep.method === "POST" && res.status === 201) {
        ctx.secrets.set("ingest token (authz, created over HTTP)", JSON.parse(text).token);
      }
      const allowed = res.status !== 401 && res.status !== 403 && res.status < 500;
      const want = ep.allowed.includes(c);
      cells++;
      checks.that(res.status < 500, `${row[0]} as ${c}: ${res.status}`);
      checks.that(
        allowed === want,
        `${row[0]} as ${c}: ${res.status}, expected ${want ? "allowed" : "denied"}`,
      );
      row.push(`${allowed ? "✅" : "⛔"} ${res.status}${allowed === want ? "" : " ⚠"}`);
    }
    rows.push(row);
  }
  return { md: mdTable(["endpoint", ...CREDS], rows), cells };
}

export const authorization: HardeningTest = {
  name: "authz",
  title:
    "Authorization audit: every role and credential × every table, view, function and endpoint",
  async run(ctx): Promise<Outcome> {
    const checks = new Checks();
    // Rows to act on, so that an update or delete RLS filters out shows up as doing nothing.
    const model = `authz-${crypto.randomUUID().slice(0, 8)}`;
    await seriesWithBaseline(ctx, model);
    await post(ctx, "ingest", run(model, "a2", BAD));

    const objs = await objects(ctx);
    const ops: Op[] = ["select", "insert", "update", "delete", "execute"];
    const sqlRows: string[][] = [];
    const grouped = new Map<string, { row: string[]; count: number }>();
    let tried = 0, allowedCells = 0, unexpected = 0;
    for (const obj of objs) {
      const cells: string[] = [];
      for (const role of ROLES) {
        let letters = "";
        for (const op of ops) {
          const got = await attempt(ctx, role, obj, op);
          if (got === "n/a") continue;
          tried++;
          const want = intended(role, obj, op);
          const ok = want === null || want === (got === "yes");
          if (got === "yes") {
            allowedCells++;
            letters += op === "execute" ? "X" : op[0].toUpperCase();
          }
          if (!ok) {
            unexpected++;
            checks.that(
              false,
              `${role} ${op} ${obj.name}: ${
                got === "yes" ? "allowed" : "denied"
              }, intended the opposite`,
            );
            letters += "⚠";
          }
        }
        cells.push(letters || "—");
      }
      // Partitions of one table are shown as one row when they all answer alike.
      const key = obj.parent ? `${obj.parent} partitions` : obj.name;
      const g = grouped.get(key);
      if (obj.parent && g && g.row.slice(2).join() === cells.join()) {
        g.count++;
        continue;
      }
      const row = [
        obj.parent ? `${obj.name} (partition of ${obj.parent})` : obj.name,
        obj.kind,
        ...cells,
      ];
      grouped.set(key, { row, count: 1 });
      sqlRows.push(row);
    }
    for (const g of grouped.values()) {
      if (g.count > 1) g.row[0] = `${g.row[0]} and ${g.count - 1} more partitions alike`;
    }
    const http = await httpMatrix(ctx, checks);
    const md = `### SQL: roles × objects

Letters are what the role could do: S select, I insert, U update, D delete, X execute;
— nothing. ⚠ marks a cell that differs from the intended policy (none, when the test passed).
Each cell was tried for real as that role with its \`request.jwt.claims\`, then rolled back.
An ingest token, a revoked token and no credential have no database role: they reach SQL
only through the Edge Functions (the HTTP matrix below), and PostgREST maps a request with
no JWT to anon.

Intended: anon and authenticated select only what the dashboard reads
(${[...DASHBOARD_READS].join(", ")}) and nothing else, with no writes and no function
execution; service_role writes no benchwatch_private table directly (only through its
functions) and never inserts into or updates benchmark_transactions (append-only).

${mdTable(["object", "kind", ...ROLES], sqlRows)}

### HTTP: endpoints × credentials

✅ allowed (the request got past authorization), ⛔ denied (401/403); the status follows.
Both kinds of keys: the legacy anon / service_role JWTs (in Authorization) and the new
publishable / secret keys (in apikey and Authorization, as supabase-js sends them); a secret
key acts as the service role key, a publishable key as the anon key. foreign_secret is an
sb_secret_ key of no project here.

${http.md}`;
    return {
      failures: checks.failures,
      markdown: md,
      figures: {
        "objects audited (tables, views, functions)": objs.length,
        "SQL cells tried": tried,
        "SQL cells allowed": allowedCells,
        "HTTP cells tried": http.cells,
        "cells that differ from the intended policy": unexpected +
          checks.failures.filter((f) => f.includes("expected")).length,
      },
    };
  },
};
