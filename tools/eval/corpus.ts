// A seeded generator of labelled synthetic eval histories.
//
// Each series is one model's CI history on one eval set: `runs` runs of five metrics.
// precision, recall and f1 are proportions over a finite eval set of `datasetSize`
// examples (binomial sampling error) plus LLM sampling noise; latency_ms has
// multiplicative jitter and transient spikes; analysis_cost is near-deterministic.
// Each metric of each series carries at most one labelled event. Ground truth: a
// persistent change of the true level in the bad direction of at least the tolerance
// (5% of the starting level, the default metric policy).

export const METRICS = ["precision", "recall", "f1", "latency_ms", "analysis_cost"] as const;
export type MetricName = typeof METRICS[number];
export const TOLERANCE = 0.05;

export type EventKind =
  | "none"
  | "step_beyond"
  | "step_below"
  | "drift"
  | "spike"
  | "improvement"
  | "recovering";

export interface MetricHistory {
  metric: MetricName;
  direction: "higher" | "lower";
  event: EventKind;
  /** Run index where the event starts (-1 for none). */
  start: number;
  /** Ground-truth windows start: run index where a true regression of >= tolerance begins. */
  truth: number[];
  values: number[];
  /** Nominal run-to-run noise of the generator, in tolerances (sd / tolerance). */
  noiseRatio: number;
  /** The true starting level (the generator's, never seen by a detector; oracle.ts only). */
  base: number;
}

export interface Series {
  id: number;
  datasetSize: number;
  /** This series' history length (every metric has this many values). */
  runs: number;
  metrics: MetricHistory[];
}

export interface Corpus {
  seed: number;
  /** The family that generated it (families.ts). */
  family: string;
  /** The longest history in the corpus. */
  runs: number;
  series: Series[];
}

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gauss(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export const uni = (r: () => number, a: number, b: number) => a + (b - a) * r();

export function pickEvent(r: () => number): EventKind {
  const x = r();
  const table: [EventKind, number][] = [
    ["none", 0.32],
    ["step_beyond", 0.2],
    ["step_below", 0.1],
    ["drift", 0.1],
    ["spike", 0.1],
    ["improvement", 0.08],
    ["recovering", 0.1],
  ];
  let acc = 0;
  for (const [k, p] of table) {
    acc += p;
    if (x < acc) return k;
  }
  return "none";
}

/** Signed shift of the true level at run t, in units of the tolerance (positive = bad). */
export function shiftAt(
  kind: EventKind,
  t: number,
  start: number,
  size: number,
  length: number,
): number {
  if (kind === "none" || t < start) return 0;
  switch (kind) {
    case "step_beyond":
    case "step_below":
      return size;
    case "improvement":
      return -size;
    case "drift":
      return Math.min((t - start + 1) * size, 2.5);
    case "spike":
      return t === start ? size : 0;
    case "recovering":
      return t < start + length ? size : 0;
  }
  return 0;
}

export function generate(seed: number, seriesCount: number, runs: number): Corpus {
  const r = rng(seed);
  const series: Series[] = [];
  const sizes = [300, 500, 800, 1000, 2000, 5000];
  for (let id = 0; id < seriesCount; id++) {
    const datasetSize = sizes[Math.floor(r() * sizes.length)];
    const llmNoise = uni(r, 0.002, 0.01);
    const metrics: MetricHistory[] = [];
    for (const metric of METRICS) {
      const direction = metric === "latency_ms" || metric === "analysis_cost" ? "lower" : "higher";
      const event = pickEvent(r);
      const start = event === "none" ? -1 : Math.floor(uni(r, 10, runs - 8));
      let size = 0;
      let length = 0;
      switch (event) {
        case "step_beyond":
          size = uni(r, 1.5, 3);
          break;
        case "step_below":
          size = uni(r, 0.2, 0.6);
          break;
        case "drift":
          size = uni(r, 0.15, 0.4); // tolerance units per run
          break;
        case "spike":
          size = uni(r, 2, 5);
          break;
        case "improvement":
          size = uni(r, 1, 3);
          break;
        case "recovering":
          size = uni(r, 1.5, 3);
          length = Math.floor(uni(r, 5, 12));
          break;
      }
      const base = metric === "latency_ms"
        ? uni(r, 200, 2000)
        : metric === "analysis_cost"
        ? uni(r, 0.001, 0.01)
        : uni(r, 0.6, 0.92);
      const jitter = uni(r, 0.01, 0.03);
      const values: number[] = [];
      const truth: number[] = [];
      let inRegression = false;
      for (let t = 0; t < runs; t++) {
        const s = shiftAt(event, t, start, size, length);
        // The true level: s tolerances away from base in the bad direction.
        const trueLevel = direction === "higher"
          ? base * (1 - s * TOLERANCE)
          : base * (1 + s * TOLERANCE);
        const persistent = event !== "spike" && s >= 1 - 1e-9;
        if (persistent && !inRegression) truth.push(t);
        inRegression = persistent;
        let v: number;
        if (metric === "latency_ms") {
          v = trueLevel * Math.exp(jitter * gauss(r));
          if (r() < 0.04) v *= uni(r, 1.5, 3); // transient spike (noise, not an event)
          v = Math.round(v * 10) / 10;
        } else if (metric === "analysis_cost") {
          v = trueLevel * (1 + 0.002 * gauss(r));
          v = Math.round(v * 1e7) / 1e7;
        } else {
          const p = Math.min(Math.max(trueLevel, 0.01), 0.99);
          const se = Math.sqrt(p * (1 - p) / datasetSize);
          v = Math.min(Math.max(p + se * gauss(r) + llmNoise * gauss(r), 0), 1);
          v = Math.round(v * 1e4) / 1e4;
        }
        values.push(v);
      }
      const noiseRatio = metric === "latency_ms"
        ? jitter / TOLERANCE
        : metric === "analysis_cost"
        ? 0.002 / TOLERANCE
        : Math.sqrt(base * (1 - base) / datasetSize + llmNoise ** 2) / (base * TOLERANCE);
      metrics.push({ metric, direction, event, start, truth, values, noiseRatio, base });
    }
    series.push({ id, datasetSize, runs, metrics });
  }
  return { seed, family: "classic", runs, series };
}
