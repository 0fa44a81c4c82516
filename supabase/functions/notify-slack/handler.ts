// POST /functions/v1/notify-slack: called only by the database webhook (and its pg_cron
// sweeper), signed with Standard Webhooks HMAC-SHA256.
// Service role key only: POST /notify-slack/setup {"functions_url","secret"} stores the
// webhook's target and secret in vault; GET /notify-slack/status says what is configured. It claims the alert events that are
// due, checks each group's shape (_shared/alert-events.ts: a malformed one is a permanent
// failure naming the field), posts one Slack message per run (regressed or recovered), and
// records each outcome on the alert. Delivery is at-least-once; claims (FOR UPDATE SKIP LOCKED with a lease) and
// webhook-id de-duplication keep concurrent or repeated calls from posting twice.

import { WebhookSetupSchema } from "../_shared/api-schemas.ts";
import { classifyCaller, type ProjectKeys } from "../_shared/auth.ts";
import { readJsonBody } from "../_shared/body.ts";
import type { Sql } from "../_shared/db.ts";
import { formatZodIssues } from "../_shared/schemas.ts";
import { json, problem } from "../_shared/http.ts";
import { parseAlertEventGroup } from "../_shared/alert-events.ts";
import { buildSlackMessage, postToSlack, validateSlackUrl } from "../_shared/slack.ts";
import { sqlProblem } from "../_shared/sql-errors.ts";
import { verifyWebhook } from "../_shared/webhook.ts";

export interface NotifySlackDeps extends ProjectKeys {
  sql: Sql;
  slackWebhookUrl: string | null;
  /** Origin of the local Slack capture, the one non-Slack URL allowed. */
  allowedTestSink: string | null;
  dashboardUrl: string | null;
  repositoryUrl: string | null;
  fetch?: typeof fetch;
  now?: () => number;
  slackTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface DeliverySummary {
  sent: number;
  skipped: number;
  transient: number;
  permanent: number;
  deferred: number;
}

const MAX_BODY = 64 * 1024;
const CLAIM_BATCH = 25;
const MAX_ROUNDS = 20;

/** The signing secret lives in vault; cache it briefly to spare a query per call. */
function secretReader(sql: Sql): () => Promise<string | null> {
  let cached: { value: string | null; at: number } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < 30_000) return cached.value;
    const [r] = await sql`select benchwatch_private.webhook_config() ->> 'secret' as secret`;
    cached = { value: r.secret ?? null, at: Date.now() };
    return cached.value;
  };
}

export async function deliverDueAlerts(deps: NotifySlackDeps): Promise<DeliverySummary> {
  const { sql } = deps;
  const summary: DeliverySummary = { sent: 0, skipped: 0, transient: 0, permanent: 0, deferred: 0 };
  const urlCheck = deps.slackWebhookUrl
    ? validateSlackUrl(deps.slackWebhookUrl, { allowedTestSink: deps.allowedTestSink })
    : null;
  const complete = async (
    g: { alert_ids: string[]; kind: "regressed" | "recovered" },
    outcome: string,
    error: string | null,
    status: number | null,
  ) => {
    await sql`select benchwatch_private.complete_alert_events(${g.alert_ids}::uuid[], ${g.kind},
      ${outcome}, ${error}, ${status})`;
  };

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const [r] = await sql<{ groups: unknown[] | null }[]>`
      select benchwatch_private.claim_alert_events(${CLAIM_BATCH}, 60) as groups`;
    const groups = r.groups ?? [];
    if (groups.length === 0) break;
    for (const [i, raw] of groups.entries()) {
      const parsed = parseAlertEventGroup(raw);
      if (!parsed.ok) {
        // Without its kind and alert ids the outcome cannot be recorded on the alerts: the
        // reason goes to the function's log, and the group's lease lapses.
        if (parsed.key) await complete(parsed.key, "permanent", parsed.reason, null);
        else console.error(`notify-slack: ${parsed.reason}`);
        summary.permanent++;
        continue;
      }
      const g = parsed.group;
      if (!deps.slackWebhookUrl) {
        await complete(g, "skipped", "SLACK_WEBHOOK_URL is not set", null);
        summary.skipped++;
        continue;
      }
      if (urlCheck && !urlCheck.ok) {
        await complete(g, "permanent", urlCheck.reason, null);
        summary.permanent++;
        continue;
      }
      const message = buildSlackMessage({
        ...g,
        baseline_model_version: g.baseline_model_version ?? undefined,
        created_at: g.created_at ?? new Date().toISOString(),
        dashboard_url: deps.dashboardUrl,
        repository_url: deps.repositoryUrl,
      });
      const res = await postToSlack(deps.slackWebhookUrl, message, {
        fetch: deps.fetch,
        timeoutMs: deps.slackTimeoutMs,
        sleep: deps.sleep,
      });
      await complete(g, res.outcome, res.reason ?? null, null);
      summary[res.outcome]++;
      if (res.outcome === "transient") {
        // Slack is unwell: leave the rest claimed; their lease lapses and the sweeper retries.
        summary.deferred += groups.length - i - 1;
        return summary;
      }
    }
  }
  return summary;
}

async function admin(req: Request, deps: NotifySlackDeps, action: string): Promise<Response> {
  const caller = classifyCaller(req, deps);
  if (caller.kind !== "service_role") {
    await req.body?.cancel();
    return caller.kind === "none" || caller.kind === "unknown_key"
      ? problem(
        401,
        caller.kind === "none" ? "missing_credentials" : "invalid_key",
        "Send the secret (or service role) key: Authorization: Bearer <key>",
      )
      : problem(
        403,
        "forbidden",
        "Permission denied: webhook setup needs the secret key (SUPABASE_SECRET_KEY or " +
          "SUPABASE_SERVICE_ROLE_KEY)",
      );
  }
  if (action === "status" && req.method === "GET") {
    const [r] = await deps.sql`select benchwatch_private.webhook_status() as v`;
    return json(200, { ...r.v, slack_configured: deps.slackWebhookUrl !== null });
  }
  if (action === "setup" && req.method === "POST") {
    const body = await readJsonBody(req, { maxBytes: 4096 });
    if (!body.ok) return body.response;
    const parsed = WebhookSetupSchema.safeParse(body.value);
    if (!parsed.success) {
      return problem(400, "invalid_body", "Fix the webhook settings", {
        issues: formatZodIssues(parsed.error),
      });
    }
    await deps
      .sql`select benchwatch_private.configure_webhook(${parsed.data.functions_url}, ${parsed.data.secret})`;
    return json(200, { configured: true, functions_url: parsed.data.functions_url });
  }
  await req.body?.cancel();
  return problem(
    405,
    "method_not_allowed",
    "Use POST /notify-slack/setup or GET /notify-slack/status",
  );
}

export function createNotifySlackHandler(
  deps: NotifySlackDeps,
): (req: Request) => Promise<Response> {
  const readSecret = secretReader(deps.sql);
  return async (req: Request): Promise<Response> => {
    const route = new URL(req.url).pathname.match(/\/(setup|status)\/?$/);
    if (route) {
      try {
        return await admin(req, deps, route[1]);
      } catch (e) {
        return sqlProblem(e, "notify-slack admin");
      }
    }
    if (req.method !== "POST") {
      await req.body?.cancel();
      return problem(
        405,
        "method_not_allowed",
        "Use POST: only the database webhook calls notify-slack",
      );
    }
    const raw = await req.text();
    if (raw.length > MAX_BODY) {
      return problem(413, "payload_too_large", "Webhook bodies are small: this is not one");
    }
    try {
      const secret = await readSecret();
      if (!secret) {
        return problem(
          503,
          "webhook_not_configured",
          "Set the webhook secret first: benchwatch webhook setup (vault secret benchwatch_webhook_secret)",
        );
      }
      const check = await verifyWebhook(req.headers, raw, { secret, now: deps.now });
      if (!check.ok) {
        return problem(
          401,
          "invalid_signature",
          `Rejected webhook: ${check.reason.replaceAll("_", " ")}`,
          {
            reason: check.reason,
          },
        );
      }
      const [fresh] = await deps
        .sql`select benchwatch_private.record_webhook_receipt(${check.id}) as fresh`;
      if (!fresh.fresh) return json(200, { duplicate: true });
      return json(200, await deliverDueAlerts(deps));
    } catch (e) {
      return sqlProblem(e, "notify-slack");
    }
  };
}
