import { projectKeysFromEnv } from "../_shared/auth.ts";
import { db } from "../_shared/db.ts";
import { createNotifySlackHandler } from "./handler.ts";

const env = (name: string): string | null => Deno.env.get(name) || null;

Deno.serve(createNotifySlackHandler({
  sql: db(),
  ...projectKeysFromEnv(),
  slackWebhookUrl: env("SLACK_WEBHOOK_URL"),
  allowedTestSink: env("BENCHWATCH_SLACK_TEST_SINK"),
  dashboardUrl: env("BENCHWATCH_DASHBOARD_URL"),
  repositoryUrl: env("BENCHWATCH_REPOSITORY_URL"),
}));
