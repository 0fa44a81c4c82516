// What every adapter returns, and the small helpers they share. An adapter is a pure
// function from a tool's parsed output file to runs in the ingest schema's shape; the
// schema itself is checked later, once, by inputs.ts's prepareRuns.

import { createHash } from "node:crypto";

export type Direction = "higher" | "lower";

export interface AdaptedRun {
  /** A run body in the ingest schema's shape (fields the file lacks are left out). */
  run: Record<string, unknown>;
  /** Where in the file it came from, e.g. the task name, for error messages. */
  label: string;
  /**
   * Each metric's direction as the file gives it. Not sent yet: the ingest payload has no
   * metric_directions field until the server accepts it.
   */
  directions: Record<string, Direction>;
}

export interface Adapter {
  /** The --format name. */
  name: string;
  /** What the format is, for the list printed when a file matches none. */
  describe: string;
  /** True when the parsed file is this tool's output (checked on content, not file name). */
  detect(value: unknown): boolean;
  toRuns(value: unknown): AdaptedRun[];
}

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A finite number, or undefined for anything else (lm-eval's "N/A", null, strings). */
export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** A metric name the ingest schema accepts: characters outside [A-Za-z0-9_.:-/] become "_". */
export function metricName(raw: string): string {
  return raw.trim().replace(/[^A-Za-z0-9_.:\-\/]+/g, "_").slice(0, 128);
}

/** The first 12 hex digits of the SHA-256 of a value's JSON with sorted keys. */
export function shortHash(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex").slice(0, 12);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (isObject(value)) {
    return `{${
      Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`)
        .join(",")
    }}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A text field within the schema's length limit: longer text is cut and tagged with its hash. */
export function fit(text: string, max = 200): string {
  const t = text.trim();
  return t.length <= max ? t : `${t.slice(0, max - 14)}…#${shortHash(t)}`;
}

/** Drops undefined fields, so a missing value reads as "not in the file". */
export function defined(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
