// Trends: one metric of one series over time, with its baseline and the points where
// regression alerts opened. Hovering shows the run (value, commit, time).

import type { SeriesInfo, Trend, TrendAlert, TrendPoint } from "../api";
import { TrendChart, type TrendInput } from "../chart";
import { h } from "../dom";
import { num, shortSha, utc } from "../format";
import { matchesFilters, parseSeriesId, range, seriesId, type State } from "../state";
import {
  badge,
  type Ctx,
  noMatch,
  nothing,
  panelHeader,
  type Rendered,
  seriesLabel,
} from "./common";

const MAX_POINTS: Record<State["res"], number | undefined> = {
  auto: undefined,
  raw: 100_000,
  daily: 10,
};

function select(
  testid: string,
  label: string,
  value: string,
  options: [string, string][],
  onChange: (v: string) => void,
): HTMLElement {
  const id = `ctl-${testid}`;
  const el = h("select", {
    id,
    testid,
    onchange: (e: Event) => onChange((e.target as HTMLSelectElement).value),
  }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  return h("div", { class: "control" }, h("label", { for: id }, label), el);
}

export function toChartInput(metric: string, trend: Trend): TrendInput {
  return {
    metric,
    daily: trend.resolution === "daily",
    baseline: trend.baseline?.value ?? null,
    points: trend.points.map((p) => ({
      t: Date.parse(p.t) / 1000,
      value: p.value,
      min: p.min,
      max: p.max,
    })),
    markers: trend.alerts.map((a) => {
      // An alert opens on a run: place it on that run's point when it is in range.
      const run = trend.points.find((p) =>
        p.transaction_id && p.transaction_id === a.opened_transaction_id
      );
      return { t: Date.parse(run ? run.t : a.opened_at) / 1000, value: a.opened_value };
    }),
  };
}

function tooltipBody(p: TrendPoint, daily: boolean, alert: TrendAlert | undefined): HTMLElement[] {
  const body = daily
    ? [
      h("div", { class: "tt-title" }, `${p.t.slice(0, 10)} (daily average)`),
      h("div", {}, `value ${num(p.value)}`),
      h("div", {}, `min ${num(p.min)} · max ${num(p.max)} · ${p.runs ?? "?"} runs`),
    ]
    : [
      h("div", { class: "tt-title" }, utc(p.t)),
      h("div", {}, "value ", h("strong", { testid: "tooltip-value" }, num(p.value))),
      h(
        "div",
        {},
        "commit ",
        h("code", { testid: "tooltip-commit" }, shortSha(p.commit_sha)),
        p.branch_name ? ` on ${p.branch_name}` : "",
      ),
    ];
  if (alert) {
    body.push(h("div", { class: "tt-alert" }, `Regression alert opened here (${alert.status})`));
  }
  return body;
}

export async function trendsView(ctx: Ctx): Promise<Rendered> {
  const s = ctx.state;
  const candidates = (await ctx.series()).filter((x) => matchesFilters(x, s));
  if (candidates.length === 0) return { el: noMatch(ctx) };
  const wanted = parseSeriesId(s.series);
  const current: SeriesInfo = candidates.find((x) => wanted && seriesId(x) === seriesId(wanted)) ??
    candidates[0];
  const metric = current.metrics.includes(s.metric)
    ? s.metric
    : current.metrics.includes("f1")
    ? "f1"
    : current.metrics[0];
  const { since, until } = range(s);
  const trend = await ctx.api.trend({
    model_version: current.model_version,
    model_provider: current.model_provider,
    dataset_version: current.dataset_version,
    prompt_version: current.prompt_version,
    environment: current.environment,
    metric,
    from: since,
    to: until,
    max_points: MAX_POINTS[s.res],
  });

  const controls = h(
    "div",
    { class: "controls" },
    select(
      "trend-series",
      "Series",
      seriesId(current),
      candidates.map((
        x,
      ) => [
        seriesId(x),
        `${x.model_version} (${x.model_provider}) · ${x.dataset_version} · ${x.prompt_version} · ${x.environment}`,
      ]),
      (v) => ctx.go({ series: v }),
    ),
    select(
      "trend-metric",
      "Metric",
      metric,
      current.metrics.map((m) => [m, m]),
      (v) => ctx.go({ metric: v, series: seriesId(current) }),
    ),
    select(
      "trend-res",
      "Resolution",
      s.res,
      [["auto", "Auto (raw up to 2,000 runs)"], ["raw", "Raw (every run)"], [
        "daily",
        "Daily averages",
      ]],
      (v) => ctx.go({ res: v as State["res"], series: seriesId(current), metric }),
    ),
  );
  const header = panelHeader(
    "Trends",
    `${metric} of ${seriesLabel(current)}, ${
      trend.direction?.replace(/_/g, " ") ??
        `no direction (never a regression; declare one with benchwatch policy set ${metric})`
    }.`,
  );
  if (trend.points.length === 0) {
    return {
      el: h(
        "section",
        { class: "view", testid: "view-trends" },
        header,
        controls,
        nothing("No runs in this range", "Widen the date range in the sidebar."),
      ),
    };
  }

  const chartEl = h("div", {
    class: "chart",
    testid: "trend-chart",
    role: "img",
    "aria-label": `${metric} over time, ${trend.points.length} points`,
  });
  const tooltip = h("div", { class: "tooltip", testid: "trend-tooltip", hidden: true });
  const daily = trend.resolution === "daily";
  const base = trend.baseline;
  const legend = h(
    "div",
    { class: "legend" },
    h(
      "span",
      { class: "legend-item" },
      h("span", { class: "swatch swatch-value", "aria-hidden": "true" }),
      `${metric} (${trend.points.length} ${daily ? "days" : "runs"})`,
    ),
    h(
      "span",
      { class: "chip", testid: "trend-resolution", "data-resolution": trend.resolution },
      daily ? "Daily averages with min–max band" : "Raw runs",
    ),
    base
      ? h(
        "span",
        { class: "legend-item", testid: "trend-baseline", "data-value": String(base.value) },
        h("span", { class: "swatch swatch-baseline", "aria-hidden": "true" }),
        `Baseline ${num(base.value)} (${base.model_version}${
          base.pinned_at ? `, pinned ${utc(base.pinned_at)}` : ""
        })`,
      )
      : h(
        "span",
        { class: "legend-item muted", testid: "trend-baseline", "data-value": "" },
        "No baseline",
      ),
  );
  const markers = h(
    "ul",
    { class: "markers", testid: "trend-markers", "aria-label": "Regression alerts on this metric" },
    trend.alerts.length === 0
      ? h("li", { class: "muted" }, "No regression alerts opened on this metric in this range.")
      : trend.alerts.map((a) =>
        h(
          "li",
          { testid: "trend-marker", "data-value": String(a.opened_value), "data-status": a.status },
          h("span", { class: "swatch swatch-marker", "aria-hidden": "true" }),
          `Regression opened ${utc(a.opened_at)} at ${num(a.opened_value)} `,
          badge(a.status),
          a.resolved_at ? ` resolved ${utc(a.resolved_at)}` : "",
        )
      ),
  );
  const recent = trend.points.slice(-200).reverse();
  const table = h(
    "details",
    { class: "points" },
    h("summary", {}, `Data table (latest ${recent.length} ${daily ? "days" : "runs"})`),
    h(
      "table",
      { class: "table compact" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Time"),
          h("th", { scope: "col", class: "num" }, metric),
          h("th", { scope: "col" }, daily ? "Runs" : "Commit"),
        ),
      ),
      h(
        "tbody",
        {},
        recent.map((p) =>
          h(
            "tr",
            {},
            h("td", {}, daily ? p.t.slice(0, 10) : utc(p.t)),
            h("td", { class: "num" }, num(p.value)),
            h("td", {}, daily ? String(p.runs ?? "") : h("code", {}, shortSha(p.commit_sha))),
          )
        ),
      ),
    ),
  );
  const wrap = h("div", { class: "chart-wrap" }, chartEl, tooltip);
  const el = h(
    "section",
    { class: "view", testid: "view-trends" },
    header,
    controls,
    legend,
    wrap,
    markers,
    table,
  );

  let chart: TrendChart | null = null;
  return {
    el,
    mount() {
      chart = new TrendChart(chartEl, {
        onHover(idx, left, top) {
          if (idx === null || !chart) {
            tooltip.hidden = true;
            return;
          }
          const p = trend.points[idx];
          tooltip.replaceChildren(
            ...tooltipBody(
              p,
              daily,
              trend.alerts.find((a) =>
                p.transaction_id && a.opened_transaction_id === p.transaction_id
              ),
            ),
          );
          tooltip.hidden = false;
          const off = chart.plotOffset;
          // Beside the cursor, on whichever side has room, never under it.
          const x = off.left + left;
          tooltip.style.left = `${
            x + 12 + 230 > chartEl.clientWidth ? x - 12 - tooltip.offsetWidth : x + 12
          }px`;
          tooltip.style.top = `${off.top + top + 12}px`;
        },
      });
      chart.setData(toChartInput(metric, trend));
    },
    unmount() {
      chart?.destroy();
    },
  };
}
