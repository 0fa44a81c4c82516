// Regressions: the alert list, open and resolved, with severity, age, Slack delivery and
// acknowledgement.

import type { Alert } from "../api";
import { h } from "../dom";
import { age, num, pct, utc } from "../format";
import { hasFilters, range, serializeState, seriesQuery, type State } from "../state";
import { badge, type Ctx, noMatch, nothing, panelHeader, type Rendered } from "./common";

/** Delivery of the alert's latest event: the resolution once resolved, else the opening. */
function delivery(a: Alert): { opened: string; resolved: string | null } {
  return {
    opened: a.opened_delivery_status ?? "pending",
    resolved: a.status === "resolved" ? a.resolved_delivery_status ?? "pending" : null,
  };
}

/** "12 worse, 2 better of 200 · Examples": the opening run's flips, linked to the Examples view. */
function pairedNote(a: Alert, ctx: Ctx): HTMLElement | null {
  if (!a.paired) return null;
  const target: Partial<State> = {
    view: "examples",
    run: a.opened_transaction_id,
    metric: a.metric_name,
    slice: "",
    change: "worse",
  };
  return h(
    "div",
    { class: "muted small", testid: "alert-paired" },
    `${a.paired.worse} worse, ${a.paired.better} better of ${a.paired.n_both} · `,
    h("a", {
      href: serializeState({ ...ctx.state, ...target }) || "?",
      testid: "alert-examples",
      onclick: (e: Event) => {
        e.preventDefault();
        ctx.go(target);
      },
    }, "Examples"),
  );
}

function row(a: Alert, ctx: Ctx): HTMLElement {
  const d = delivery(a);
  return h(
    "tr",
    {
      testid: "alert-row",
      "data-status": a.status,
      "data-model": a.model_version,
      "data-metric": a.metric_name,
    },
    h(
      "td",
      {},
      h("div", { class: "strong" }, a.model_version),
      h(
        "div",
        { class: "muted small" },
        `${a.model_provider} · ${a.dataset_version} · ${a.prompt_version} · ${a.environment}`,
      ),
    ),
    h("td", {}, a.metric_name, pairedNote(a, ctx)),
    h("td", {}, badge(a.severity, { testid: "alert-severity" })),
    h("td", {}, badge(a.status, { testid: "alert-status" })),
    h(
      "td",
      { class: "num" },
      num(a.opened_value),
      h(
        "div",
        { class: "muted small" },
        `baseline ${num(a.baseline_value)}${
          a.baseline_model_version && a.baseline_model_version !== a.model_version
            ? ` (${a.baseline_model_version})`
            : ""
        }`,
      ),
    ),
    h("td", { class: "num delta delta-bad" }, pct(a.opened_relative_change, 1)),
    h(
      "td",
      { title: a.opened_at },
      h("span", { testid: "alert-age" }, age(a.age_seconds)),
      h("div", { class: "muted small" }, utc(a.opened_at)),
    ),
    h(
      "td",
      {},
      h("div", {}, "opened ", badge(d.opened, { testid: "alert-delivery" })),
      d.resolved
        ? h(
          "div",
          { class: "small" },
          "resolved ",
          badge(d.resolved, { testid: "alert-delivery-resolved" }),
        )
        : null,
    ),
    h(
      "td",
      { testid: "alert-ack" },
      a.acknowledged_at
        ? h(
          "span",
          { title: utc(a.acknowledged_at) },
          `Yes${a.acknowledged_by ? `, by ${a.acknowledged_by}` : ""}`,
        )
        : h("span", { class: "muted" }, "No"),
    ),
  );
}

export async function regressionsView(ctx: Ctx): Promise<Rendered> {
  const s = ctx.state;
  const { since, until } = range(s);
  const alerts = await ctx.api.alerts({
    ...seriesQuery(s),
    state: s.alertState,
    since,
    until,
    limit: 1000,
  });
  const id = "ctl-alert-state";
  const stateSelect = h(
    "div",
    { class: "control" },
    h("label", { for: id }, "Show"),
    h(
      "select",
      {
        id,
        testid: "alert-state",
        onchange: (e: Event) =>
          ctx.go({ alertState: (e.target as HTMLSelectElement).value as State["alertState"] }),
      },
      ([["all", "Open and resolved"], ["open", "Open"], ["resolved", "Resolved"]] as const).map((
        [v, t],
      ) => h("option", { value: v, selected: v === s.alertState }, t)),
    ),
  );
  const header = panelHeader(
    "Regressions",
    "Alerts opened when a run fell past its threshold against the baseline.",
    stateSelect,
  );
  if (alerts.length === 0) {
    const empty = hasFilters(s) ? noMatch(ctx, "regressions") : nothing(
      "No regressions",
      s.alertState === "resolved"
        ? "No alert has been resolved yet."
        : "No alert matches: every series is within its thresholds.",
    );
    return { el: h("section", { class: "view", testid: "view-regressions" }, header, empty) };
  }
  const open = alerts.filter((a) => a.status === "open").length;
  const failed =
    alerts.filter((a) =>
      ["failed", "permanent_failure"].includes(a.opened_delivery_status ?? "") ||
      ["failed", "permanent_failure"].includes(a.resolved_delivery_status ?? "")
    ).length;
  const el = h(
    "section",
    { class: "view", testid: "view-regressions" },
    header,
    h(
      "div",
      { class: "stats" },
      h(
        "div",
        { class: `stat ${open ? "stat-bad" : "stat-good"}` },
        h("span", { class: "stat-value", testid: "stat-open" }, String(open)),
        h("span", { class: "stat-label" }, "open"),
      ),
      h(
        "div",
        { class: "stat" },
        h("span", { class: "stat-value" }, String(alerts.length - open)),
        h("span", { class: "stat-label" }, "resolved"),
      ),
      h(
        "div",
        { class: `stat ${failed ? "stat-bad" : ""}` },
        h("span", { class: "stat-value" }, String(failed)),
        h("span", { class: "stat-label" }, "failed deliveries"),
      ),
    ),
    h(
      "table",
      { class: "table", testid: "alerts-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          [
            "Series",
            "Metric",
            "Severity",
            "State",
            "Value",
            "Change",
            "Age",
            "Slack delivery",
            "Acknowledged",
          ].map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      h("tbody", {}, alerts.map((a) => row(a, ctx))),
    ),
  );
  return { el };
}
