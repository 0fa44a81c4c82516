// Typed access to the read API (docs/api.md) through supabase-js, with the anon key only.
// functions.invoke builds `${url}/functions/v1/${name}` with `new URL`, so a query string in
// the name reaches the function intact.

import {
  createClient,
  FunctionsFetchError,
  FunctionsHttpError,
  FunctionsRelayError,
} from "@supabase/supabase-js";
import type { Config } from "./config";

export interface SeriesKey {
  model_version: string;
  model_provider: string;
  dataset_version: string;
  prompt_version: string;
  environment: string;
}

export const SERIES_KEYS = [
  "model_version",
  "model_provider",
  "dataset_version",
  "prompt_version",
  "environment",
] as const;

export interface Filters {
  model_version: string[];
  model_provider: string[];
  dataset_version: string[];
  prompt_version: string[];
  environment: string[];
  tags: string[];
}

export interface SnapshotMetric {
  metric: string;
  status: string;
  current: number | null;
  baseline: number | null;
  /** null: nothing gives the metric a direction (status direction_unknown). */
  direction: "higher_is_better" | "lower_is_better" | null;
  is_regression: boolean;
  absolute_change: number | null;
  relative_change: number | null;
}

interface SnapshotPage {
  series: SnapshotSeries[];
  total: number;
  next_offset: number | null;
}

export interface SnapshotSeries {
  series: SeriesKey;
  status: string;
  metrics: SnapshotMetric[];
  baseline: {
    model_version: string;
    prompt_version: string;
    pinned_at: string | null;
    transaction_id: string;
  } | null;
  has_own_baseline: boolean;
  prompt_mismatch: boolean;
  open_alerts: number;
  commit_sha: string | null;
  branch_name: string | null;
  created_at: string;
  run_id: string | null;
  triggered_by: string | null;
  tags: string[];
  transaction_id: string;
}

export interface SeriesInfo extends SeriesKey {
  metrics: string[];
  last_run_at: string;
}

export interface TrendPoint {
  t: string;
  value: number;
  commit_sha?: string | null;
  branch_name?: string | null;
  transaction_id?: string;
  min?: number;
  max?: number;
  runs?: number;
}

export interface TrendAlert {
  id: string;
  status: string;
  opened_at: string;
  resolved_at: string | null;
  opened_value: number;
  opened_transaction_id: string | null;
}

export interface Trend {
  resolution: "raw" | "daily";
  direction: "higher_is_better" | "lower_is_better" | null;
  points: TrendPoint[];
  baseline: {
    value: number;
    transaction_id: string;
    model_version: string;
    pinned_at: string | null;
  } | null;
  alerts: TrendAlert[];
}

export interface Alert extends SeriesKey {
  id: string;
  metric_name: string;
  status: string;
  severity: string;
  opened_at: string;
  resolved_at: string | null;
  age_seconds: number;
  opened_value: number;
  baseline_value: number;
  last_value: number | null;
  opened_relative_change: number | null;
  baseline_model_version: string | null;
  opened_delivery_status: string | null;
  resolved_delivery_status: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  /** The run that opened the alert. */
  opened_transaction_id: string;
  /** That run's paired evidence for the metric over all its examples, or null. */
  paired:
    | { n_both: number; worse: number; better: number; p_value: number; q_value: number }
    | null;
}

export interface StabilityMetric {
  metric: string;
  runs: number;
  mean: number | null;
  stddev: number | null;
  cv: number | null;
  min: number | null;
  max: number | null;
}

export interface StabilityEnv {
  environment: string;
  runs: number;
  series: number;
  alerts_opened: number;
  regression_rate: number | null;
  metrics: StabilityMetric[];
}

export interface Stability {
  window_days: number;
  environments: StabilityEnv[];
}

/** A failed request, with what the user needs to fix it. */
/** One paired comparison of a run with its baseline, per metric and slice (null = all). */
export interface PairedRow {
  metric_name: string;
  slice: string | null;
  kind: "binary" | "graded";
  direction: string;
  n_both: number;
  worse: number;
  better: number;
  mean_diff: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value: number;
  q_value: number;
}

export interface FlippedExample {
  metric_name: string;
  example_id: string;
  slice: string | null;
  baseline_value: number;
  current_value: number;
  change: "worse" | "better";
}

/** GET /benchmarks?view=examples: a run against its baseline, example by example. */
export interface RunExamples {
  transaction_id: string;
  created_at: string;
  commit_sha: string;
  series: SeriesKey;
  baseline_transaction_id: string | null;
  q_level: number;
  paired: PairedRow[];
  flipped: FlippedExample[];
  total_flipped: number;
  limit: number;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly kind: "unreachable" | "not_deployed" | "unauthorized" | "http",
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | string[] | undefined>;

export function queryString(q: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === "") continue;
    if (Array.isArray(v)) {
      if (v.length > 0) p.set(k, v.join(","));
    } else p.set(k, String(v));
  }
  return p.toString();
}

export class Api {
  private readonly client;

  constructor(private readonly config: Config) {
    // There are no user sessions here: handing supabase-js the key as a fixed access token
    // skips the auth client (its storage and lock set-up cost ~70 ms before the first call).
    const anonKey = config.anonKey;
    this.client = createClient(config.url, anonKey, {
      accessToken: () => Promise.resolve(anonKey),
    });
  }

  private async get<T>(fn: string, q: Query): Promise<T> {
    const qs = queryString(q);
    const name = qs ? `${fn}?${qs}` : fn;
    const url = `${this.config.url}/functions/v1/${name}`;
    const { data, error } = await this.client.functions.invoke(name, { method: "GET" });
    if (!error) return data as T;
    if (error instanceof FunctionsHttpError || error instanceof FunctionsRelayError) {
      const res = error.context as Response;
      let body: { error?: string; message?: string; msg?: string } = {};
      try {
        body = (await res.json()) as typeof body;
      } catch { /* not JSON: keep the status alone */ }
      const detail = body.message ?? body.msg ?? res.statusText;
      if (res.status === 404 && !body.error) {
        throw new ApiError(`Function not found: ${detail}`, url, "not_deployed", 404);
      }
      if (res.status === 401 || res.status === 403) {
        throw new ApiError(
          `The key was refused: ${detail}`,
          url,
          "unauthorized",
          res.status,
          body.error,
        );
      }
      throw new ApiError(
        `The API answered ${res.status}: ${body.error ?? ""} ${detail}`.trim(),
        url,
        "http",
        res.status,
        body.error,
      );
    }
    if (error instanceof FunctionsFetchError) {
      throw new ApiError(
        "No answer: the server is down, the URL is wrong, or the network (or CORS) blocked the request",
        url,
        "unreachable",
      );
    }
    throw new ApiError(`Request failed: ${String(error)}`, url, "unreachable");
  }

  filters(): Promise<Filters> {
    return this.get("benchmarks", { view: "filters" });
  }

  async series(): Promise<SeriesInfo[]> {
    return (await this.get<{ series: SeriesInfo[] }>("benchmarks", { view: "series" })).series;
  }

  /** Every series matching q: the API answers pages of up to 1000; this follows next_offset. */
  async snapshot(q: Query): Promise<SnapshotSeries[]> {
    const all: SnapshotSeries[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page: SnapshotPage = await this.get<SnapshotPage>("benchmarks", {
        view: "snapshot",
        ...q,
        limit: "1000",
        offset: String(offset),
      });
      all.push(...page.series);
      offset = page.next_offset;
    }
    return all;
  }

  trend(q: Query): Promise<Trend> {
    return this.get("benchmarks", { view: "trend", ...q });
  }

  stability(q: Query): Promise<Stability> {
    return this.get("benchmarks", { view: "stability", ...q });
  }

  examples(q: Query): Promise<RunExamples> {
    return this.get("benchmarks", { view: "examples", ...q });
  }

  async alerts(q: Query): Promise<Alert[]> {
    return (await this.get<{ alerts: Alert[] }>("regressions", q)).alerts;
  }
}
