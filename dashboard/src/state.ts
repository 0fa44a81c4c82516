// The dashboard's whole state lives in the query string, so any view with its filters can
// be shared as a link and a reload lands on the same thing. Defaults are left out of the
// URL to keep links short.

import { type Query, SERIES_KEYS, type SeriesKey } from "./api";

export const VIEWS = [
  { id: "snapshot", label: "Current snapshot" },
  { id: "trends", label: "Trends" },
  { id: "regressions", label: "Regressions" },
  { id: "stability", label: "Stability" },
  { id: "models", label: "Model performance" },
  { id: "examples", label: "Examples" },
] as const;
export type ViewId = (typeof VIEWS)[number]["id"];

export const FILTER_KEYS = SERIES_KEYS;
export type FilterKey = (typeof FILTER_KEYS)[number];

export interface State {
  view: ViewId;
  filters: Record<FilterKey, string>;
  tags: string[];
  since: string; // YYYY-MM-DD or ""
  until: string;
  series: string; // trend series, see seriesId()
  metric: string;
  res: "auto" | "raw" | "daily";
  window: 7 | 30 | 90;
  alertState: "open" | "resolved" | "all";
  xAxis: "cost" | "latency";
  /** Examples view: the run (transaction id), a slice ("" all, "-" unlabelled), flips shown. */
  run: string;
  slice: string;
  change: "all" | "worse" | "better";
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function oneOf<T extends string | number>(value: T | null, allowed: readonly T[], fallback: T): T {
  return value !== null && allowed.includes(value) ? value : fallback;
}

export function parseState(search: string): State {
  const p = new URLSearchParams(search);
  const filters = {} as Record<FilterKey, string>;
  for (const k of FILTER_KEYS) filters[k] = p.get(k) ?? "";
  const since = p.get("since") ?? "";
  const until = p.get("until") ?? "";
  return {
    view: oneOf(p.get("view") as ViewId | null, VIEWS.map((v) => v.id), "snapshot"),
    filters,
    tags: (p.get("tags") ?? "").split(",").filter(Boolean),
    since: DATE.test(since) ? since : "",
    until: DATE.test(until) ? until : "",
    series: p.get("series") ?? "",
    metric: p.get("metric") ?? "",
    res: oneOf(p.get("res") as State["res"] | null, ["auto", "raw", "daily"], "auto"),
    window: oneOf(Number(p.get("window") ?? 30) as State["window"], [7, 30, 90], 30),
    alertState: oneOf(
      p.get("state") as State["alertState"] | null,
      ["open", "resolved", "all"],
      "all",
    ),
    xAxis: oneOf(p.get("x") as State["xAxis"] | null, ["cost", "latency"], "cost"),
    run: UUID.test(p.get("run") ?? "") ? p.get("run")! : "",
    slice: p.get("slice") ?? "",
    change: oneOf(p.get("change") as State["change"] | null, ["all", "worse", "better"], "all"),
  };
}

export function serializeState(s: State): string {
  const p = new URLSearchParams();
  if (s.view !== "snapshot") p.set("view", s.view);
  for (const k of FILTER_KEYS) if (s.filters[k]) p.set(k, s.filters[k]);
  if (s.tags.length) p.set("tags", s.tags.join(","));
  if (s.since) p.set("since", s.since);
  if (s.until) p.set("until", s.until);
  if (s.view === "trends") {
    if (s.series) p.set("series", s.series);
    if (s.metric) p.set("metric", s.metric);
    if (s.res !== "auto") p.set("res", s.res);
  }
  if (s.view === "stability" && s.window !== 30) p.set("window", String(s.window));
  if (s.view === "regressions" && s.alertState !== "all") p.set("state", s.alertState);
  if (s.view === "models" && s.xAxis !== "cost") p.set("x", s.xAxis);
  if (s.view === "examples") {
    if (s.run) p.set("run", s.run);
    if (s.metric) p.set("metric", s.metric);
    if (s.slice) p.set("slice", s.slice);
    if (s.change !== "all") p.set("change", s.change);
  }
  const qs = p.toString();
  return qs ? `?${qs}` : "";
}

export function hasFilters(s: State): boolean {
  return FILTER_KEYS.some((k) => s.filters[k]) || s.tags.length > 0 || !!s.since || !!s.until;
}

export function clearFilters(s: State): State {
  const filters = {} as Record<FilterKey, string>;
  for (const k of FILTER_KEYS) filters[k] = "";
  return { ...s, filters, tags: [], since: "", until: "" };
}

/** Start and end of the date range as the API's ISO timestamps (whole UTC days). */
export function range(s: State): { since?: string; until?: string } {
  return {
    since: s.since ? `${s.since}T00:00:00Z` : undefined,
    until: s.until ? `${s.until}T23:59:59.999Z` : undefined,
  };
}

/** The series filters as API query parameters. */
export function seriesQuery(s: State): Query {
  const q: Query = {};
  for (const k of FILTER_KEYS) if (s.filters[k]) q[k] = s.filters[k];
  return q;
}

// A series is identified in the URL by its five keys joined with "|" (which
// URLSearchParams escapes), in SERIES_KEYS order.
export function seriesId(k: SeriesKey): string {
  return SERIES_KEYS.map((key) => k[key]).join("|");
}

export function parseSeriesId(id: string): SeriesKey | null {
  const parts = id.split("|");
  if (parts.length !== SERIES_KEYS.length || parts.some((p) => !p)) return null;
  const k = {} as SeriesKey;
  SERIES_KEYS.forEach((key, i) => (k[key] = parts[i]));
  return k;
}

export function matchesFilters(k: SeriesKey, s: State): boolean {
  return FILTER_KEYS.every((f) => !s.filters[f] || s.filters[f] === k[f]);
}
