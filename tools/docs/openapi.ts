// Builds docs/openapi.json (OpenAPI 3.1) from the zod schemas the functions validate with,
// so the document cannot drift from the code. `npm run openapi` rewrites it;
// openapi_test.ts fails when the committed file is stale.

import { z } from "zod";
import {
  AlertListQuerySchema,
  ExamplesQuerySchema,
  PolicySetSchema,
  RegressionActionSchema,
  SeriesFilterSchema,
  SnapshotQuerySchema,
  TokenCreateSchema,
  TrendQuerySchema,
  WebhookSetupSchema,
} from "../../supabase/functions/_shared/api-schemas.ts";
import { IngestBodySchema } from "../../supabase/functions/_shared/schemas.ts";

type Json = Record<string, unknown>;

const schema = (s: z.ZodType): Json => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, {
    io: "input",
    unrepresentable: "any",
  }) as Json;
  return rest;
};

/** Query parameters from an object schema's properties. */
function queryParams(s: z.ZodObject, omit: string[] = []): Json[] {
  const js = schema(s) as { properties: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties)
    .filter(([name]) => !omit.includes(name))
    .map(([name, p]) => ({
      name,
      in: "query",
      required: js.required?.includes(name) ?? false,
      schema: p,
      ...(name === "tags" ? { style: "form", explode: true } : {}),
    }));
}

const problemRef = { $ref: "#/components/schemas/Problem" };
const problems = (...codes: number[]): Json =>
  Object.fromEntries(codes.map((c) => [String(c), {
    description: {
      400: "Invalid input",
      401: "Missing or invalid credentials",
      403: "The credential may not do this",
      404: "Not found",
      405: "Method not allowed",
      409: "Conflict",
      413: "Body too large",
      415: "Body is not JSON",
      422: "Idempotency-Key reused with another body",
      429: "Rate limited: wait Retry-After seconds",
      500: "Unexpected server error",
      503:
        "Not configured, schema not applied, or the database unavailable (retry after Retry-After)",
    }[c],
    content: { "application/json": { schema: problemRef } },
  }]));
const ok = (description: string): Json => ({
  description,
  content: { "application/json": { schema: { type: "object" } } },
});

export function buildOpenApi(): Json {
  return {
    openapi: "3.1.0",
    info: {
      title: "benchwatch Edge Functions",
      version: "1",
      description:
        "Generated from the zod schemas in supabase/functions/_shared by tools/docs/openapi.ts. " +
        "See docs/api.md for examples.",
    },
    servers: [{
      url: "{supabaseUrl}/functions/v1",
      variables: { supabaseUrl: { default: "http://127.0.0.1:54321" } },
    }],
    security: [{ bearer: [] }, { apikey: [] }],
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "A read-only key (publishable sb_publishable_... or the legacy anon JWT) " +
            "for reads, a secret key (sb_secret_... or the legacy service role JWT), or an " +
            "ingest token (ingest only).",
        },
        apikey: {
          type: "apiKey",
          in: "header",
          name: "apikey",
          description: "The same keys in the apikey header, where Supabase's docs put the new " +
            "sb_publishable_ / sb_secret_ keys (supabase-js sends both headers).",
        },
        webhook: {
          type: "apiKey",
          in: "header",
          name: "webhook-signature",
          description: "Standard Webhooks HMAC-SHA256 over webhook-id.webhook-timestamp.body.",
        },
      },
      schemas: {
        Problem: {
          type: "object",
          required: ["error", "message"],
          properties: {
            error: { type: "string", description: "Stable machine-readable code" },
            message: { type: "string", description: "What to do, then the detail" },
            details: {},
          },
        },
        IngestBody: schema(IngestBodySchema),
        RegressionAction: schema(RegressionActionSchema),
        TokenCreate: schema(TokenCreateSchema),
        PolicySet: schema(PolicySetSchema),
        WebhookSetup: schema(WebhookSetupSchema),
      },
    },
    paths: {
      "/ingest": {
        post: {
          summary: "Record one run, or a batch of up to 1000 (all or nothing)",
          parameters: [{
            name: "Idempotency-Key",
            in: "header",
            required: false,
            description:
              "Stands for one body: reused with another body it is 422. A run the server already has (same series, run_id, commit_sha, metrics, and created_at if given) is replayed under any key or none.",
            schema: { type: "string", minLength: 1, maxLength: 255 },
          }],
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/IngestBody" } },
            },
          },
          responses: {
            "201": ok(
              "The run's transaction id, snapshot id and per-metric verdict (or `{runs: [...]}`); a run compared with its baseline's examples adds `paired` (per metric and slice) and each compared metric's overall `paired` row",
            ),
            ...problems(400, 401, 403, 405, 409, 413, 415, 422, 429, 500, 503),
          },
        },
      },
      "/ingest/tokens": {
        get: {
          summary: "List ingest tokens (service role); never the tokens themselves",
          responses: {
            "200": ok(
              "`{tokens: [{id, name, token_prefix, created_at, last_used_at, revoked_at}]}`",
            ),
            ...problems(403, 500),
          },
        },
        post: {
          summary: "Create an ingest token (service role); the token is shown once",
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/TokenCreate" } },
            },
          },
          responses: {
            "201": ok("`{id, name, token, token_prefix, created_at}`"),
            ...problems(400, 403, 413, 415, 500),
          },
        },
      },
      "/ingest/policies": {
        get: {
          summary: "List metric policies (service role): exact names and * patterns",
          responses: {
            "200": ok(
              "`{policies: [{metric, direction, relative_threshold, absolute_floor, description, updated_at}]}`",
            ),
            ...problems(403, 500),
          },
        },
        post: {
          summary:
            "Set one metric's policy (service role): its direction, and threshold and floor when given",
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/PolicySet" } },
            },
          },
          responses: {
            "200": ok(
              "`{metric, direction, relative_threshold, absolute_floor, description, updated_at}`",
            ),
            ...problems(400, 403, 413, 415, 500),
          },
        },
      },
      "/ingest/tokens/{id}": {
        delete: {
          summary: "Revoke an ingest token (service role)",
          parameters: [{
            name: "id",
            in: "path",
            required: true,
            schema: { type: "string", format: "uuid" },
          }],
          responses: { "200": ok("`{revoked: id}`"), ...problems(400, 403, 404, 500) },
        },
      },
      "/benchmarks": {
        get: {
          summary: "The dashboard's read API",
          parameters: [
            {
              name: "view",
              in: "query",
              required: false,
              schema: {
                type: "string",
                enum: [
                  "snapshot",
                  "trend",
                  "stability",
                  "filters",
                  "series",
                  "tags",
                  "run",
                  "examples",
                ],
                default: "snapshot",
              },
            },
            ...queryParams(SnapshotQuerySchema, ["view"]),
            ...queryParams(TrendQuerySchema, ["view", ...Object.keys(SeriesFilterSchema.shape)]),
            // view=examples also takes metric, limit and offset (listed above).
            ...queryParams(ExamplesQuerySchema, [
              "view",
              "transaction_id",
              "metric",
              "limit",
              "offset",
            ]),
            {
              name: "transaction_id",
              in: "query",
              required: false,
              schema: { type: "string", format: "uuid" },
            },
          ],
          responses: { "200": ok("The view's JSON"), ...problems(400, 401, 404, 405, 500, 503) },
        },
      },
      "/regressions": {
        get: {
          summary: "The verdict for a commit or run (CI gate), or the alert list",
          parameters: [
            { name: "commit_sha", in: "query", required: false, schema: { type: "string" } },
            {
              name: "transaction_id",
              in: "query",
              required: false,
              schema: { type: "string", format: "uuid" },
            },
            ...queryParams(AlertListQuerySchema),
          ],
          responses: {
            "200": ok(
              "`{verdict, runs}` for a commit or run (a run compared with its baseline's examples carries its `paired` array); `{alerts, count}` otherwise",
            ),
            ...problems(400, 401, 404, 500, 503),
          },
        },
        post: {
          summary: "Pin or unpin a baseline, acknowledge an alert (service role)",
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/RegressionAction" } },
            },
          },
          responses: {
            "200": ok("What changed"),
            ...problems(400, 401, 403, 404, 409, 413, 415, 500, 503),
          },
        },
      },
      "/notify-slack": {
        post: {
          summary: "Called by the database webhook only; delivers due alerts to Slack",
          security: [{ webhook: [] }],
          responses: {
            "200": ok("`{sent, skipped, transient, permanent, deferred}` or `{duplicate: true}`"),
            ...problems(401, 405, 413, 500, 503),
          },
        },
      },
      "/notify-slack/setup": {
        post: {
          summary: "Store the webhook's functions URL and signing secret in vault (service role)",
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/WebhookSetup" } },
            },
          },
          responses: {
            "200": ok("`{configured: true, functions_url}`"),
            ...problems(400, 401, 403, 413, 415, 500),
          },
        },
      },
      "/notify-slack/status": {
        get: {
          summary: "What the webhook and Slack delivery have configured (service role)",
          responses: {
            "200": ok(
              "`{functions_url_set, secret_set, pending_events, failed_events, slack_configured}`",
            ),
            ...problems(401, 403, 500),
          },
        },
      },
      "/health": {
        get: {
          summary: "Runtime, database and schema status",
          responses: { "200": ok("`{status, database, schema}`"), ...problems(401, 405, 503) },
        },
      },
    },
  };
}

export function renderOpenApi(): string {
  return JSON.stringify(buildOpenApi(), null, 2) + "\n";
}

if (import.meta.main) {
  const path = new URL("../../docs/openapi.json", import.meta.url);
  await Deno.writeTextFile(path, renderOpenApi());
  console.log(`wrote ${path.pathname}`);
}
