// How a paired comparison (a run's examples against its baseline's, docs/detection.md) reads
// wherever users see it: the CLI's push output and the Slack alert say it the same way. No
// dependencies, so the Edge Functions and the Node CLI both import it.

/** The counts and significance of one paired comparison, overall or for one slice. */
export interface PairedCounts {
  /** Examples scored in both runs. */
  n_both: number;
  worse: number;
  better: number;
  p_value: number;
  /** Benjamini-Hochberg q-value over the run's metric x slice comparisons. */
  q_value: number;
}

/** A p- or q-value with two significant digits (0.013, 0.00022), or "< 1e-6". */
export function formatP(p: number): string {
  if (p < 1e-6) return "< 1e-6";
  return p >= 0.1 ? p.toFixed(2) : p.toPrecision(2);
}

/** "p = 0.013", "q = 0.039", or "p < 1e-6". */
export function statText(name: "p" | "q", value: number): string {
  const v = formatP(value);
  return v.startsWith("<") ? `${name} ${v}` : `${name} = ${v}`;
}

/** "12 examples worse, 2 better of 200 (p = 0.013, q = 0.039)". */
export function pairedCountsText(c: PairedCounts): string {
  return `${c.worse} examples worse, ${c.better} better of ${c.n_both} ` +
    `(${statText("p", c.p_value)}, ${statText("q", c.q_value)})`;
}

/** A slice as shown: the examples sent without a slice label are the slice "". */
export const sliceLabel = (slice: string): string => slice || "(no slice)";
