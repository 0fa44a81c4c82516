// What every view shares: the context a view renders from, status badges, and the
// empty, no-match and error states.

import type { Api, SeriesInfo, SeriesKey } from "../api";
import { ApiError } from "../api";
import { ConfigError } from "../config";
import { h } from "../dom";
import type { State } from "../state";

export interface Ctx {
  api: Api;
  apiUrl: string;
  state: State;
  /** Every active series (fetched once, shared by all views). */
  series(): Promise<SeriesInfo[]>;
  /** Changes the state (and the URL); replace=true for refinements that need no history entry. */
  go(patch: Partial<State>, opts?: { replace?: boolean }): void;
  clearFilters(): void;
}

export interface Rendered {
  el: HTMLElement;
  /** Runs once el is in the document (charts need their width). */
  mount?(): void;
  unmount?(): void;
}

export type View = (ctx: Ctx) => Promise<Rendered>;

export type Tone = "bad" | "good" | "warn" | "neutral" | "info";

const STATUS_TONE: Record<string, Tone> = {
  regression: "bad",
  regressed: "bad",
  open: "bad",
  critical: "bad",
  major: "bad",
  failed: "bad",
  permanent_failure: "bad",
  minor: "warn",
  pending: "warn",
  no_baseline: "neutral",
  direction_unknown: "warn",
  skipped: "neutral",
  ok: "good",
  improvement: "good",
  improved: "good",
  resolved: "good",
  sent: "good",
};

const STATUS_TEXT: Record<string, string> = {
  regression: "Regression",
  regressed: "Regressed",
  ok: "OK",
  no_baseline: "No baseline",
  direction_unknown: "Direction unknown",
  improvement: "Improved",
  improved: "Improved",
  permanent_failure: "Permanent failure",
};

export function statusText(status: string): string {
  return STATUS_TEXT[status] ?? status.charAt(0).toUpperCase() + status.slice(1).replace(/_/g, " ");
}

/** A status shown in colour and in words, never in colour alone. */
export function badge(
  status: string,
  opts: { testid?: string; tone?: Tone; text?: string } = {},
): HTMLElement {
  const tone = opts.tone ?? STATUS_TONE[status] ?? "neutral";
  const icon = tone === "bad" ? "▼ " : tone === "good" ? "● " : tone === "warn" ? "▲ " : "";
  return h(
    "span",
    { class: `badge badge-${tone}`, testid: opts.testid, "data-status": status },
    h("span", { "aria-hidden": "true" }, icon),
    opts.text ?? statusText(status),
  );
}

export function seriesLabel(k: SeriesKey): string {
  return `${k.model_version} · ${k.dataset_version} · ${k.prompt_version} · ${k.environment}`;
}

export function panelHeader(title: string, subtitle: string, ...tools: HTMLElement[]): HTMLElement {
  return h(
    "div",
    { class: "panel-header" },
    h("div", {}, h("h2", {}, title), h("p", { class: "muted" }, subtitle)),
    tools.length ? h("div", { class: "tools" }, tools) : null,
  );
}

export function noMatch(ctx: Ctx, what = "series"): HTMLElement {
  return h(
    "div",
    { class: "state state-nomatch", testid: "no-match", role: "status" },
    h("h2", {}, `No ${what} match these filters`),
    h("p", {}, "The filters in the sidebar exclude everything. Loosen them, or clear them all."),
    h("button", {
      class: "btn btn-primary",
      type: "button",
      testid: "clear-filters-nomatch",
      onclick: () => ctx.clearFilters(),
    }, "Clear filters"),
  );
}

/** Nothing to show that filters could explain. */
export function nothing(title: string, text: string): HTMLElement {
  return h(
    "div",
    { class: "state", testid: "nothing", role: "status" },
    h("h2", {}, title),
    h("p", {}, text),
  );
}

export function emptyState(apiUrl: string): HTMLElement {
  const push =
    "npx benchwatch push --input results.json --environment local --commit-sha $(git rev-parse HEAD)";
  const curl = [
    `curl -X POST "${apiUrl}/functions/v1/ingest" \\`,
    `  -H "Authorization: Bearer $SUPABASE_SERVICE_ROLE_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"model_version": "my-model-v1", "dataset_version": "eval-set-v1",`,
    `       "prompt_version": "prompt-v1", "model_provider": "openai",`,
    `       "environment": "local", "commit_sha": "'"$(git rev-parse HEAD)"'",`,
    `       "metrics": {"f1": 0.835, "accuracy": 0.86, "latency_ms": 420, "analysis_cost": 0.0043}}'`,
  ].join("\n");
  return h(
    "div",
    { class: "state state-empty", testid: "empty-state", role: "status" },
    h("h2", {}, "No benchmark runs yet"),
    h(
      "p",
      {},
      "This project has no runs to show. Push your first run from CI or your machine, then reload this page.",
    ),
    h("h3", {}, "With the benchwatch CLI"),
    h(
      "p",
      { class: "muted" },
      "Set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY (CI secrets, never this page), then run:",
    ),
    h("pre", { class: "code", testid: "empty-push-command" }, push),
    h("h3", {}, "Or with curl"),
    h("pre", { class: "code", testid: "empty-curl-command" }, curl),
    h(
      "p",
      { class: "muted" },
      "results.json is your benchmark's output: model_version, dataset_version, prompt_version, model_provider and a metrics object of numbers.",
    ),
  );
}

export function errorState(err: unknown, apiUrl: string, retry: () => void): HTMLElement {
  const checks: (string | HTMLElement)[] = [];
  let title = "Something went wrong";
  let message = err instanceof Error ? err.message : String(err);
  let failedUrl: string | null = null;
  if (err instanceof ConfigError) {
    title = "The dashboard is not configured";
    checks.push(...err.checks);
    checks.push(
      "The host serves ./env.json with SUPABASE_URL and SUPABASE_ANON_KEY (benchwatch dashboard does), or the build had VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY",
    );
  } else {
    failedUrl = err instanceof ApiError ? err.url : null;
    const kind = err instanceof ApiError ? err.kind : "unreachable";
    title = kind === "unreachable"
      ? "Cannot reach Supabase"
      : kind === "not_deployed"
      ? "The API functions are not deployed"
      : kind === "unauthorized"
      ? "The API refused the key"
      : "The API answered with an error";
    message = err instanceof Error ? err.message : message;
    checks.push(
      h(
        "span",
        {},
        "SUPABASE_URL is set, uses https and has no trailing slash: it is ",
        h("code", {}, apiUrl || "(not set)"),
      ),
      "SUPABASE_ANON_KEY is the project's anon key (Project Settings → API), not the service role key",
      h(
        "span",
        {},
        "The Edge Functions are deployed: ",
        h("code", {}, "supabase functions deploy"),
        ", then ",
        h("code", {}, `curl ${apiUrl}/functions/v1/health`),
      ),
      h(
        "span",
        {},
        "Data exists and is active: ",
        h("code", {}, "SELECT COUNT(*) FROM benchmark_snapshots WHERE is_active = TRUE;"),
      ),
      "The filters in the sidebar are not too restrictive",
    );
  }
  return h(
    "div",
    { class: "state state-error", testid: "error-state", role: "alert" },
    h("h2", {}, title),
    h("p", { testid: "error-message" }, message),
    failedUrl
      ? h("p", {}, "Failed request: ", h("code", { testid: "error-url", class: "wrap" }, failedUrl))
      : null,
    h("h3", {}, "Check"),
    h("ol", { class: "checks", testid: "error-checks" }, checks.map((c) => h("li", {}, c))),
    h(
      "button",
      { class: "btn btn-primary", type: "button", testid: "retry", onclick: retry },
      "Retry",
    ),
  );
}
