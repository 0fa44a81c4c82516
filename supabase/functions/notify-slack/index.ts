import { db } from "../_shared/db.ts";
import { createNotifySlackHandler } from "./handler.ts";

const env = (name: string): string | null => Deno.env.get(name) || null;

Deno.serve(createNotifySlackHandler({
  sql: db(),
  serviceRoleKey: Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ?? "",
  anonKey: Deno.env.get("SUPABASE_ANON_KEY") ?? "",
  slackWebhookUrl: env("SLACK_WEBHOOK_URL"),
  allowedTestSink: env("BENCHWATCH_SLACK_TEST_SINK"),
  dashboardUrl: env("BENCHWATCH_DASHBOARD_URL"),
  repositoryUrl: env("BENCHWATCH_REPOSITORY_URL"),
}));
