// Model performance: every series' latest run side by side on quality against latency and
// cost, with a quality-versus-cost (or latency) scatter.
// The scatter is hand-drawn SVG rather than uPlot: it has a handful of points that need
// text labels and per-point titles, which SVG gives for free and accessibly.

import type { SnapshotSeries } from "../api";
import { h, svg } from "../dom";
import { num } from "../format";
import { hasFilters, type State } from "../state";
import { badge, type Ctx, noMatch, nothing, panelHeader, type Rendered } from "./common";
import { loadSnapshot } from "./snapshot";

interface Row {
  s: SnapshotSeries;
  qualityMetric: string | null;
  quality: number | null;
  latency: number | null;
  cost: number | null;
}

const QUALITY = ["f1", "accuracy"];
const PALETTE = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#0e7490", "#4d7c0f", "#a21caf"];

function metric(s: SnapshotSeries, name: string): number | null {
  return s.metrics.find((m) => m.metric === name)?.current ?? null;
}

function toRow(s: SnapshotSeries): Row {
  const qualityMetric = QUALITY.find((q) => metric(s, q) !== null) ?? null;
  return {
    s,
    qualityMetric,
    quality: qualityMetric ? metric(s, qualityMetric) : null,
    latency: metric(s, "latency_ms"),
    cost: metric(s, "analysis_cost"),
  };
}

/** Round-number ticks covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const overlaps = (a: Box, b: Box): boolean =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Offsets from a point to its label's anchor, nearest first; x < 0 ends the label there. */
const SPOTS: readonly (readonly [number, number])[] = [
  [10, -8],
  [10, 16],
  [-10, -8],
  [-10, 16],
  [10, -22],
  [-10, -22],
  [10, 30],
  [-10, 30],
  [0, -16],
  [0, 28],
];

interface Label {
  el: SVGTextElement;
  cx: number;
  cy: number;
}

/**
 * Places each label beside its point where it overlaps no point and no placed label and
 * stays inside the plot; a label with no such spot is hidden (its point keeps the hover
 * title with the full name). Runs once the SVG is in the document, as it measures the
 * rendered text instead of guessing widths from character counts.
 */
function layoutLabels(
  labels: Label[],
  points: Box[],
  plot: { left: number; right: number; top: number; bottom: number },
): number {
  const placed: Box[] = [...points];
  let hidden = 0;
  for (const l of labels) {
    l.el.removeAttribute("display");
    l.el.setAttribute("text-anchor", "start");
    const bb = l.el.getBBox();
    // The text's box relative to its anchor point (x, baseline), plus a unit of air.
    const w = bb.width + 2;
    const hgt = bb.height + 2;
    const above = Number(l.el.getAttribute("y")) - bb.y + 1;
    const spot = SPOTS.map(([dx, dy]) => {
      const anchor = dx > 0 ? "start" : dx < 0 ? "end" : "middle";
      const x = dx > 0 ? l.cx + dx - 1 : dx < 0 ? l.cx + dx - w + 1 : l.cx - w / 2;
      const box: Box = { x, y: l.cy + dy - above, w, h: hgt };
      return { dx, dy, anchor, box };
    }).find(({ box }) =>
      box.x >= plot.left && box.x + box.w <= plot.right && box.y >= plot.top &&
      box.y + box.h <= plot.bottom && !placed.some((p) => overlaps(p, box))
    );
    if (!spot) {
      l.el.setAttribute("display", "none");
      l.el.parentElement?.setAttribute("data-label", "hidden");
      hidden++;
      continue;
    }
    placed.push(spot.box);
    l.el.setAttribute("x", String(l.cx + spot.dx));
    l.el.setAttribute("y", String(l.cy + spot.dy));
    l.el.setAttribute("text-anchor", spot.anchor);
    l.el.parentElement?.setAttribute("data-label", "shown");
  }
  return hidden;
}

/** Points closer than this (in SVG units) share one label. */
const SAME_SPOT = 6;

function scatter(rows: Row[], xAxis: State["xAxis"]): { el: SVGElement; layout(): void } {
  const W = 720;
  const H = 360;
  const m = { l: 64, r: 24, t: 16, b: 48 };
  const pts = rows.filter((r) =>
    r.quality !== null && (xAxis === "cost" ? r.cost : r.latency) !== null
  );
  const xs = pts.map((r) => (xAxis === "cost" ? r.cost : r.latency) as number);
  const ys = pts.map((r) => r.quality as number);
  const pad = (a: number, b: number): [number, number] => {
    const d = (b - a) * 0.1 || Math.abs(b) * 0.05 || 1;
    return [a - d, b + d];
  };
  const [x0, x1] = pad(Math.min(...xs), Math.max(...xs));
  const [y0, y1] = pad(Math.min(...ys), Math.max(...ys));
  const sx = (v: number): number => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (v: number): number => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  const xLabel = xAxis === "cost"
    ? "analysis_cost per run (lower is better)"
    : "latency_ms (lower is better)";
  const qualityName = [...new Set(pts.map((r) => r.qualityMetric))].join(" / ");
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "scatter",
    testid: "models-scatter",
    role: "img",
    "aria-label": `Quality (${qualityName}) against ${xAxis}`,
    "data-x": xAxis,
  });
  const models = [...new Set(rows.map((r) => r.s.series.model_version))];
  for (const v of ticks(x0, x1)) {
    if (v < x0 || v > x1) continue;
    root.append(
      svg("line", { x1: sx(v), x2: sx(v), y1: m.t, y2: H - m.b, class: "grid" }),
      svg("text", { x: sx(v), y: H - m.b + 18, "text-anchor": "middle", class: "tick" }, num(v)),
    );
  }
  for (const v of ticks(y0, y1)) {
    if (v < y0 || v > y1) continue;
    root.append(
      svg("line", { x1: m.l, x2: W - m.r, y1: sy(v), y2: sy(v), class: "grid" }),
      svg("text", { x: m.l - 8, y: sy(v) + 4, "text-anchor": "end", class: "tick" }, num(v)),
    );
  }
  root.append(
    svg(
      "text",
      { x: (m.l + W - m.r) / 2, y: H - 8, "text-anchor": "middle", class: "axis-label" },
      xLabel,
    ),
    svg("text", {
      x: 14,
      y: (m.t + H - m.b) / 2,
      transform: `rotate(-90 14 ${(m.t + H - m.b) / 2})`,
      "text-anchor": "middle",
      class: "axis-label",
    }, `quality: ${qualityName} (higher is better)`),
  );
  // Regressed series first, then by quality: they get the best label spots.
  const order = pts.map((_, i) => i).sort((a, b) =>
    Number(pts[b].s.status === "regressed") - Number(pts[a].s.status === "regressed") ||
    ys[b] - ys[a]
  );
  const name = (r: Row): string =>
    `${r.s.series.model_version} · ${r.s.series.environment}${
      r.s.status === "regressed" ? " (regressed)" : ""
    }`;
  // Points on (nearly) the same spot share one label: the first one's name and a count.
  const labelled: { i: number; others: number[] }[] = [];
  for (const i of order) {
    const near = labelled.find((c) =>
      Math.hypot(sx(xs[c.i]) - sx(xs[i]), sy(ys[c.i]) - sy(ys[i])) < SAME_SPOT
    );
    if (near) near.others.push(i);
    else labelled.push({ i, others: [] });
  }
  const labels: Label[] = [];
  const groups = new Map<number, SVGElement>();
  [...order].reverse().forEach((i) => {
    const r = pts[i];
    const k = r.s.series;
    const color = PALETTE[models.indexOf(k.model_version) % PALETTE.length];
    const bad = r.s.status === "regressed";
    const g = svg(
      "g",
      {
        testid: "scatter-point",
        "data-model": k.model_version,
        "data-quality": String(r.quality),
        "data-x": String(xs[i]),
      },
      svg(
        "title",
        {},
        `${k.model_version} (${k.environment}, ${k.dataset_version}, ${k.prompt_version}): ${r.qualityMetric} ${
          num(r.quality)
        }, ${xAxis} ${num(xs[i])}${bad ? ", regressed" : ""}`,
      ),
      svg("circle", {
        cx: sx(xs[i]),
        cy: sy(ys[i]),
        r: 7,
        fill: color,
        stroke: bad ? "#c0152f" : "#ffffff",
        "stroke-width": bad ? 3 : 1.5,
      }),
    );
    groups.set(i, g);
    root.append(g);
  });
  for (const c of labelled) {
    const text = name(pts[c.i]) + (c.others.length ? ` +${c.others.length} more` : "");
    const el = svg("text", { x: sx(xs[c.i]) + 10, y: sy(ys[c.i]) - 8, class: "point-label" }, text);
    if (c.others.length) {
      // The hover title names every series on this spot.
      el.append(svg("title", {}, [c.i, ...c.others].map((i) => name(pts[i])).join("\n")));
    }
    groups.get(c.i)!.append(el);
    labels.push({ el: el as SVGTextElement, cx: sx(xs[c.i]), cy: sy(ys[c.i]) });
  }
  const points: Box[] = pts.map((_, i) => ({ x: sx(xs[i]) - 8, y: sy(ys[i]) - 8, w: 16, h: 16 }));
  return {
    el: root,
    layout: () => {
      const hidden = layoutLabels(labels, points, {
        left: m.l,
        right: W - m.r,
        top: 0,
        bottom: H - m.b,
      });
      root.dataset.hiddenLabels = String(hidden);
    },
  };
}

function bar(value: number | null, max: number, cls: string): HTMLElement {
  const w = value !== null && max > 0 ? Math.max(2, (value / max) * 100) : 0;
  return h(
    "div",
    { class: "bar-cell" },
    h("span", { class: "bar-value" }, num(value)),
    h("span", { class: `bar ${cls}`, style: `width:${w.toFixed(1)}%`, "aria-hidden": "true" }),
  );
}

export async function modelsView(ctx: Ctx): Promise<Rendered> {
  const s = ctx.state;
  const snapshot = await loadSnapshot(ctx);
  const id = "ctl-x-axis";
  const axisSelect = h(
    "div",
    { class: "control" },
    h("label", { for: id }, "Scatter x-axis"),
    h(
      "select",
      {
        id,
        testid: "models-x",
        onchange: (e: Event) =>
          ctx.go({ xAxis: (e.target as HTMLSelectElement).value as State["xAxis"] }),
      },
      ([["cost", "Cost"], ["latency", "Latency"]] as const).map(([v, t]) =>
        h("option", { value: v, selected: v === s.xAxis }, t)
      ),
    ),
  );
  const header = panelHeader(
    "Model performance",
    "Latest run of each series: quality (f1, else accuracy) against latency and cost.",
    axisSelect,
  );
  if (snapshot.length === 0) {
    return {
      el: h(
        "section",
        { class: "view", testid: "view-models" },
        header,
        hasFilters(s) ? noMatch(ctx) : nothing("No active series", "Nothing to compare yet."),
      ),
    };
  }
  const rows = snapshot.map(toRow).sort((a, b) =>
    (b.quality ?? -Infinity) - (a.quality ?? -Infinity)
  );
  const maxOf = (f: (r: Row) => number | null): number =>
    Math.max(0, ...rows.map((r) => f(r) ?? 0));
  const [mq, ml, mc] = [maxOf((r) => r.quality), maxOf((r) => r.latency), maxOf((r) => r.cost)];
  const plotted = rows.filter((r) =>
    r.quality !== null && (s.xAxis === "cost" ? r.cost : r.latency) !== null
  );
  const plot = plotted.length > 0 ? scatter(rows, s.xAxis) : null;
  const el = h(
    "section",
    { class: "view", testid: "view-models" },
    header,
    h(
      "figure",
      { class: "figure" },
      plot ? plot.el : nothing(
        "Nothing to plot",
        `No series reports both a quality metric and ${
          s.xAxis === "cost" ? "analysis_cost" : "latency_ms"
        }.`,
      ),
      h(
        "figcaption",
        { class: "muted" },
        `Quality against ${s.xAxis}: up and to the left is better. A red ring marks a series whose latest run regressed. Hover a point for its full name; labels that would overlap are left off.`,
      ),
    ),
    h(
      "table",
      { class: "table", testid: "models-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          [
            "Model",
            "Dataset · prompt · environment",
            "Quality",
            "Latency (ms)",
            "Cost per run",
            "Status",
          ].map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((r) => {
          const k = r.s.series;
          return h(
            "tr",
            { testid: "models-row", "data-model": k.model_version },
            h(
              "td",
              {},
              h("div", { class: "strong" }, k.model_version),
              h("div", { class: "muted small" }, k.model_provider),
            ),
            h(
              "td",
              { class: "small" },
              `${k.dataset_version} · ${k.prompt_version} · ${k.environment}`,
            ),
            h(
              "td",
              {},
              bar(r.quality, mq, "bar-quality"),
              h("div", { class: "muted small" }, r.qualityMetric ?? "no f1 or accuracy"),
            ),
            h("td", {}, bar(r.latency, ml, "bar-latency")),
            h("td", {}, bar(r.cost, mc, "bar-cost")),
            h("td", {}, badge(r.s.status)),
          );
        }),
      ),
    ),
  );
  return { el, mount: () => plot?.layout() };
}
