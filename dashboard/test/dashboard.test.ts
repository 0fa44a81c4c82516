// Browser tests of the dashboard against the local stack with the demo data loaded
// (DASHBOARD_URL, SUPABASE_URL, SUPABASE_ANON_KEY from .local/env). Expected values come
// from the read API itself, so the tests follow the data instead of hard-coding it; the
// demo's known regression (medgemma-v1.3-rc against medgemma-v1.2 on bills-v3/production)
// is asserted by name.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
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
  serveDist,
} from "./helpers.ts";

const DASHBOARD_URL = requireEnv("DASHBOARD_URL");
const REGRESSED = "medgemma-v1.3-rc|google|bills-v3|extract-v4|production";
const VIEWS = ["snapshot", "trends", "regressions", "stability", "models", "examples"] as const;

interface SnapshotApi {
  series: {
    series: Record<string, string>;
    status: string;
    metrics: { metric: string; status: string; relative_change: number | null }[];
  }[];
}
interface TrendApi {
  baseline: { value: number } | null;
  alerts: { opened_value: number; opened_transaction_id: string }[];
  points: { value: number; commit_sha: string; transaction_id: string }[];
}

function url(query = ""): string {
  const u = new URL(DASHBOARD_URL);
  u.search = query;
  return u.toString();
}

function rowSeries(page: Page): Promise<string[]> {
  return page.$$eval(
    '[data-testid="snapshot-row"]',
    (els) => els.map((e) => (e as HTMLElement).dataset.series ?? ""),
  );
}

/** Colour distance between an RGBA sample and a #rrggbb colour. */
function near(px: number[], hex: string, tolerance = 60): boolean {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return Math.abs(px[0] - r) + Math.abs(px[1] - g) + Math.abs(px[2] - b) <= tolerance &&
    px[3] > 200;
}

type Rect = { x: number; y: number; w: number; h: number };
const intersects = (a: Rect, b: Rect): boolean =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * The scatter's labels as drawn: no visible label overlaps another label or a point, each
 * stays inside the chart, and every point keeps a hover title with its full name. The test
 * stack's data crowds the chart (the CLI tests record many `local` series on one spot), so
 * this is checked where overlaps would happen.
 */
async function assertScatterReadable(page: Page, axis: string): Promise<void> {
  const drawn = await page.$eval('[data-testid="models-scatter"]', (svgEl) => {
    // No named helpers in here (see the trend test): each rectangle is spelled out.
    const c = svgEl.getBoundingClientRect();
    return {
      chart: { x: c.x, y: c.y, w: c.width, h: c.height },
      labels: Array.from(svgEl.querySelectorAll<SVGTextElement>(".point-label"))
        .filter((t) =>
          getComputedStyle(t).display !== "none" && t.getAttribute("display") !== "none"
        )
        .map((t) => {
          const r = t.getBoundingClientRect();
          return { text: t.textContent ?? "", box: { x: r.x, y: r.y, w: r.width, h: r.height } };
        }),
      points: Array.from(svgEl.querySelectorAll('[data-testid="scatter-point"]')).map((g) => {
        const r = g.querySelector("circle")!.getBoundingClientRect();
        return {
          model: (g as SVGGElement).dataset.model ?? "",
          title: g.querySelector(":scope > title")?.textContent ?? "",
          box: { x: r.x, y: r.y, w: r.width, h: r.height },
        };
      }),
    };
  });
  assert.ok(drawn.labels.length > 0, `${axis}: some labels are shown`);
  let crowded = 0;
  for (const [i, a] of drawn.points.entries()) {
    for (const b of drawn.points.slice(i + 1)) if (intersects(a.box, b.box)) crowded++;
  }
  assert.ok(
    crowded > 0,
    `${axis}: the data puts points on top of each other (else this proves nothing)`,
  );
  for (const [i, a] of drawn.labels.entries()) {
    const c = drawn.chart;
    assert.ok(
      a.box.x >= c.x && a.box.y >= c.y && a.box.x + a.box.w <= c.x + c.w &&
        a.box.y + a.box.h <= c.y + c.h,
      `${axis}: label "${a.text}" stays inside the chart`,
    );
    for (const b of drawn.labels.slice(i + 1)) {
      assert.ok(!intersects(a.box, b.box), `${axis}: labels "${a.text}" and "${b.text}" overlap`);
    }
    for (const p of drawn.points) {
      assert.ok(!intersects(a.box, p.box), `${axis}: label "${a.text}" covers a ${p.model} point`);
    }
  }
  for (const p of drawn.points) {
    assert.ok(p.title.startsWith(`${p.model} (`), `${axis}: ${p.model}'s point has a hover title`);
  }
}

describe("dashboard with demo data", () => {
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    // Beside the demo data, what some tests need whatever else ran before this file: three
    // models on one eval set with no baseline pinned and the same latest scores, so the
    // snapshot has series without a baseline and the scatter has points on top of each other.
    const tag = Math.random().toString(16).slice(2, 8);
    await ingest({
      runs: ["a", "b", "c"].map((m) => ({
        model_version: `dash-fixture-${tag}-${m}`,
        model_provider: "openai",
        dataset_version: "dash-fixture-set",
        prompt_version: "p1",
        environment: "dash-test",
        commit_sha: `dash${tag}`,
        metrics: { f1: 0.9, latency_ms: 412, analysis_cost: 0.0042 },
      })),
    });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  async function open(query = ""): Promise<void> {
    page = await browser.context.newPage();
    errors = collectErrors(page);
    await page.goto(url(query));
  }

  async function done(): Promise<void> {
    assert.deepEqual(errors, [], "no console errors");
    await page.close();
  }

  test("the snapshot shows every series and the demo regression", async () => {
    const api = await apiGet<SnapshotApi>("benchmarks?view=snapshot");
    await open();
    await page.waitForSelector('[data-testid="snapshot-row"]');
    assert.equal(
      (await rowSeries(page)).length,
      api.series.length,
      "one row per series in the API's snapshot",
    );

    const row = page.locator(`[data-testid="snapshot-row"][data-series="${REGRESSED}"]`);
    assert.equal(await row.getAttribute("data-status"), "regressed");
    assert.equal(await row.locator('[data-testid="series-status"]').textContent(), "▼ Regressed");
    assert.equal(
      await row.locator('[data-testid="baseline-badge"]').innerText(),
      "Scope baseline: medgemma-v1.2",
    );
    const f1 = row.locator('[data-testid="metric-row"][data-metric="f1"]');
    assert.equal(await f1.getAttribute("data-status"), "regression");
    assert.match(await f1.locator('[data-testid="metric-status"]').innerText(), /Regression/);
    const apiF1 = api.series.find((s) =>
      Object.values(s.series).length &&
      `${s.series.model_version}|${s.series.model_provider}|${s.series.dataset_version}|${s.series.prompt_version}|${s.series.environment}` ===
        REGRESSED
    )!.metrics.find((m) => m.metric === "f1")!;
    assert.equal(
      await f1.locator('[data-testid="metric-delta"]').innerText(),
      `${(apiF1.relative_change! * 100).toFixed(2)}%`,
    );
    assert.match(await row.locator('[data-testid="commit"]').innerText(), /^[0-9a-f]{7}$/);
    assert.equal(await row.locator('[data-testid="branch"]').innerText(), "develop");
    assert.match(
      await row.locator('[data-testid="last-run"]').innerText(),
      /^Last run \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/,
    );
    // Regressed series come first, so the problem is the first thing on the page.
    assert.equal(
      await page.locator('[data-testid="snapshot-row"]').first().getAttribute("data-status"),
      "regressed",
    );
    await done();
  });

  test("the snapshot gives each series one status badge, and a baseline chip only when it says more", async () => {
    const api = await apiGet<SnapshotApi>("benchmarks?view=snapshot");
    assert.ok(
      api.series.some((s) => s.status === "no_baseline"),
      "the test data has a series without a baseline (this file records some)",
    );
    await open();
    await page.waitForSelector('[data-testid="snapshot-row"]');
    const heads = await page.$$eval('[data-testid="snapshot-row"]', (els) =>
      els.map((e) => ({
        series: (e as HTMLElement).dataset.series,
        status: (e as HTMLElement).dataset.status,
        badges: Array.from(e.querySelectorAll(".series-head .badge")).map((b) =>
          (b as HTMLElement).innerText.replace(/\s+/g, " ").trim()
        ),
        chips: Array.from(e.querySelectorAll(".series-head .chip")).map((b) =>
          (b as HTMLElement).innerText.trim()
        ),
      })));
    assert.equal(heads.length, api.series.length);
    for (const h of heads) {
      assert.equal(h.badges.length, 1, `${h.series}: one status badge, got ${h.badges.join(", ")}`);
      const texts = [...h.badges, ...h.chips].map((t) => t.replace(/^[▼●▲] /, ""));
      assert.equal(
        new Set(texts).size,
        texts.length,
        `${h.series}: no badge repeats another (${texts.join(" | ")})`,
      );
      if (h.status === "no_baseline") {
        assert.deepEqual(texts, ["No baseline"], `${h.series}: says "No baseline" once`);
      }
    }
    await done();
  });

  test("a metric with no direction shows as Direction unknown, with a ? for its arrow, and its trend says so", async () => {
    // A series of its own, recorded through the real ingest path with the service key.
    const model = `dash-no-direction-${Date.now().toString(36)}`;
    const ingest = async (commit: string, mystery: number) => {
      const res = await fetch(`${requireEnv("SUPABASE_URL")}/functions/v1/ingest`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${requireEnv("SUPABASE_SERVICE_ROLE_KEY")}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          model_version: model,
          model_provider: "openai",
          dataset_version: model,
          prompt_version: "p1",
          environment: "local",
          commit_sha: commit,
          metrics: { f1: 0.9, dash_mystery: mystery },
        }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as { transaction_id: string };
    };
    const first = await ingest("dash-nd-1", 1);
    await pinBaseline(first.transaction_id);
    await ingest("dash-nd-2", 0.1);

    await open(`model_version=${model}`);
    const row = page.locator('[data-testid="metric-row"][data-metric="dash_mystery"]');
    await row.waitFor();
    assert.equal(await row.getAttribute("data-status"), "direction_unknown");
    assert.match(
      await row.locator('[data-testid="metric-status"]').innerText(),
      /^▲\s*Direction unknown$/,
      "a warning badge that says what it is",
    );
    assert.equal((await row.locator(".dir").innerText()).trim(), "?");
    assert.match((await row.locator(".dir").getAttribute("title"))!, /policy set dash_mystery/);
    assert.match(
      await row.locator('[data-testid="metric-delta"]').getAttribute("class") ?? "",
      /delta-neutral/,
      "a fall of a metric with no direction is neither good nor bad",
    );
    const f1 = page.locator('[data-testid="metric-row"][data-metric="f1"] .dir');
    assert.equal((await f1.innerText()).trim(), "↑", "a metric with a direction keeps its arrow");

    await page.goto(
      url(
        `view=trends&series=${
          encodeURIComponent(`${model}|openai|${model}|p1|local`)
        }&metric=dash_mystery`,
      ),
    );
    await page.waitForSelector('[data-testid="trend-chart"]');
    assert.match(await page.innerText(".panel-header p"), /dash_mystery of .*no direction/);
    await done();
  });

  test("every view loads from its tab, by mouse and by arrow keys, and is screenshotted", async () => {
    await open();
    await page.waitForSelector('[data-testid="view-snapshot"]');
    await screenshot(page, "snapshot");
    for (const view of VIEWS.slice(1)) {
      await page.click(`[data-testid="tab-${view}"]`);
      await page.waitForSelector(`[data-testid="view-${view}"]`);
      assert.equal(new URL(page.url()).searchParams.get("view"), view);
      assert.equal(await page.getAttribute(`[data-testid="tab-${view}"]`, "aria-selected"), "true");
      if (view === "trends") await page.waitForSelector('[data-testid="trend-chart"] canvas');
      if (view === "regressions") {
        assert.ok((await page.locator('[data-testid="alert-row"]').count()) > 0, "alerts listed");
      }
      if (view === "stability") {
        assert.ok(
          (await page.locator('[data-testid="stability-env"][data-environment="production"]')
            .count()) === 1,
          "production card",
        );
        assert.ok(
          (await page.locator('[data-testid="cv"]').count()) > 0,
          "coefficient of variation shown",
        );
      }
      if (view === "models") {
        assert.ok(
          (await page.locator('[data-testid="scatter-point"]').count()) > 0,
          "scatter drawn",
        );
        for (const axis of ["latency", "cost"]) {
          await page.selectOption('[data-testid="models-x"]', axis);
          await page.waitForSelector(`[data-testid="models-scatter"][data-x="${axis}"]`);
          await assertScatterReadable(page, axis);
          if (axis === "latency") await screenshot(page, "models-latency");
        }
      }
      await screenshot(page, view);
    }
    // Keyboard: arrows move between tabs (wrapping), Home goes to the first.
    await page.focus('[data-testid="tab-examples"]');
    await page.keyboard.press("ArrowRight");
    await page.waitForSelector('[data-testid="view-snapshot"]');
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute("data-testid")),
      "tab-snapshot",
    );
    await page.keyboard.press("ArrowRight");
    await page.waitForSelector('[data-testid="view-trends"]');
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute("data-testid")),
      "tab-trends",
    );
    await page.keyboard.press("Home");
    await page.waitForSelector('[data-testid="view-snapshot"]');
    assert.equal(new URL(page.url()).searchParams.get("view"), null);
    await done();
  });

  test("changing a filter changes the rows and the URL, and reloading that URL restores both", async () => {
    const staging = await apiGet<SnapshotApi>("benchmarks?view=snapshot&environment=staging");
    assert.ok(staging.series.length > 0, "the demo has staging runs");
    await open();
    await page.waitForSelector('[data-testid="snapshot-row"]');
    const before = await rowSeries(page);
    await page.selectOption('[data-testid="filter-environment"]', "staging");
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="snapshot-row"]').length === n,
      staging.series.length,
    );
    const rows = await rowSeries(page);
    assert.notDeepEqual(rows, before);
    assert.ok(rows.every((s) => s.endsWith("|staging")), `only staging rows: ${rows.join(", ")}`);
    assert.equal(new URL(page.url()).searchParams.get("environment"), "staging");

    await page.reload();
    await page.waitForSelector('[data-testid="snapshot-row"]');
    assert.deepEqual(await rowSeries(page), rows);
    assert.equal(await page.inputValue('[data-testid="filter-environment"]'), "staging");

    // The same on another view: the view and its filter both survive a reload.
    await page.click('[data-testid="tab-regressions"]');
    await page.waitForSelector('[data-testid="view-regressions"]');
    await page.selectOption('[data-testid="filter-environment"]', "");
    await page.selectOption('[data-testid="filter-model_version"]', "medgemma-v1.3-rc");
    await page.waitForFunction(() =>
      new URL(location.href).searchParams.get("model_version") === "medgemma-v1.3-rc"
    );
    await page.waitForSelector('[data-testid="alert-row"]');
    await page.reload();
    await page.waitForSelector('[data-testid="alert-row"]');
    assert.equal(
      await page.getAttribute('[data-testid="tab-regressions"]', "aria-selected"),
      "true",
    );
    const models = await page.$$eval(
      '[data-testid="alert-row"]',
      (els) => els.map((e) => (e as HTMLElement).dataset.model),
    );
    assert.ok(
      models.length > 0 && models.every((m) => m === "medgemma-v1.3-rc"),
      `only medgemma-v1.3-rc alerts: ${models.join(", ")}`,
    );
    // Back goes to the previous filter state.
    await page.goBack();
    await page.waitForFunction(() => !new URL(location.href).searchParams.has("model_version"));
    await done();
  });

  test("filters that match nothing say so and offer to clear them", async () => {
    await open("model_version=claude-3.5-haiku&environment=production");
    await page.waitForSelector('[data-testid="no-match"]');
    assert.match(await page.innerText('[data-testid="no-match"]'), /No series match these filters/);
    await page.click('[data-testid="clear-filters-nomatch"]');
    await page.waitForSelector('[data-testid="snapshot-row"]');
    assert.equal(new URL(page.url()).search, "");
    await done();
  });

  test("the trend chart draws the baseline and the regression marker, with hover details", async () => {
    const [mv, mp, dv, pv, env] = REGRESSED.split("|");
    const api = await apiGet<TrendApi>(
      `benchmarks?view=trend&model_version=${mv}&model_provider=${mp}&dataset_version=${dv}&prompt_version=${pv}&environment=${env}&metric=f1`,
    );
    assert.ok(api.baseline, "the regressed series has a baseline");
    assert.ok(api.alerts.length > 0, "the regressed series has an f1 alert");
    await open(`view=trends&series=${encodeURIComponent(REGRESSED)}&metric=f1`);
    const chart = page.locator('[data-testid="trend-chart"]');
    await page.waitForSelector('[data-testid="trend-chart"][data-markers]');

    assert.equal(Number(await chart.getAttribute("data-baseline")), api.baseline.value);
    assert.equal(Number(await chart.getAttribute("data-points")), api.points.length);
    const markers = JSON.parse((await chart.getAttribute("data-markers"))!) as {
      value: number;
      x: number;
      y: number;
    }[];
    assert.deepEqual(
      markers.map((m) => m.value).sort(),
      api.alerts.map((a) => a.opened_value).sort(),
    );
    assert.equal(
      Number(await page.getAttribute('[data-testid="trend-baseline"]', "data-value")),
      api.baseline.value,
    );
    assert.equal(await page.locator('[data-testid="trend-marker"]').count(), api.alerts.length);

    // The pixels: the dashed baseline row holds baseline-coloured pixels across the plot,
    // and the marker's centre is marker-coloured.
    const baselineY = Number(await chart.getAttribute("data-baseline-y"));
    const left = Number(await chart.getAttribute("data-plot-left"));
    const width = Number(await chart.getAttribute("data-plot-width"));
    const sample = await page.evaluate(({ y, left, width, markers }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(
        '[data-testid="trend-chart"] canvas',
      )!;
      const ctx = canvas.getContext("2d")!;
      // No named helpers in here: tsx would wrap them in a __name() the page does not have.
      return {
        row: Array.from(ctx.getImageData(left, y - 1, width, 3).data),
        marks: markers.map((m) => Array.from(ctx.getImageData(m.x, m.y, 1, 1).data)),
      };
    }, { y: baselineY, left, width, markers });
    let hits = 0;
    for (let x = 0; x < width; x++) {
      if (
        [0, 1, 2].some((r) =>
          near(sample.row.slice((r * width + x) * 4, (r * width + x) * 4 + 4), "#b45309")
        )
      ) hits++;
    }
    assert.ok(
      hits > width * 0.3,
      `the baseline is drawn across the plot (${hits} of ${width} columns)`,
    );
    for (const px of sample.marks) {
      assert.ok(near(px, "#c0152f"), `the regression marker is drawn: rgba(${px.join(",")})`);
    }

    // Hover over the marker: the tooltip gives the run's value and commit.
    const box = (await page.locator('[data-testid="trend-chart"] canvas').boundingBox())!;
    const ratio = await page.evaluate(() => devicePixelRatio);
    // 2 px inside: the latest run sits on the plot's right edge, which uPlot counts as outside.
    await page.mouse.move(box.x + markers[0].x / ratio - 2, box.y + markers[0].y / ratio, {
      steps: 4,
    });
    await page.waitForSelector('[data-testid="trend-tooltip"]:not([hidden])');
    const opened = api.points.find((p) =>
      p.transaction_id === api.alerts[0].opened_transaction_id
    )!;
    assert.equal(await page.innerText('[data-testid="tooltip-value"]'), String(opened.value));
    assert.equal(
      await page.innerText('[data-testid="tooltip-commit"]'),
      opened.commit_sha.slice(0, 7),
    );

    // Daily resolution comes from the API and is what the chart draws.
    await page.selectOption('[data-testid="trend-res"]', "daily");
    await page.waitForSelector('[data-testid="trend-chart"][data-resolution="daily"]');
    assert.equal(new URL(page.url()).searchParams.get("res"), "daily");
    assert.equal(
      await page.getAttribute('[data-testid="trend-resolution"]', "data-resolution"),
      "daily",
    );
    await screenshot(page, "trends-daily");
    await done();
  });

  test("an unreachable API shows the error state with the failing URL and the guide's checks", async () => {
    // A port that was just free and is closed again: a real refused connection.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const deadUrl = `http://127.0.0.1:${closedPort}`;
    const server = await serveDist({
      SUPABASE_URL: deadUrl,
      SUPABASE_ANON_KEY: requireEnv("SUPABASE_ANON_KEY"),
    });
    try {
      page = await browser.context.newPage();
      errors = collectErrors(page);
      await page.goto(server.url);
      await page.waitForSelector('[data-testid="error-state"]');
      assert.match(await page.innerText('[data-testid="error-state"] h2'), /Cannot reach Supabase/);
      assert.ok(
        (await page.innerText('[data-testid="error-url"]')).startsWith(
          `${deadUrl}/functions/v1/benchmarks?view=`,
        ),
      );
      const checks = await page.innerText('[data-testid="error-checks"]');
      assert.match(checks, /SUPABASE_URL is set, uses https and has no trailing slash/);
      assert.match(checks, /anon key/);
      assert.match(checks, /supabase functions deploy/);
      assert.match(checks, /SELECT COUNT\(\*\) FROM benchmark_snapshots WHERE is_active = TRUE;/);
      await screenshot(page, "error");
      // The browser itself logs the refused connections; nothing else may be logged.
      const unexpected = errors.filter((e) => !/net::ERR_CONNECTION_REFUSED/.test(e));
      assert.deepEqual(unexpected, []);
      await page.close();
    } finally {
      await server.close();
    }
  });

  test("the gateway hands the page its publishable key, and the legacy anon key reads too", async () => {
    // DASHBOARD_URL is the local gateway, whose env.json offers the publishable key first.
    await open();
    await page.waitForSelector('[data-testid="snapshot-row"]');
    assert.match(await page.innerText('[data-testid="api-host"]'), /read-only publishable key/);
    const withPublishable = (await rowSeries(page)).length;
    await done();

    const server = await serveDist({
      SUPABASE_URL: requireEnv("SUPABASE_URL"),
      SUPABASE_ANON_KEY: requireEnv("SUPABASE_ANON_KEY"),
    });
    try {
      page = await browser.context.newPage();
      errors = collectErrors(page);
      await page.goto(server.url);
      await page.waitForSelector('[data-testid="snapshot-row"]');
      assert.match(await page.innerText('[data-testid="api-host"]'), /read-only anon key/);
      assert.equal(
        (await rowSeries(page)).length,
        withPublishable,
        "the same rows with either key",
      );
      await done();
    } finally {
      await server.close();
    }
  });

  test("a key that is not the anon key is refused before any request", async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const serviceLike = `${b64({ alg: "HS256", typ: "JWT" })}.${
      b64({ role: "service_role", iss: "supabase" })
    }.c2ln`;
    const server = await serveDist({
      SUPABASE_URL: requireEnv("SUPABASE_URL"),
      SUPABASE_ANON_KEY: serviceLike,
    });
    try {
      page = await browser.context.newPage();
      errors = collectErrors(page);
      const calls: string[] = [];
      page.on("request", (r) => {
        if (r.url().includes("/functions/v1/")) calls.push(r.url());
      });
      await page.goto(server.url);
      await page.waitForSelector('[data-testid="error-state"]');
      assert.match(
        await page.innerText('[data-testid="error-state"]'),
        /Use the publishable \(or anon\) key: this key has role "service_role"/,
      );
      assert.deepEqual(calls, []);
      await done();
    } finally {
      await server.close();
    }
  });
});
