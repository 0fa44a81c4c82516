// notify-slack's handler called directly: only signed, fresh, first-seen requests act.

import assert from "node:assert/strict";
import postgres from "postgres";
import { signWebhook } from "../_shared/webhook.ts";
import { createNotifySlackHandler } from "./handler.ts";

function dbUrl(): string {
  const v = Deno.env.get("SUPABASE_DB_URL");
  if (!v) throw new Error("Set SUPABASE_DB_URL: run through `npm test`");
  return v;
}

Deno.test("notify-slack() rejects unsigned, forged and stale requests with 401", async () => {
  const sql = postgres(dbUrl(), { max: 1, onnotice: () => {} });
  try {
    const [{ secret }] =
      await sql`select benchwatch_private.webhook_config() ->> 'secret' as secret`;
    const fixedNow = Date.parse("2026-11-28T12:00:00Z");
    const h = createNotifySlackHandler({
      sql,
      serviceRoleKey: "service-role-key-for-this-test",
      anonKey: "anon-key-for-this-test",
      slackWebhookUrl: null,
      allowedTestSink: null,
      dashboardUrl: null,
      repositoryUrl: null,
      now: () => fixedNow,
    });
    const body = '{"type":"SWEEP"}';
    const req = (headers: Record<string, string>) =>
      new Request("http://local/notify-slack", { method: "POST", headers, body });
    const ts = fixedNow / 1000;
    const good = await signWebhook({ id: "m1", timestamp: ts, body, secret });

    const unsigned = await h(req({}));
    assert.equal(unsigned.status, 401);
    assert.equal((await unsigned.json()).details.reason, "missing_headers");
    const forged = await h(
      req({ "webhook-id": "m1", "webhook-timestamp": String(ts), "webhook-signature": "v1,AAAA" }),
    );
    assert.equal((await forged.json()).details.reason, "bad_signature");
    const stale = await h(req({
      "webhook-id": "m1",
      "webhook-timestamp": String(ts - 600),
      "webhook-signature": await signWebhook({ id: "m1", timestamp: ts - 600, body, secret }),
    }));
    assert.equal((await stale.json()).details.reason, "stale_timestamp");
    const tampered = await h(
      new Request("http://local/notify-slack", {
        method: "POST",
        headers: { "webhook-id": "m1", "webhook-timestamp": String(ts), "webhook-signature": good },
        body: body.replace("SWEEP", "OTHER"),
      }),
    );
    assert.equal(tampered.status, 401, "a signature over another body does not verify");
  } finally {
    await sql.end();
  }
});
