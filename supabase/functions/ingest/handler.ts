// POST /functions/v1/ingest: CI records one run (the setup guide's JSON plus run metadata)
// or a batch `{ runs: [...] }` of up to 1000, all or nothing. The body is validated with the
// shared zod schemas; everything else (identity, snapshot, regression verdict, alerts,
// the webhook) happens in one SQL call, in one transaction.
//
// Ingest tokens, service role key only:
//   GET /ingest/tokens   POST /ingest/tokens {"name"}   DELETE /ingest/tokens/<id>
// Metric policies, service role key only:
//   GET /ingest/policies   POST /ingest/policies {"metric", "direction", "relative_threshold"?,
//   "absolute_floor"?}

import { classifyCaller, hashToken, type ProjectKeys } from "../_shared/auth.ts";
import { readJsonBody } from "../_shared/body.ts";
import type { Sql } from "../_shared/db.ts";
import { json, preflight, problem } from "../_shared/http.ts";
import { PolicySetSchema, TokenCreateSchema } from "../_shared/api-schemas.ts";
import { formatZodIssues, parseIngestBody } from "../_shared/schemas.ts";
import { sqlProblem } from "../_shared/sql-errors.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

export interface IngestDeps extends ProjectKeys {
  sql: Sql;
  /** Requests per minute per ingest token (BENCHWATCH_INGEST_RATE_LIMIT); 0 turns it off. */
  rateLimitPerMinute?: number;
}

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

async function authorize(req: Request, deps: IngestDeps): Promise<Response | null> {
  const caller = classifyCaller(req, deps);
  switch (caller.kind) {
    case "service_role":
      return null;
    case "none":
      return problem(
        401,
        "missing_credentials",
        "Send the secret (or service role) key or an ingest token: Authorization: Bearer <key>",
      );
    case "unknown_key":
      return problem(
        401,
        "invalid_key",
        "Use a valid key: this API key is not one of the project's keys (check SUPABASE_SECRET_KEY)",
      );
    case "anon":
      return problem(
        403,
        "read_only_key",
        "Permission denied: this is the publishable / anon (read-only) key. CI must send the " +
          "secret key (SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY) or an ingest token " +
          "(benchwatch tokens create)",
      );
    case "authenticated_jwt":
      return problem(
        403,
        "forbidden",
        "Permission denied: user JWTs cannot record runs. CI must send the secret key " +
          "(SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY) or an ingest token " +
          "(benchwatch tokens create)",
      );
    case "token": {
      const limit = Number.isInteger(deps.rateLimitPerMinute)
        ? deps.rateLimitPerMinute!
        : DEFAULT_RATE_LIMIT_PER_MINUTE;
      const [row] = await deps.sql<{ r: { token_id: string | null; retry_after: number } }[]>`
        select benchwatch_private.authenticate_ingest_request(${await hashToken(
        caller.token,
      )}, ${limit}) as r`;
      if (!row?.r.token_id) {
        return problem(
          401,
          "invalid_token",
          "Use a valid key: this ingest token is unknown or revoked (benchwatch tokens list)",
        );
      }
      if (row.r.retry_after > 0) {
        return problem(
          429,
          "rate_limited",
          `Slow down: this ingest token may record ${limit} requests per minute; ` +
            `retry after ${row.r.retry_after} s`,
          { limit_per_minute: limit, retry_after: row.r.retry_after },
          { "retry-after": String(row.r.retry_after) },
        );
      }
      return null;
    }
  }
}

/**
 * The management endpoints (tokens, policies) take only the secret (or service role) key: no
 * credential, or a key that is not the project's, is 401; any other credential is 403.
 */
async function requireSecretKey(
  req: Request,
  deps: IngestDeps,
  what: string,
): Promise<Response | null> {
  const kind = classifyCaller(req, deps).kind;
  if (kind === "service_role") return null;
  await req.body?.cancel();
  const needs = "the secret key (SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY)";
  if (kind === "none") {
    return problem(401, "missing_credentials", `Send ${needs}: Authorization: Bearer <key>`);
  }
  if (kind === "unknown_key") {
    return problem(
      401,
      "invalid_key",
      `Use a valid key: this API key is not one of the project's keys; ${what} needs ${needs}`,
    );
  }
  return problem(403, "forbidden", `Permission denied: ${what} needs ${needs}`);
}

async function tokens(req: Request, deps: IngestDeps, id: string | undefined): Promise<Response> {
  const denied = await requireSecretKey(req, deps, "managing ingest tokens");
  if (denied) return denied;
  const { sql } = deps;
  if (req.method === "GET" && !id) {
    const [r] = await sql`select benchwatch_private.list_ingest_tokens() as v`;
    return json(200, { tokens: r.v });
  }
  if (req.method === "POST" && !id) {
    const body = await readJsonBody(req, { maxBytes: 4096 });
    if (!body.ok) return body.response;
    const parsed = TokenCreateSchema.safeParse(body.value);
    if (!parsed.success) {
      return problem(400, "invalid_body", 'Send {"name": "<what the token is for>"}', {
        issues: formatZodIssues(parsed.error),
      });
    }
    const [r] = await sql`select benchwatch_private.create_ingest_token(${parsed.data.name}) as v`;
    return json(201, r.v);
  }
  if (req.method === "DELETE" && id) {
    if (!/^[0-9a-f-]{36}$/i.test(id)) {
      return problem(400, "invalid_query", "Give the token's id (a uuid)");
    }
    const [r] = await sql`select benchwatch_private.revoke_ingest_token(${id}::uuid) as v`;
    if (!r.v) return problem(404, "token_not_found", `No active ingest token has id ${id}`);
    return json(200, { revoked: id });
  }
  await req.body?.cancel();
  return problem(
    405,
    "method_not_allowed",
    "Use GET or POST /ingest/tokens, DELETE /ingest/tokens/<id>",
  );
}

async function policies(req: Request, deps: IngestDeps): Promise<Response> {
  const denied = await requireSecretKey(req, deps, "managing metric policies");
  if (denied) return denied;
  const { sql } = deps;
  if (req.method === "GET") {
    const [r] = await sql`select benchwatch_private.list_metric_policies() as v`;
    return json(200, { policies: r.v });
  }
  if (req.method === "POST") {
    const body = await readJsonBody(req, { maxBytes: 4096 });
    if (!body.ok) return body.response;
    const parsed = PolicySetSchema.safeParse(body.value);
    if (!parsed.success) {
      return problem(
        400,
        "invalid_body",
        'Send {"metric": "<name>", "direction": "higher" | "lower", "relative_threshold"?, "absolute_floor"?}',
        { issues: formatZodIssues(parsed.error) },
      );
    }
    const p = parsed.data;
    const [r] = await sql`select benchwatch_private.set_metric_policy(${p.metric}, ${p.direction},
      ${p.relative_threshold ?? null}::numeric, ${p.absolute_floor ?? null}::numeric) as v`;
    return json(200, r.v);
  }
  await req.body?.cancel();
  return problem(405, "method_not_allowed", "Use GET or POST /ingest/policies", undefined, {
    allow: "GET, POST, OPTIONS",
  });
}

export function createIngestHandler(deps: IngestDeps): (req: Request) => Promise<Response> {
  return async (req: Request): Promise<Response> => {
    const pre = preflight(req);
    if (pre) return pre;
    const route = new URL(req.url).pathname.match(/\/tokens(?:\/([^/]+))?\/?$/);
    if (route) {
      try {
        return await tokens(req, deps, route[1]);
      } catch (e) {
        return sqlProblem(e, "ingest tokens");
      }
    }
    if (/\/policies\/?$/.test(new URL(req.url).pathname)) {
      try {
        return await policies(req, deps);
      } catch (e) {
        return sqlProblem(e, "ingest policies");
      }
    }
    if (req.method !== "POST") {
      await req.body?.cancel();
      return problem(405, "method_not_allowed", "Use POST to record runs", undefined, {
        allow: "POST, OPTIONS",
      });
    }

    let denied: Response | null;
    try {
      denied = await authorize(req, deps);
    } catch (e) {
      await req.body?.cancel();
      return sqlProblem(e, "ingest: token lookup");
    }
    if (denied) {
      await req.body?.cancel();
      return denied;
    }

    const key = req.headers.get("idempotency-key");
    if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
      await req.body?.cancel();
      return problem(
        400,
        "invalid_idempotency_key",
        "Send an Idempotency-Key of 1 to 255 printable ASCII characters without spaces",
      );
    }

    const body = await readJsonBody(req, { maxBytes: MAX_BODY_BYTES });
    if (!body.ok) return body.response;
    const parsed = parseIngestBody(body.value);
    if (!parsed.success) {
      return problem(400, "invalid_body", "Fix the body: it does not match the ingest schema", {
        issues: formatZodIssues(parsed.error),
      });
    }

    let result: { runs: Record<string, unknown>[] };
    try {
      const [row] = await deps.sql<{ result: { runs: Record<string, unknown>[] } }[]>`
        select benchwatch_private.ingest_runs(${deps.sql.json(parsed.runs)}, ${key}) as result`;
      result = row.result;
    } catch (e) {
      return sqlProblem(e, "ingest");
    }

    const replayed = result.runs.every((r) => r.replayed === true);
    const headers = replayed ? { "idempotent-replayed": "true" } : undefined;
    const isBatch = typeof body.value === "object" && body.value !== null && "runs" in body.value;
    return json(201, isBatch ? result : result.runs[0], headers);
  };
}
