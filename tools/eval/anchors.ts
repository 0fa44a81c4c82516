// The anchors' regression rules at their shipped defaults, applied to one metric's
// history. Each returns the run indices where an alert OPENS: a flagged run whose
// previous run was not flagged (one alert per episode, as benchwatch keeps one open
// alert per series and metric), so stateless tools are not charged for repeats.

export type Direction = "higher" | "lower";
export type Method = (values: number[], direction: Direction) => number[];

function openings(flags: boolean[]): number[] {
  const out: number[] = [];
  for (let t = 0; t < flags.length; t++) if (flags[t] && !(t > 0 && flags[t - 1])) out.push(t);
  return out;
}

/** Bad-direction change of x relative to ref (positive = worse). */
function badRel(x: number, ref: number, d: Direction): number {
  if (ref === 0) return 0;
  return (d === "higher" ? ref - x : x - ref) / Math.abs(ref);
}

function meanSd(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
  return [m, Math.sqrt(v)];
}

/** The setup guide's rule: more than 5% worse than the pinned first run. */
export const guide: Method = (v, d) =>
  openings(v.map((x, t) => t > 0 && badRel(x, v[0], d) > 0.05));

/** github-action-benchmark: ratio to the previous run, alert-threshold 200%. */
export const githubActionBenchmark: Method = (v, d) =>
  openings(v.map((x, t) => {
    if (t === 0) return false;
    const ratio = d === "lower" ? x / v[t - 1] : v[t - 1] / x;
    return ratio > 2;
  }));

function zScoreRule(window: number, z: number, minHistory = 2): Method {
  return (v, d) =>
    openings(v.map((x, t) => {
      const hist = v.slice(Math.max(0, t - window), t);
      if (hist.length < minHistory) return false;
      const [m, sd] = meanSd(hist);
      if (!(sd > 0)) return d === "higher" ? x < m : x > m;
      const zz = (x - m) / sd;
      return d === "higher" ? zz < -z : zz > z;
    }));
}

/** Conbench: lookback z-score over the last 100 runs, threshold z = 5. */
export const conbench: Method = zScoreRule(100, 5);
/** W&B: z-score over a window of 30 runs, threshold z = 3. */
export const wandb: Method = zScoreRule(30, 3);

/** Student's t quantile (Cornish-Fisher expansion around the normal quantile). */
export function tQuantile(p: number, nu: number): number {
  const z = normalQuantile(p);
  const z3 = z ** 3, z5 = z ** 5, z7 = z ** 7, z9 = z ** 9;
  return z + (z3 + z) / (4 * nu) + (5 * z5 + 16 * z3 + 3 * z) / (96 * nu ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * nu ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * nu ** 4);
}

/** Acklam's rational approximation of the standard normal quantile. */
export function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const e = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Bencher: t-test threshold, max sample size 64, boundary 0.99 (prediction interval). */
export const bencher: Method = (v, d) =>
  openings(v.map((x, t) => {
    const hist = v.slice(Math.max(0, t - 64), t);
    if (hist.length < 2) return false;
    const [m, sd] = meanSd(hist);
    const limit = tQuantile(0.99, hist.length - 1) * sd * Math.sqrt(1 + 1 / hist.length);
    return d === "higher" ? x < m - limit : x > m + limit;
  }));

export const ANCHORS: Record<string, Method> = {
  "guide rule (pinned first run, 5%)": guide,
  "github-action-benchmark (previous run, 200%)": githubActionBenchmark,
  "Conbench (lookback z-score, 100 runs, z=5)": conbench,
  "Bencher (t-test, 64 runs, 0.99)": bencher,
  "W&B (z-score, window 30, z=3)": wandb,
};
