// A hook for dashboard/test/measure.ts: draws a synthetic trend straight through the chart
// module (no API), so the draw time of a large series can be measured in a real browser.
// Only a `vite build --mode measure` bundle loads it (main.ts); production bundles do not.

import { TrendChart, type TrendInput } from "./chart";

export interface DrawTiming {
  points: number;
  /** Building the plot and its first draw. */
  create_ms: number;
  /** setData with fresh values followed by the draw it triggers, once per repeat. */
  redraw_ms: number[];
}

function synthetic(n: number, seed: number): TrendInput {
  const start = Date.UTC(2025, 0, 1) / 1000;
  const points = new Array(n);
  let v = 0.9;
  let r = seed;
  for (let i = 0; i < n; i++) {
    r = (r * 1103515245 + 12345) % 2147483648;
    v = Math.min(0.99, Math.max(0.7, v + (r / 2147483648 - 0.5) * 0.01));
    points[i] = { t: start + i * 600, value: v };
  }
  return {
    metric: "f1",
    daily: false,
    baseline: 0.9,
    points,
    markers: [{ t: start + (n - 1) * 600, value: v }],
  };
}

async function benchTrend(n = 50_000, repeats = 5): Promise<DrawTiming> {
  const host = document.createElement("div");
  host.style.cssText = "position:fixed;left:0;top:0;width:1000px;background:#fff;z-index:9999";
  document.body.appendChild(host);
  let drawn: (() => void) | null = null;
  const chart = new TrendChart(host, { onDraw: () => drawn?.() });
  const drawOnce = (input: TrendInput): Promise<number> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      drawn = () => {
        drawn = null;
        resolve(performance.now() - t0);
      };
      chart.setData(input);
    });
  const create_ms = await drawOnce(synthetic(n, 1));
  const redraw_ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const input = synthetic(n, i + 2);
    await new Promise((r) => requestAnimationFrame(r));
    redraw_ms.push(await drawOnce(input));
  }
  chart.destroy();
  host.remove();
  return { points: n, create_ms, redraw_ms };
}

export function installTestHook(): void {
  (globalThis as unknown as { __benchwatch: unknown }).__benchwatch = { benchTrend };
}
