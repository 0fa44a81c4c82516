// Current snapshot: the latest run of every series, each metric against its baseline.

import type { SnapshotMetric, SnapshotSeries } from "../api";
import { h } from "../dom";
import { ago, num, pct, shortSha, utc } from "../format";
import { hasFilters, range, seriesId, seriesQuery } from "../state";
import { badge, type Ctx, noMatch, nothing, panelHeader, type Rendered } from "./common";

export function loadSnapshot(ctx: Ctx): Promise<SnapshotSeries[]> {
  const { since, until } = range(ctx.state);
  return ctx.api.snapshot({ ...seriesQuery(ctx.state), tags: ctx.state.tags, since, until });
}

function deltaCell(m: SnapshotMetric): HTMLElement {
  if (m.relative_change === null || m.baseline === null) {
    return h("td", { class: "num muted" }, "—");
  }
  const better = m.direction === "lower_is_better" ? m.relative_change < 0 : m.relative_change > 0;
  const tone = m.is_regression
    ? "bad"
    : m.relative_change === 0 || m.direction === null
    ? "neutral"
    : better
    ? "good"
    : "neutral";
  return h(
    "td",
    { class: `num delta delta-${tone}`, testid: "metric-delta" },
    pct(m.relative_change, 2),
  );
}

/**
 * Which baseline the series is judged against. Nothing when it has none and its status
 * badge already says "No baseline": one badge per fact.
 */
function baselineBadge(s: SnapshotSeries): HTMLElement | null {
  if (!s.baseline) {
    if (s.status === "no_baseline") return null;
    return h(
      "span",
      { class: "chip chip-muted", testid: "baseline-badge", "data-kind": "none" },
      "No baseline",
    );
  }
  const pinned = s.baseline.pinned_at ? `, pinned ${utc(s.baseline.pinned_at)}` : "";
  if (s.has_own_baseline) {
    return h("span", {
      class: "chip chip-own",
      testid: "baseline-badge",
      "data-kind": "own",
      title: `This series' own baseline${pinned}`,
    }, "Own baseline");
  }
  return h(
    "span",
    {
      class: "chip chip-scope",
      testid: "baseline-badge",
      "data-kind": "scope",
      title: `Baseline inherited from the scope${pinned}`,
    },
    `Scope baseline: ${s.baseline.model_version}`,
  );
}

function seriesBody(s: SnapshotSeries, columns: number): HTMLTableSectionElement {
  const k = s.series;
  const regressed = s.status === "regressed" || s.metrics.some((m) => m.is_regression);
  const head = h(
    "tr",
    { class: "series-head" },
    h(
      "th",
      { colspan: columns, scope: "rowgroup" },
      h(
        "div",
        { class: "series-line" },
        h("span", { class: "series-model", testid: "series-model" }, k.model_version),
        h("span", { class: "muted" }, k.model_provider),
        h("span", { class: "sep" }, "·"),
        h("span", {}, k.dataset_version),
        h("span", { class: "sep" }, "·"),
        h("span", {}, k.prompt_version),
        h("span", { class: "sep" }, "·"),
        h("span", { class: "env" }, k.environment),
        badge(s.status, { testid: "series-status" }),
        baselineBadge(s),
        s.prompt_mismatch
          ? h("span", {
            class: "chip chip-warn",
            title: "The baseline was recorded with another prompt version",
          }, "Prompt differs from baseline")
          : null,
        s.open_alerts > 0
          ? h(
            "span",
            { class: "chip chip-bad" },
            `${s.open_alerts} open alert${s.open_alerts === 1 ? "" : "s"}`,
          )
          : null,
      ),
      h(
        "div",
        { class: "series-meta muted" },
        h(
          "span",
          { testid: "last-run", title: s.created_at },
          `Last run ${utc(s.created_at)} (${ago(s.created_at)})`,
        ),
        h(
          "span",
          {},
          "commit ",
          h("code", { testid: "commit", title: s.commit_sha ?? "" }, shortSha(s.commit_sha)),
        ),
        h("span", {}, "branch ", h("code", { testid: "branch" }, s.branch_name ?? "—")),
        s.tags.length ? h("span", {}, `tags ${s.tags.join(", ")}`) : null,
      ),
    ),
  );
  const rows = s.metrics.map((m) =>
    h(
      "tr",
      {
        class: m.is_regression ? "row-bad" : "",
        testid: "metric-row",
        "data-metric": m.metric,
        "data-status": m.status,
      },
      h(
        "td",
        { class: "metric" },
        m.metric,
        h(
          "span",
          {
            class: "dir muted",
            title: m.direction?.replace(/_/g, " ") ??
              `no direction: declare it with benchwatch policy set ${m.metric} --direction higher|lower`,
          },
          m.direction === null ? " ?" : m.direction === "lower_is_better" ? " ↓" : " ↑",
        ),
      ),
      h("td", { class: "num" }, num(m.current)),
      h("td", { class: "num muted" }, num(m.baseline)),
      deltaCell(m),
      h("td", {}, badge(m.status, { testid: "metric-status" })),
    )
  );
  return h(
    "tbody",
    {
      testid: "snapshot-row",
      "data-series": seriesId(k),
      "data-status": s.status,
      class: regressed ? "series-bad" : "",
    },
    head,
    rows,
  );
}

export async function snapshotView(ctx: Ctx): Promise<Rendered> {
  const rows = await loadSnapshot(ctx);
  if (rows.length === 0) {
    return {
      el: hasFilters(ctx.state) ? noMatch(ctx) : nothing(
        "No active series",
        "Runs exist, but no series has an active latest run. Check SELECT COUNT(*) FROM benchmark_snapshots WHERE is_active = TRUE;",
      ),
    };
  }
  const order = (
    s: SnapshotSeries,
  ): number => (s.status === "regressed" ? 0 : s.status === "ok" ? 2 : 1);
  rows.sort((a, b) =>
    order(a) - order(b) || a.series.model_version.localeCompare(b.series.model_version)
  );
  const regressed = rows.filter((s) => s.status === "regressed").length;
  const openAlerts = rows.reduce((n, s) => n + s.open_alerts, 0);
  const columns = 5;
  const el = h(
    "section",
    { class: "view", testid: "view-snapshot" },
    panelHeader(
      "Current snapshot",
      "The latest run of every series, each metric against its baseline.",
    ),
    h(
      "div",
      { class: "stats" },
      h(
        "div",
        { class: "stat" },
        h("span", { class: "stat-value", testid: "stat-series" }, String(rows.length)),
        h("span", { class: "stat-label" }, "series"),
      ),
      h(
        "div",
        { class: `stat ${regressed ? "stat-bad" : "stat-good"}` },
        h("span", { class: "stat-value", testid: "stat-regressed" }, String(regressed)),
        h("span", { class: "stat-label" }, "regressed"),
      ),
      h(
        "div",
        { class: "stat" },
        h("span", { class: "stat-value" }, String(openAlerts)),
        h("span", { class: "stat-label" }, "open alerts"),
      ),
    ),
    h(
      "table",
      { class: "table snapshot", testid: "snapshot-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Metric"),
          h("th", { scope: "col", class: "num" }, "Current"),
          h("th", { scope: "col", class: "num" }, "Baseline"),
          h("th", { scope: "col", class: "num" }, "Δ vs baseline"),
          h("th", { scope: "col" }, "Status"),
        ),
      ),
      rows.map((s) => seriesBody(s, columns)),
    ),
  );
  return {
    el,
    mount: () => performance.mark("benchwatch:snapshot-rendered"),
  };
}
