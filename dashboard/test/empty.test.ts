// The dashboard on an EMPTY database (npm test runs this before anything is ingested):
// it must say how to push the first run instead of showing empty tables or an error.
// The condition is the read API's: benchmarks?view=filters has no model_version values.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { apiGet, type Browser, collectErrors, launch, requireEnv, screenshot } from "./helpers.ts";

const DASHBOARD_URL = requireEnv("DASHBOARD_URL");

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("an empty database shows the empty state with the push instructions and no console errors", async () => {
  const filters = await apiGet<{ model_version?: string[] }>("benchmarks?view=filters");
  assert.deepEqual(filters.model_version ?? [], [], "this test needs a database with no runs");

  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  await page.goto(DASHBOARD_URL);
  await page.waitForSelector('[data-testid="empty-state"]');
  assert.match(await page.innerText('[data-testid="empty-state"] h2'), /No benchmark runs yet/);
  assert.equal(
    await page.textContent('[data-testid="empty-push-command"]'),
    "npx benchwatch push --input results.json --environment local --commit-sha $(git rev-parse HEAD)",
  );
  const curl = (await page.textContent('[data-testid="empty-curl-command"]')) ?? "";
  assert.ok(
    curl.includes(`${requireEnv("SUPABASE_URL").replace(/\/+$/, "")}/functions/v1/ingest`),
    curl,
  );
  assert.match(curl, /Authorization: Bearer \$SUPABASE_SERVICE_ROLE_KEY/);
  // The empty state is not an error, and every view shows it rather than empty tables.
  assert.equal(await page.locator('[data-testid="error-state"]').count(), 0);
  await screenshot(page, "empty");
  await page.click('[data-testid="tab-trends"]');
  await page.waitForFunction(() => new URL(location.href).searchParams.get("view") === "trends");
  await page.waitForSelector('[data-testid="empty-state"]');
  assert.equal(await page.locator('[data-testid="trend-chart"]').count(), 0);
  assert.deepEqual(errors, [], "no console errors");
  await page.close();
});
