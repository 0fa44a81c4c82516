// /functions/v1/regressions
//   GET ?commit_sha=<sha> | ?transaction_id=<uuid>   the verdict CI gates on:
//        regressed | ok | no_baseline (404 not_found when no run matches), per-metric detail
//   GET [?model_version&environment&dataset_version&state&since&until&limit]  alert list
//   POST {"action": "pin" | "unpin" | "acknowledge", ...}   service role only

import { type ProjectKeys, requireProjectKey } from "../_shared/auth.ts";
import {
  AlertListQuerySchema,
  queryObject,
  type RegressionAction,
  RegressionActionSchema,
  VerdictQuerySchema,
} from "../_shared/api-schemas.ts";
import { readJsonBody } from "../_shared/body.ts";
import type { Sql } from "../_shared/db.ts";
import { json, jsonText, preflight, problem } from "../_shared/http.ts";
import { formatZodIssues } from "../_shared/schemas.ts";
import { sqlProblem } from "../_shared/sql-errors.ts";

export interface RegressionsDeps extends ProjectKeys {
  sql: Sql;
}

async function get(sql: Sql, url: URL): Promise<Response> {
  const params = queryObject(url.searchParams);
  if ("commit_sha" in params || "transaction_id" in params) {
    const parsed = VerdictQuerySchema.safeParse(params);
    if (!parsed.success) {
      return problem(400, "invalid_query", "Give either commit_sha or transaction_id, alone", {
        issues: formatZodIssues(parsed.error),
      });
    }
    const q = parsed.data;
    const [r] = await sql`
      select benchwatch_private.run_verdicts(
        ${"transaction_id" in q ? q.transaction_id : null}::uuid,
        ${"commit_sha" in q ? q.commit_sha : null}) as v`;
    const v = r.v as { verdict: string };
    if (v.verdict === "not_found") {
      return json(404, {
        ...v,
        error: "not_found",
        message:
          "No run matches: check the commit SHA or transaction id, and that the push succeeded",
      });
    }
    return json(200, v);
  }
  const parsed = AlertListQuerySchema.safeParse(params);
  if (!parsed.success) {
    return problem(400, "invalid_query", "Fix the query string", {
      issues: formatZodIssues(parsed.error),
    });
  }
  // Built by PostgreSQL and sent as its text: a list of 100 alerts is ~150 kB, not worth
  // parsing and serialising again here.
  const [r] = await sql`select benchwatch_private.list_alerts(${sql.json(parsed.data)})::text as v`;
  return jsonText(200, r.v);
}

async function act(sql: Sql, action: RegressionAction): Promise<Response> {
  switch (action.action) {
    case "pin": {
      const [r] = await sql`select public.pin_baseline(${action.transaction_id}::uuid) as id`;
      return json(200, {
        action: "pin",
        baseline_snapshot_id: r.id,
        transaction_id: action.transaction_id,
      });
    }
    case "unpin": {
      const [r] = await sql`
        select public.unpin_baseline(${action.model_version}, ${action.environment},
          ${action.dataset_version ?? null}, ${action.model_provider ?? null},
          ${action.prompt_version ?? null}) as n`;
      return json(200, { action: "unpin", unpinned: r.n });
    }
    case "acknowledge": {
      const [r] = await sql`
        select benchwatch_private.acknowledge_alert(${action.alert_id}::uuid,
          ${action.by ?? "service_role"}) as alert`;
      return json(200, { action: "acknowledge", alert: r.alert });
    }
  }
}

export function createRegressionsHandler(
  deps: RegressionsDeps,
): (req: Request) => Promise<Response> {
  return async (req: Request): Promise<Response> => {
    const pre = preflight(req);
    if (pre) return pre;
    const caller = requireProjectKey(req, deps);
    if (caller instanceof Response) {
      await req.body?.cancel();
      return caller;
    }
    const url = new URL(req.url);
    try {
      if (req.method === "GET") return await get(deps.sql, url);
      if (req.method !== "POST") {
        await req.body?.cancel();
        return problem(
          405,
          "method_not_allowed",
          "Use GET to read regressions, POST to act on them",
          undefined,
          {
            allow: "GET, POST, OPTIONS",
          },
        );
      }
      if (caller.kind !== "service_role") {
        await req.body?.cancel();
        return problem(
          403,
          "read_only_key",
          "Permission denied: this is the publishable / anon (read-only) key. Pinning " +
            "baselines and acknowledging alerts need the secret key (SUPABASE_SECRET_KEY or " +
            "SUPABASE_SERVICE_ROLE_KEY)",
        );
      }
      const body = await readJsonBody(req, { maxBytes: 64 * 1024 });
      if (!body.ok) return body.response;
      const parsed = RegressionActionSchema.safeParse(body.value);
      if (!parsed.success) {
        return problem(
          400,
          "invalid_body",
          'Send {"action": "pin" | "unpin" | "acknowledge", ...}',
          {
            issues: formatZodIssues(parsed.error),
          },
        );
      }
      return await act(deps.sql, parsed.data);
    } catch (e) {
      return sqlProblem(e, `regressions ${req.method}`);
    }
  };
}
