// Examples: one run against its baseline, example by example. The paired
// comparison per metric and slice, with its q-values, and the examples that flipped,
// filterable by metric, slice and direction. The run, the filters and the view live in the
// URL like every other view's state.

import type { FlippedExample, PairedRow, RunExamples, SnapshotSeries } from "../api";
import { h } from "../dom";
import { num, shortSha, utc } from "../format";
import { range, seriesQuery, type State } from "../state";
import {
  badge,
  type Ctx,
  noMatch,
  nothing,
  panelHeader,
  type Rendered,
  seriesLabel,
} from "./common";

/** "-" in the URL is the examples without a slice (the API's ""). */
const NO_SLICE = "-";

function control(
  testid: string,
  label: string,
  value: string,
  options: [string, string][],
  onChange: (v: string) => void,
): HTMLElement {
  const id = `ctl-${testid}`;
  return h(
    "div",
    { class: "control" },
    h("label", { for: id }, label),
    h(
      "select",
      { id, testid, onchange: (e: Event) => onChange((e.target as HTMLSelectElement).value) },
      options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
    ),
  );
}

function fmtP(p: number): string {
  if (p < 1e-4) return p.toExponential(1);
  return p >= 0.1 ? p.toFixed(2) : p.toPrecision(2);
}

function significant(r: PairedRow, level: number): boolean {
  return r.worse > r.better && r.q_value < level;
}

function sliceName(slice: string | null): string {
  return slice === null ? "All examples" : slice === "" ? "(no slice)" : slice;
}

function pairedTable(rows: PairedRow[], level: number, s: State, ctx: Ctx): HTMLElement {
  return h(
    "table",
    { class: "table", testid: "slice-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Metric", "Slice", "Compared", "Worse", "Better", "Mean change (95% CI)", "p", "q", ""]
          .map((t) => h("th", { scope: "col" }, t)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((r) => {
        const sliceValue = r.slice === null ? "" : r.slice === "" ? NO_SLICE : r.slice;
        const selected = (s.metric || rows[0]?.metric_name) === r.metric_name &&
          s.slice === sliceValue;
        return h(
          "tr",
          {
            testid: "slice-row",
            "data-metric": r.metric_name,
            "data-slice": r.slice ?? "",
            "data-q": String(r.q_value),
            class: selected ? "selected" : "",
          },
          h("td", {}, r.metric_name),
          h(
            "td",
            {},
            h("button", {
              type: "button",
              class: "link",
              testid: "slice-pick",
              onclick: () => ctx.go({ metric: r.metric_name, slice: sliceValue }),
            }, sliceName(r.slice)),
          ),
          h("td", { class: "num" }, String(r.n_both)),
          h("td", { class: "num", testid: "slice-worse" }, String(r.worse)),
          h("td", { class: "num" }, String(r.better)),
          h(
            "td",
            { class: "num" },
            `${num(r.mean_diff)} (${num(r.ci_low)} to ${num(r.ci_high)})`,
          ),
          h("td", { class: "num", testid: "slice-p" }, fmtP(r.p_value)),
          h("td", { class: "num", testid: "slice-q" }, fmtP(r.q_value)),
          h(
            "td",
            {},
            significant(r, level)
              ? badge("regression", { text: "Worse (significant)", testid: "slice-verdict" })
              : badge("ok", { tone: "neutral", text: "No evidence", testid: "slice-verdict" }),
          ),
        );
      }),
    ),
  );
}

function flippedTable(rows: FlippedExample[]): HTMLElement {
  return h(
    "table",
    { class: "table", testid: "flipped-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Example", "Slice", "Metric", "Baseline", "This run", "Change"].map((t) =>
          h("th", { scope: "col" }, t)
        ),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((f) =>
        h(
          "tr",
          {
            testid: "flipped-row",
            "data-example": f.example_id,
            "data-slice": f.slice ?? "",
            "data-change": f.change,
          },
          h("td", {}, h("code", {}, f.example_id)),
          h("td", {}, sliceName(f.slice ?? "")),
          h("td", {}, f.metric_name),
          h("td", { class: "num" }, num(f.baseline_value)),
          h("td", { class: "num" }, num(f.current_value)),
          h(
            "td",
            {},
            badge(f.change === "worse" ? "regression" : "improved", {
              text: f.change === "worse" ? "Worse" : "Better",
            }),
          ),
        )
      ),
    ),
  );
}

export async function examplesView(ctx: Ctx): Promise<Rendered> {
  const s = ctx.state;
  // The runs to pick from: the latest run of every series the filters leave.
  const series: SnapshotSeries[] = await ctx.api.snapshot({
    ...seriesQuery(s),
    ...range(s),
    tags: s.tags,
  });
  const runs = series.filter((x) => x.baseline);
  if (!s.run) {
    // Opened from its tab: the run of the newest alert that paired evidence opened, on the
    // examples that broke, so the view starts where the question is.
    const { since, until } = range(s);
    const alerts = await ctx.api.alerts({ ...seriesQuery(s), since, until, limit: 100 });
    const latest = alerts.find((a) => a.paired && a.paired.worse > 0);
    if (latest) {
      ctx.go(
        {
          run: latest.opened_transaction_id,
          metric: latest.metric_name,
          slice: "",
          change: "worse",
        },
        { replace: true },
      );
      return { el: h("section", {}) }; // never shown: the navigation renders again
    }
  }
  const runPick = control(
    "examples-run",
    "Run",
    s.run,
    [
      ...(s.run ? [] : [["", "Pick a run…"] as [string, string]]),
      ...runs.map((x): [string, string] => [
        x.transaction_id,
        `${seriesLabel(x.series)} · ${shortSha(x.commit_sha)}`,
      ]),
      ...(s.run && !runs.some((x) => x.transaction_id === s.run)
        ? [[s.run, `run ${s.run.slice(0, 8)}`] as [string, string]]
        : []),
    ],
    (v) => ctx.go({ run: v, metric: "", slice: "", change: "all" }),
  );
  if (!s.run) {
    const header = panelHeader(
      "Examples",
      "Which examples a run got wrong that its baseline got right, and whether that is evidence.",
      runPick,
    );
    const body = runs.length
      ? nothing(
        "Pick a run",
        'Choose a run to compare with its baseline, example by example. Runs that sent per-example scores ("examples") show the examples that flipped.',
      )
      : noMatch(ctx, "runs with a baseline");
    return { el: h("section", { testid: "view-examples" }, header, body) };
  }

  const all: RunExamples = await ctx.api.examples({ transaction_id: s.run });
  const metrics = [...new Set(all.paired.map((r) => r.metric_name))];
  const metric = s.metric && metrics.includes(s.metric) ? s.metric : metrics[0] ?? "";
  const slices = [
    ...new Set(
      all.paired.filter((r) => r.metric_name === metric && r.slice !== null).map((r) => r.slice!),
    ),
  ];
  const apiSlice = s.slice === NO_SLICE ? "" : s.slice || undefined;
  const data = metric
    ? await ctx.api.examples({
      transaction_id: s.run,
      metric,
      slice: apiSlice,
      change: s.change,
      limit: 200,
    })
    : all;

  const header = panelHeader(
    "Examples",
    `${seriesLabel(all.series)} · run ${shortSha(all.commit_sha)} of ${utc(all.created_at)}, ` +
      "against its baseline, example by example.",
    runPick,
    control(
      "examples-metric",
      "Metric",
      metric,
      metrics.map((m) => [m, m]),
      (v) => ctx.go({ metric: v, slice: "" }),
    ),
    control(
      "examples-slice",
      "Slice",
      s.slice,
      [
        ["", "All slices"],
        ...slices.map((x): [string, string] => [x === "" ? NO_SLICE : x, sliceName(x)]),
      ],
      (v) => ctx.go({ slice: v }),
    ),
    control(
      "examples-change",
      "Show",
      s.change,
      [["all", "Worse and better"], ["worse", "Worse only"], ["better", "Better only"]],
      (v) => ctx.go({ change: v as State["change"] }),
    ),
  );
  if (all.paired.length === 0) {
    return {
      el: h(
        "section",
        { testid: "view-examples" },
        header,
        nothing(
          "No per-example results for this run",
          'This run, or its baseline, sent no per-example scores. Add "examples" to the run (docs/api.md) to see which examples flipped.',
        ),
      ),
    };
  }
  const paired = all.paired.filter((r) => r.metric_name === metric);
  const shown = data.flipped.length;
  return {
    el: h(
      "section",
      { testid: "view-examples" },
      header,
      h("h3", {}, "Paired comparison per slice"),
      h(
        "p",
        { class: "muted small" },
        `McNemar's exact test on the examples that flipped (the sign test for graded scores); ` +
          `q is the Benjamini-Hochberg q-value over the run's comparisons that can be ` +
          `discoveries (one with too few flipped examples to ever reach ${all.q_level} gets q = 1). ` +
          `An alert opens when the drop is beyond tolerance and a comparison, all examples or a ` +
          `slice, is worse with q < ${all.q_level}, confirmed by the series' previous run since ` +
          `the baseline when there is one.`,
      ),
      pairedTable(paired, all.q_level, s, ctx),
      h("h3", {}, "Flipped examples"),
      h(
        "p",
        { class: "muted small", testid: "flipped-count" },
        `${data.total_flipped} flipped${
          shown < data.total_flipped ? `, showing the first ${shown}` : ""
        }`,
      ),
      shown
        ? flippedTable(data.flipped)
        : nothing("No flipped examples", "No example matches these filters."),
    ),
  };
}
