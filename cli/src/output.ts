// What push and check print: the verdict table on the terminal and, inside GitHub Actions,
// the same as Markdown in the job summary (GITHUB_STEP_SUMMARY).

import { appendFileSync } from "node:fs";
import {
  type PairedCounts,
  pairedCountsText,
  sliceLabel,
  statText,
} from "../../supabase/functions/_shared/paired-format.ts";

export interface MetricVerdict {
  metric_name: string;
  status: string;
  is_regression: boolean | null;
  baseline_value: number | null;
  current_value: number | null;
  relative_change: number | null;
  /** higher or lower: which way is better; null when nothing gives the metric a direction. */
  direction?: string | null;
  /** policy, policy_pattern, name_rule, or none: where the direction came from. */
  policy_source?: string;
  /** Its overall paired comparison with the baseline's examples, when both runs had them. */
  paired?: Omit<PairedResult, "metric_name" | "slice">;
}

/**
 * One line naming the metrics that have no direction (their verdict is direction_unknown:
 * never a regression, never an alert) and those whose direction only the name rule gave,
 * with how to declare one; null when every direction is declared.
 */
export function directionHint(results: RunVerdict[]): string | null {
  const unknown = new Set<string>();
  const guessed = new Map<string, string>();
  for (const r of results) {
    for (const m of r.metrics) {
      if (m.policy_source === "none") unknown.add(m.metric_name);
      else if (m.policy_source === "name_rule") {
        guessed.set(m.metric_name, m.direction ?? "lower");
      }
    }
  }
  if (unknown.size === 0 && guessed.size === 0) return null;
  const list = (names: string[], label: (n: string) => string) =>
    names.slice(0, 5).map(label).join(", ") +
    (names.length > 5 ? ` and ${names.length - 5} more` : "");
  const parts: string[] = [];
  const none = [...unknown].sort();
  const named = [...guessed.keys()].sort();
  if (none.length) {
    parts.push(
      `${list(none, (n) => n)} ${none.length === 1 ? "has" : "have"} no direction ` +
        "(verdict direction_unknown: never a regression, never an alert)",
    );
  }
  if (named.length) {
    parts.push(
      `the direction of ${
        list(named, (n) => `${n} (${guessed.get(n)})`)
      } was guessed from the name`,
    );
  }
  const first = none[0] ?? named[0];
  const dir = none.length ? "higher|lower" : guessed.get(first);
  return `hint: ${parts.join("; ")}; declare it with --direction ${first}=${dir} or ` +
    `benchwatch policy set ${first} --direction ${dir}`;
}

/** One paired comparison of a run with its baseline's examples (docs/api.md, "paired"). */
export interface PairedResult extends PairedCounts {
  metric_name: string;
  /** null: every example the two runs share. */
  slice: string | null;
}

/**
 * The paired lines of a run: per metric, how many examples got worse and better of those both
 * runs scored, with p and the BH q-value; then its worst slices (lowest q, at most three).
 */
export function pairedLines(run: RunVerdict): string[] {
  const out: string[] = [];
  const rows = run.paired ?? [];
  for (const m of rows.filter((r) => r.slice === null)) {
    out.push(`${m.metric_name}: ${pairedCountsText(m)}`);
    const slices = rows
      .filter((r) => r.metric_name === m.metric_name && r.slice !== null && r.worse > r.better)
      .sort((a, b) => a.q_value - b.q_value || (b.worse - b.better) - (a.worse - a.better))
      .slice(0, 3);
    if (slices.length) {
      out.push(
        `  worst slices: ${
          slices.map((r) =>
            `${sliceLabel(r.slice ?? "")} (${r.worse} worse, ${r.better} better, ${
              statText("q", r.q_value)
            })`
          ).join(", ")
        }`,
      );
    }
  }
  return out;
}

export interface RunVerdict {
  transaction_id: string;
  /** The paired comparison with the baseline's examples, when both runs have examples. */
  paired?: PairedResult[];
  /** True when the server had this run already and answered with its first answer. */
  replayed?: boolean;
  series: Record<string, string>;
  regression?: boolean;
  verdict?: string;
  baseline?: { model_version?: string } | null;
  metrics: MetricVerdict[];
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? "—" : String(v));
const pct = (v: number | null | undefined) =>
  v === null || v === undefined
    ? "—"
    : `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v * 100).toFixed(1)}%`;

function status(m: MetricVerdict): string {
  if (m.is_regression) return "REGRESSION";
  if (m.status === "ok") return "ok";
  return m.status.replaceAll("_", " ");
}

export function verdictOf(run: RunVerdict): "regressed" | "ok" | "no_baseline" {
  if (run.verdict === "regressed" || run.regression || run.metrics.some((m) => m.is_regression)) {
    return "regressed";
  }
  if (run.verdict === "no_baseline" || !run.baseline) return "no_baseline";
  return "ok";
}

export function seriesLabel(s: Record<string, string>): string {
  return `${s.model_version} · ${s.dataset_version} · ${s.prompt_version} · ${s.environment}`;
}

export function verdictTable(run: RunVerdict): string {
  const rows = [["metric", "baseline", "current", "change", "status"]];
  for (const m of run.metrics) {
    rows.push([
      m.metric_name,
      fmt(m.baseline_value),
      fmt(m.current_value),
      pct(m.relative_change),
      status(m),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
  return [line(rows[0]), widths.map((w) => "─".repeat(w)).join("  "), ...rows.slice(1).map(line)]
    .join("\n");
}

/** The verdict tables as Markdown; `links` adds a line per run (the PR comment's dashboard links). */
export function markdownSummary(
  title: string,
  runs: RunVerdict[],
  links?: (run: RunVerdict) => string,
): string {
  const out = [`### ${title}`, ""];
  for (const run of runs) {
    const v = verdictOf(run);
    const icon = v === "regressed" ? "❌" : v === "ok" ? "✅" : "➖";
    out.push(
      `**${icon} ${seriesLabel(run.series)}** — ${v.replace("_", " ")} (\`${run.transaction_id}\`)`,
      "",
    );
    if (links) out.push(links(run), "");
    out.push(
      "| metric | baseline | current | change | status |",
      "| --- | ---: | ---: | ---: | --- |",
    );
    for (const m of run.metrics) {
      out.push(
        `| ${m.metric_name} | ${fmt(m.baseline_value)} | ${fmt(m.current_value)} | ${
          pct(m.relative_change)
        } | ${status(m)} |`,
      );
    }
    out.push("");
  }
  return out.join("\n") + "\n";
}

/** Appends to the GitHub Actions job summary when there is one. */
export function writeStepSummary(markdown: string, env = process.env): boolean {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  appendFileSync(file, markdown);
  return true;
}

/** A progress bar on a terminal, plain lines elsewhere (CI logs). */
export function progress(total: number, stream = process.stderr): (done: number) => void {
  let lastLine = -1;
  return (done: number) => {
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      stream.write(`\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total} runs`);
      if (done === total) stream.write("\n");
    } else if (done !== lastLine) {
      stream.write(`pushed ${done}/${total} runs\n`);
      lastLine = done;
    }
  };
}
