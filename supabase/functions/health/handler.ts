// GET /functions/v1/health: is the function runtime up, can it reach Postgres, and is the
// schema applied? The CLI's `doctor` and the local stack's readiness probe use it, with any
// of the project's keys.

import { type ProjectKeys, requireProjectKey } from "../_shared/auth.ts";
import type { Sql } from "../_shared/db.ts";
import { json, preflight, problem } from "../_shared/http.ts";

export interface HealthDeps extends ProjectKeys {
  sql: Sql;
}

export interface HealthBody {
  status: "ok" | "degraded";
  database: "ok";
  schema: { benchmark_transactions: boolean; benchmark_snapshots: boolean };
}

export function createHealthHandler(deps: HealthDeps): (req: Request) => Promise<Response> {
  return async (req: Request): Promise<Response> => {
    const pre = preflight(req);
    if (pre) return pre;
    const caller = requireProjectKey(req, deps);
    if (caller instanceof Response) {
      await req.body?.cancel();
      return caller;
    }
    if (req.method !== "GET") {
      return problem(405, "method_not_allowed", "Use GET: health takes no body", undefined, {
        allow: "GET, OPTIONS",
      });
    }
    try {
      const [row] = await deps.sql<{ tx: boolean; snap: boolean }[]>`
        select to_regclass('public.benchmark_transactions') is not null as tx,
               to_regclass('public.benchmark_snapshots') is not null as snap`;
      const schema = { benchmark_transactions: row.tx, benchmark_snapshots: row.snap };
      const body: HealthBody = {
        status: row.tx && row.snap ? "ok" : "degraded",
        database: "ok",
        schema,
      };
      return json(200, body);
    } catch (e) {
      return problem(
        503,
        "database_unreachable",
        "Check SUPABASE_DB_URL and that the database is up: the health query failed",
        { reason: (e as Error).message },
      );
    }
  };
}
