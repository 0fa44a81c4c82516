// The Examples view in Chromium: a run with per-example scores against its pinned
// baseline. The test records its own two runs through the real ingest path (200 examples in
// two slices; 12 flip to wrong, 2 to right), then checks the slice table against the read
// API, the filters (metric, slice, direction), and that the URL carries the state so a reload
// or a shared link lands on the same thing. Screenshots go to test-artifacts/dashboard/.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import {
  apiGet,
  type Browser,
  collectErrors,
  ingest,
  launch,
  pinBaseline,
  requireEnv,
  screenshot,
} from "./helpers.ts";

const DASHBOARD_URL = requireEnv("DASHBOARD_URL");
const model = `examples-ui-${Math.random().toString(16).slice(2, 8)}`;
let candidate = "";
let browser: Browser;

function run(commit: string, f1: number, right: (k: number) => boolean) {
  return {
    model_version: model,
    model_provider: "openai",
    dataset_version: `examples-ui-set-${model}`,
    prompt_version: "p1",
    environment: "ui-test",
    commit_sha: commit,
    metrics: { f1, latency_ms: 400 },
    examples: Array.from({ length: 200 }, (_, i) => ({
      id: `doc-${String(i + 1).padStart(4, "0")}`,
      slice: i % 2 === 0 ? "invoices" : "receipts",
      scores: { f1: right(i + 1) ? 1 : 0 },
    })),
  };
}

before(async () => {
  const base = await ingest(run("ui-base", 0.895, (k) => k <= 179));
  await pinBaseline(base.transaction_id);
  candidate = (await ingest(run("ui-cand", 0.845, (k) =>
    (k > 12 && k <= 179) || k === 180 || k === 181)))
    .transaction_id;
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

function url(query: string): string {
  const u = new URL(DASHBOARD_URL);
  u.search = query;
  return u.toString();
}

async function open(query: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  await page.goto(url(query));
  await page.waitForSelector('[data-testid="view-examples"]');
  return { page, errors };
}

const flippedIds = (page: Page) =>
  page.$$eval(
    '[data-testid="flipped-row"]',
    (els) => els.map((e) => (e as HTMLElement).dataset.example ?? ""),
  );

test("the Examples tab opens on the newest alert's run, on the examples that broke", async () => {
  const { page, errors } = await open(`?view=examples&model_version=${model}`);
  await page.waitForSelector('[data-testid="flipped-table"]');
  const params = new URL(page.url()).searchParams;
  assert.deepEqual(
    [params.get("run"), params.get("metric"), params.get("change")],
    [candidate, "f1", "worse"],
    "the run that opened f1's alert, worse examples only, in the URL",
  );
  const options = await page.$$eval(
    '[data-testid="examples-run"] option',
    (els) => els.map((e) => (e as HTMLOptionElement).value),
  );
  assert.deepEqual(options, [candidate], "only this test's series, which has a baseline");
  assert.equal((await flippedIds(page)).length, 12);
  await screenshot(page, "examples-pick");
  assert.deepEqual(errors, []);
  await page.close();
});

test("without an alert to start from, the view asks for a run, and picking one puts it in the URL", async () => {
  // This series has a baseline and no alert: its candidate is level with the baseline.
  const quiet = `${model}-quiet`;
  const base = await ingest({ ...run("q-base", 0.895, (k) => k <= 179), model_version: quiet });
  await pinBaseline(base.transaction_id);
  const level = await ingest({ ...run("q-cand", 0.895, (k) => k <= 179), model_version: quiet });
  const { page, errors } = await open(`?view=examples&model_version=${quiet}`);
  await page.waitForSelector('[data-testid="nothing"]');
  const options = await page.$$eval(
    '[data-testid="examples-run"] option',
    (els) => els.map((e) => (e as HTMLOptionElement).value),
  );
  assert.deepEqual(options, ["", level.transaction_id]);
  await page.selectOption('[data-testid="examples-run"]', level.transaction_id);
  await page.waitForSelector('[data-testid="slice-table"]');
  assert.equal(new URL(page.url()).searchParams.get("run"), level.transaction_id);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the slice table shows the paired comparison and q-values as the API has them", async () => {
  const api = await apiGet<{ paired: { slice: string | null; worse: number; q_value: number }[] }>(
    `benchmarks?view=examples&transaction_id=${candidate}`,
  );
  const { page, errors } = await open(`?view=examples&run=${candidate}`);
  await page.waitForSelector('[data-testid="slice-table"]');
  const rows = await page.$$eval('[data-testid="slice-row"]', (els) =>
    els.map((e) => ({
      slice: (e as HTMLElement).dataset.slice,
      q: Number((e as HTMLElement).dataset.q),
      worse: Number(e.querySelector('[data-testid="slice-worse"]')?.textContent),
      p: e.querySelector('[data-testid="slice-p"]')?.textContent,
      verdict: e.querySelector('[data-testid="slice-verdict"]')?.textContent,
    })));
  assert.deepEqual(
    rows.map((r) => [r.slice, r.worse, r.q]),
    api.paired.map((r) => [r.slice ?? "", r.worse, r.q_value]),
  );
  assert.equal(rows[0].p, "0.013", "all examples: 12 worse, 2 better, p = 0.013");
  assert.match(rows[0].verdict ?? "", /significant/);
  assert.match(await page.textContent('[data-testid="flipped-count"]') ?? "", /^14 flipped/);
  await screenshot(page, "examples");
  assert.deepEqual(errors, []);
  await page.close();
});

test("filters narrow the flipped examples, live in the URL, and survive a reload", async () => {
  const { page, errors } = await open(`?view=examples&run=${candidate}`);
  await page.waitForSelector('[data-testid="flipped-table"]');
  await page.selectOption('[data-testid="examples-change"]', "better");
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="flipped-row"]')].every((e) =>
      (e as HTMLElement).dataset.change === "better"
    ) && document.querySelectorAll('[data-testid="flipped-row"]').length > 0
  );
  assert.deepEqual((await flippedIds(page)).sort(), ["doc-0180", "doc-0181"]);
  assert.equal(new URL(page.url()).searchParams.get("change"), "better");

  await page.selectOption('[data-testid="examples-change"]', "worse");
  await page.selectOption('[data-testid="examples-slice"]', "invoices");
  await page.waitForFunction(() =>
    new URL(location.href).searchParams.get("slice") === "invoices" &&
    [...document.querySelectorAll('[data-testid="flipped-row"]')].every((e) =>
      (e as HTMLElement).dataset.slice === "invoices" &&
      (e as HTMLElement).dataset.change === "worse"
    )
  );
  const worseInvoices = await flippedIds(page);
  assert.deepEqual(worseInvoices, [
    "doc-0001",
    "doc-0003",
    "doc-0005",
    "doc-0007",
    "doc-0009",
    "doc-0011",
  ]);
  await screenshot(page, "examples-filtered");

  // The URL is the state: a reload, or the link opened elsewhere, shows the same.
  const link = page.url();
  await page.reload();
  await page.waitForSelector('[data-testid="flipped-table"]');
  assert.deepEqual(await flippedIds(page), worseInvoices);
  assert.equal(
    await page.$eval('[data-testid="examples-slice"]', (e) => (e as HTMLSelectElement).value),
    "invoices",
  );
  const other = await browser.context.newPage();
  await other.goto(link);
  await other.waitForSelector('[data-testid="flipped-table"]');
  assert.deepEqual(await flippedIds(other), worseInvoices);
  await other.close();

  // Picking a slice in the table does the same as the select.
  await page.click('[data-testid="slice-row"][data-slice="receipts"] [data-testid="slice-pick"]');
  await page.waitForFunction(() => new URL(location.href).searchParams.get("slice") === "receipts");
  await page.waitForSelector('[data-testid="flipped-row"][data-slice="receipts"]');
  assert.ok((await flippedIds(page)).length === 6, "ids 2..12 even are receipts");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the Regressions view names the opening run's flips and links to its Examples", async () => {
  const page = await browser.context.newPage();
  const errors = collectErrors(page);
  await page.goto(url(`?view=regressions&model_version=${model}`));
  const note = await page.waitForSelector(
    '[data-testid="alert-row"][data-metric="f1"] [data-testid="alert-paired"]',
  );
  assert.match(await note.textContent() ?? "", /^12 worse, 2 better of 200 · Examples$/);
  await screenshot(page, "regressions-paired");
  await page.click('[data-testid="alert-row"][data-metric="f1"] [data-testid="alert-examples"]');
  await page.waitForSelector('[data-testid="flipped-table"]');
  const params = new URL(page.url()).searchParams;
  assert.deepEqual(
    [params.get("view"), params.get("run"), params.get("metric"), params.get("change")],
    ["examples", candidate, "f1", "worse"],
  );
  assert.equal((await flippedIds(page)).length, 12, "the 12 examples that broke");
  assert.deepEqual(errors, []);
  await page.close();
});
