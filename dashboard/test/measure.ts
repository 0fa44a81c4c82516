// Measures, by hand and not in a test (`node --import tsx dashboard/test/measure.ts`):
//  a) first meaningful render: navigation start → the snapshot table has its rows (the app
//     sets a performance mark when it swaps them in), median of 5 cold page loads;
//  b) drawing a 50,000-point trend: the chart module fed directly through the page's test
//     hook, timed with performance.now from setData to the end of uPlot's draw, median of 5.
// Needs DASHBOARD_URL and the stack serving dashboard/dist there (with demo data). The hook is
// not in the production bundle: this script rebuilds dist with `vite build --mode measure`
// first, and rebuilds the production bundle when it is done.

import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { collectErrors, DIST, launch, requireEnv } from "./helpers.ts";

const viteBuild = (...extra: string[]) =>
  execFileSync(
    resolve(DIST, "../../node_modules/.bin/vite"),
    ["build", "dashboard", "--logLevel", "warn", ...extra],
    { cwd: resolve(DIST, "../.."), stdio: "inherit" },
  );
viteBuild("--mode", "measure");

const RUNS = 5;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number): number => Math.round(x * 10) / 10;

const browser = await launch();
try {
  const render: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // A new page (and an empty HTTP cache) each time, so every load is a cold one.
    const page = await browser.context.newPage();
    const errors = collectErrors(page);
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await page.goto(requireEnv("DASHBOARD_URL"));
    await page.waitForSelector('[data-testid="snapshot-row"]');
    const ms = await page.evaluate(() =>
      performance.getEntriesByName("benchwatch:snapshot-rendered")[0]?.startTime ?? NaN
    );
    if (errors.length) throw new Error(`Console errors while measuring: ${errors.join("; ")}`);
    render.push(ms);
    await page.close();
  }

  const page = await browser.context.newPage();
  await page.goto(requireEnv("DASHBOARD_URL"));
  await page.waitForSelector('[data-testid="snapshot-row"]');
  const create: number[] = [];
  const redraw: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = await page.evaluate(() =>
      (window as unknown as {
        __benchwatch: {
          benchTrend(n: number, r: number): Promise<{ create_ms: number; redraw_ms: number[] }>;
        };
      })
        .__benchwatch.benchTrend(50_000, 1)
    );
    create.push(t.create_ms);
    redraw.push(...t.redraw_ms);
  }
  await page.close();

  console.log(JSON.stringify(
    {
      first_meaningful_render_ms: { median: round(median(render)), runs: render.map(round) },
      trend_50k_points: {
        first_draw_ms: {
          median: round(median(create)),
          runs: create.map(round),
          note: "new uPlot + first draw",
        },
        redraw_ms: {
          median: round(median(redraw)),
          runs: redraw.map(round),
          note: "setData with new values + draw",
        },
      },
      chromium: await browser.context.browser()?.version() ?? "persistent context",
    },
    null,
    2,
  ));
} finally {
  await browser.close();
  viteBuild();
}
