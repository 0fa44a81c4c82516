// Stability (the guide's "production stability" page): per environment, how much each
// metric moves over a window (coefficient of variation) and how often runs regress.

import type { StabilityEnv, StabilityMetric } from "../api";
import { h } from "../dom";
import { num, pctPlain } from "../format";
import { hasFilters, seriesQuery, type State } from "../state";
import { badge, type Ctx, noMatch, nothing, panelHeader, type Rendered } from "./common";

/** CV bands: under 2% is steady for eval metrics, over 5% means results are noise-prone. */
function cvBadge(cv: number | null): HTMLElement {
  if (cv === null || !Number.isFinite(cv)) return h("span", { class: "muted" }, "—");
  const [tone, text] = cv < 0.02
    ? (["good", "steady"] as const)
    : cv < 0.05
    ? (["warn", "variable"] as const)
    : (["bad", "unstable"] as const);
  return badge(text, { tone, text: `${pctPlain(cv, 2)} ${text}`, testid: "cv" });
}

function metricRow(m: StabilityMetric): HTMLElement {
  return h(
    "tr",
    { testid: "stability-metric", "data-metric": m.metric },
    h("td", {}, m.metric),
    h("td", { class: "num" }, String(m.runs)),
    h("td", { class: "num" }, num(m.mean)),
    h("td", { class: "num" }, num(m.stddev)),
    h("td", {}, cvBadge(m.cv)),
    h("td", { class: "num muted" }, `${num(m.min)} – ${num(m.max)}`),
  );
}

function envCard(e: StabilityEnv): HTMLElement {
  const rate = e.regression_rate;
  return h(
    "article",
    { class: "card", testid: "stability-env", "data-environment": e.environment },
    h(
      "header",
      { class: "card-head" },
      h("h3", {}, e.environment),
      h(
        "div",
        { class: "stats inline" },
        h(
          "div",
          { class: "stat" },
          h("span", { class: "stat-value", testid: "stability-runs" }, String(e.runs)),
          h("span", { class: "stat-label" }, "runs"),
        ),
        h(
          "div",
          { class: "stat" },
          h("span", { class: "stat-value" }, String(e.series)),
          h("span", { class: "stat-label" }, "series"),
        ),
        h(
          "div",
          { class: "stat" },
          h("span", { class: "stat-value" }, String(e.alerts_opened)),
          h("span", { class: "stat-label" }, "alerts opened"),
        ),
        h(
          "div",
          { class: `stat ${rate && rate > 0 ? "stat-bad" : "stat-good"}` },
          h(
            "span",
            { class: "stat-value", testid: "stability-regression-rate" },
            pctPlain(rate, 1),
          ),
          h("span", { class: "stat-label" }, "regression rate"),
        ),
      ),
    ),
    h(
      "table",
      { class: "table compact" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Metric", "Runs", "Mean", "Std dev", "Coefficient of variation", "Range"].map((c, i) =>
            h("th", { scope: "col", class: i > 0 && i < 4 ? "num" : "" }, c)
          ),
        ),
      ),
      h("tbody", {}, e.metrics.map(metricRow)),
    ),
  );
}

export async function stabilityView(ctx: Ctx): Promise<Rendered> {
  const s = ctx.state;
  const data = await ctx.api.stability({ ...seriesQuery(s), window_days: s.window });
  const id = "ctl-window";
  const windowSelect = h(
    "div",
    { class: "control" },
    h("label", { for: id }, "Window"),
    h(
      "select",
      {
        id,
        testid: "stability-window",
        onchange: (e: Event) =>
          ctx.go({ window: Number((e.target as HTMLSelectElement).value) as State["window"] }),
      },
      [7, 30, 90].map((d) =>
        h("option", { value: String(d), selected: d === s.window }, `Last ${d} days`)
      ),
    ),
  );
  const header = panelHeader(
    "Stability",
    `Per environment over the last ${data.window_days} days: runs, spread of each metric, regression rate (regressed runs ÷ runs).`,
    windowSelect,
  );
  const envs = [...data.environments].sort((
    a,
    b,
  ) => (a.environment === "production"
    ? -1
    : b.environment === "production"
    ? 1
    : a.environment.localeCompare(b.environment))
  );
  const body = envs.length > 0
    ? h("div", { class: "cards" }, envs.map(envCard))
    : hasFilters(s)
    ? noMatch(ctx, "environments")
    : nothing(
      "No runs in this window",
      `No run was recorded in the last ${data.window_days} days. Pick a longer window.`,
    );
  return { el: h("section", { class: "view", testid: "view-stability" }, header, body) };
}
