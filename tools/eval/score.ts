// Scoring alert openings against the ground truth: a true positive is the first
// opening inside [truth start, truth start + WINDOW]; every other opening is a false
// positive; a truth window without an opening is a false negative.

import { type MetricHistory } from "./corpus.ts";

export const WINDOW = 4;

/**
 * The noise-aware window (docs/detection.md, "Scoring"): max(4, ceil(4 r^2)) runs for a series
 * whose run-to-run noise is r tolerances, the runs a mean needs to show a step of 2
 * tolerances (the middle of the corpus's steps) one tolerance past the tolerance at 2
 * standard errors. Fixed from that formula, not fitted; the same for every method.
 */
export function noiseAwareWindow(noiseRatio: number): number {
  return Math.max(WINDOW, Math.ceil(4 * noiseRatio * noiseRatio));
}

export interface Score {
  tp: number;
  fp: number;
  fn: number;
  delays: number[];
}

export function emptyScore(): Score {
  return { tp: 0, fp: 0, fn: 0, delays: [] };
}

export function scoreOne(
  s: Score,
  truth: number[],
  openings: number[],
  window: number = WINDOW,
): void {
  const matched = new Set<number>();
  for (const o of [...openings].sort((a, b) => a - b)) {
    const w = truth.find((start) => !matched.has(start) && o >= start && o <= start + window);
    if (w === undefined) {
      s.fp++;
    } else {
      matched.add(w);
      s.tp++;
      s.delays.push(o - w);
    }
  }
  s.fn += truth.length - matched.size;
}

export interface Summary {
  precision: number;
  recall: number;
  f1: number;
  medianDelay: number | null;
  tp: number;
  fp: number;
  fn: number;
}

export function summarize(s: Score): Summary {
  const precision = s.tp + s.fp ? s.tp / (s.tp + s.fp) : 0;
  const recall = s.tp + s.fn ? s.tp / (s.tp + s.fn) : 0;
  const f1 = precision + recall ? 2 * precision * recall / (precision + recall) : 0;
  const d = [...s.delays].sort((a, b) => a - b);
  const medianDelay = d.length
    ? (d.length % 2 ? d[(d.length - 1) / 2] : (d[d.length / 2 - 1] + d[d.length / 2]) / 2)
    : null;
  return { precision, recall, f1, medianDelay, tp: s.tp, fp: s.fp, fn: s.fn };
}

/** Why a false opening is false (4-run window), in the order they are tested. */
export const CAUSES = [
  "no regression on the metric",
  "before the window",
  "late, after a missed window",
  "re-opening after a resolve",
  "after the regression ended",
] as const;
export type Cause = typeof CAUSES[number];

export function falseOpeningCauses(m: MetricHistory, openings: number[]): Cause[] {
  const matched = new Set<number>();
  const seen = new Set<number>();
  const out: Cause[] = [];
  for (const o of [...openings].sort((a, b) => a - b)) {
    const w = m.truth.find((s) => !matched.has(s) && o >= s && o <= s + WINDOW);
    if (w !== undefined) {
      matched.add(w);
      seen.add(w);
      continue;
    }
    const start = [...m.truth].reverse().find((s) => s <= o);
    if (!m.truth.length) out.push("no regression on the metric");
    else if (start === undefined) out.push("before the window");
    else if (m.event === "recovering" && o >= m.start + 12) out.push("after the regression ended");
    else if (seen.has(start)) out.push("re-opening after a resolve");
    else {
      seen.add(start);
      out.push("late, after a missed window");
    }
  }
  return out;
}

/** A metric's noise-to-tolerance bucket, as the breakdown tables name it. */
export const ratioBucket = (r: number) =>
  r < 0.25
    ? "< 0.25"
    : r < 0.5
    ? "0.25-0.5"
    : r < 1
    ? "0.5-1"
    : r < 1.5
    ? "1-1.5"
    : r < 2
    ? "1.5-2"
    : ">= 2";
export const RATIO_ORDER = ["< 0.25", "0.25-0.5", "0.5-1", "1-1.5", "1.5-2", ">= 2"];
