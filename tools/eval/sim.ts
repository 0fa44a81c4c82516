// A TypeScript simulation of the alert rule, for exploring knobs quickly ON THE TUNING
// SPLIT ONLY (`deno run tools/eval/sim.ts`). Reported figures come from the real
// ingest path (main.ts / product.ts), never from here.

import { type Corpus, type MetricHistory, TOLERANCE } from "./corpus.ts";
import { FAMILIES, type Family, generateFamily, TUNING_SEEDS } from "./families.ts";
import { emptyScore, noiseAwareWindow, type Score, scoreOne, summarize } from "./score.ts";

export interface Rule {
  sensitivity: number;
  confirmation: number;
  latencyConfirmation: number;
  minHistory: number;
  historyWindow: number;
  referenceRuns: number;
  evidenceRuns: number;
  evidenceZ: number;
  clipZ: number;
  resolveFraction: number;
  /** Noise from every run (true) or only in-control runs (false, the old rule). */
  noiseAllRuns: boolean;
  /** Small-sample inflation of the series noise: sigma * (1 + smallK / n). */
  smallK: number;
  /** Judge non-proportion metrics on the log scale. */
  logScale: boolean;
  /** Floor on the run noise, as a fraction of the reference level (non-proportions). */
  relFloor: number;
  /** Drop the worst `trim` runs of the evidence window of latency metrics. */
  trim: number;
  /** Series noise estimator: median (MAD) or 20%-trimmed mean of successive differences. */
  estimator: "mad" | "trim20";
  /** What is flagged out of control (kept out of the reference): the old per-run verdict,
   * or only the runs of an episode (the confirming run and the runs beyond tolerance after it). */
  flag: "old" | "episode";
  /** Also take the spread of the reference runs (interquartile range / 1.349) as run noise. */
  levelSpread: boolean;
  /** The evidence mean must also clear zero by this many standard errors (0: sensitivity). */
  alarmZ: number;
  /** Leave out of the reference the runs that were beyond tolerance either way of the
   * reference at their time. */
  refSym: boolean;
  /** Lower quantile of the reference's spread (the range q .. 1 - q, normal-consistent). */
  spreadQ: number;
  /** Each confirming run must be beyond tolerance - eachSlack * noise (0: beyond tolerance). */
  eachSlack: number;
  /** How many of the last confirmation_runs runs must pass the per-run test (0: all). */
  eachOf: number;
  /** The level spread's excess over the successive-difference noise is a slow component
   * common to consecutive runs: it does not average out in the evidence mean. */
  slowVar: boolean;
  /** Runs back within resolve_fraction needed to resolve (at least confirmation_runs). */
  resolveRuns: number;
  /** Small-sample honesty: scale the series noise by t(0.975, df) / 1.96, df the number of
   * successive differences it was estimated from, less one. */
  tQuantile: boolean;
  /** Oracle knowledge (oracle.ts; never a detector): the true run noise (the generator's
   * nominal noise) replaces the estimated one, and/or the true starting level replaces the
   * reference (with no error of its own). */
  oracleNoise: boolean;
  oracleLevel: boolean;
}

export const OLD: Rule = {
  sensitivity: 2,
  confirmation: 2,
  latencyConfirmation: 3,
  minHistory: 5,
  historyWindow: 30,
  referenceRuns: 30,
  evidenceRuns: 10,
  evidenceZ: 1.5,
  clipZ: 2,
  resolveFraction: 0.5,
  noiseAllRuns: false,
  smallK: 0,
  logScale: false,
  relFloor: 0,
  trim: 0,
  estimator: "mad",
  flag: "old",
  levelSpread: false,
  alarmZ: 0,
  refSym: false,
  spreadQ: 0.25,
  eachSlack: 0,
  eachOf: 0,
  slowVar: false,
  resolveRuns: 0,
  tQuantile: false,
  oracleNoise: false,
  oracleLevel: false,
};

/** The robust rule (before resolve_runs and the one-noise-unit confirmation). */
export const ROBUST: Rule = {
  ...OLD,
  noiseAllRuns: true,
  alarmZ: 3.5,
  levelSpread: true,
  latencyConfirmation: 4,
};

/** The shipped rule (assess_runs and evidence in docs/schema/): resolve after 4 runs back; the confirming
 * runs before the newest beyond tolerance less one noise unit. */
export const SHIPPED: Rule = { ...ROBUST, resolveRuns: 4, eachSlack: 1 };

// t(0.975, df) for df = 1 .. 30.
// deno-fmt-ignore
const T975 = [
  12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** Openings of one metric of one series (run 0 pinned as the baseline). */
export function simulate(m: MetricHistory, datasetSize: number, rule: Rule): number[] {
  const prop = m.metric !== "latency_ms" && m.metric !== "analysis_cost";
  const log = rule.logScale && !prop;
  const higher = m.direction === "higher";
  const c = m.metric === "latency_ms" ? rule.latencyConfirmation : rule.confirmation;
  const evRuns = Math.max(rule.evidenceRuns, c);
  const raw = m.values;
  const vals = log ? raw.map((v) => Math.log(Math.max(v, 1e-12))) : raw;
  const own = (v: number) => prop && v >= 0 && v <= 1 ? Math.sqrt(v * (1 - v) / datasetSize) : null;
  const ooc: boolean[] = [false];
  const back: boolean[] = [true];
  const far: boolean[] = [false];
  const openings: number[] = [];
  let open = false;
  const baseSe = own(raw[0]);
  for (let t = 1; t < vals.length; t++) {
    const v = vals[t];
    // history
    const hist: number[] = [];
    for (let k = t - 1; k >= 0 && hist.length < rule.historyWindow; k--) {
      if (rule.noiseAllRuns || !ooc[k]) hist.unshift(vals[k]);
    }
    let histN = 0;
    for (let k = t - 1, n = 0; k >= 0 && n < rule.historyWindow; k--) {
      if (rule.noiseAllRuns || !ooc[k]) (histN++, n++);
    }
    let sigma: number | null = null;
    if (hist.length >= rule.minHistory) {
      const d = [];
      for (let i = 1; i < hist.length; i++) d.push(Math.abs(hist[i] - hist[i - 1]));
      if (rule.estimator === "mad") sigma = 1.4826 * median(d) / Math.SQRT2;
      else {
        const sd = [...d].sort((a, b) => a - b).slice(0, Math.max(1, Math.ceil(0.8 * d.length)));
        sigma = sd.reduce((a, b) => a + b, 0) / sd.length / (0.5586 * Math.SQRT2);
      }
      if (rule.smallK > 0) sigma *= 1 + rule.smallK / d.length;
      if (rule.tQuantile && d.length >= 2) sigma *= T975[Math.min(d.length - 2, 29)] / 1.96;
    }
    // reference
    const ref: number[] = [vals[0]];
    for (let k = 1; k < t && ref.length < rule.referenceRuns; k++) {
      if (!ooc[k] && !(rule.refSym && far[k])) ref.push(vals[k]);
    }
    const R = rule.oracleLevel ? (log ? Math.log(m.base) : m.base) : median(ref);
    const refN = rule.oracleLevel ? Infinity : ref.length;
    const sigmaDiff = sigma;
    let spreadV: number | null = null;
    if (rule.levelSpread && refN >= rule.minHistory) {
      // Interquartile range / 1.349, as assess_runs computes it (percentile_cont, linear).
      const q = (p: number) => {
        const srt = [...ref].sort((a, b) => a - b);
        const h = (srt.length - 1) * p;
        const lo = Math.floor(h);
        return srt[lo] + (h - lo) * ((srt[Math.min(lo + 1, srt.length - 1)]) - srt[lo]);
      };
      const lo = rule.spreadQ;
      const z = { 0.25: 0.6745, 0.3: 0.5244, 0.375: 0.3186 }[lo] ?? 0.6745;
      const spread = (q(1 - lo) - q(lo)) / (2 * z);
      spreadV = spread;
      sigma = sigma === null ? spread : Math.max(sigma, spread);
    }
    if (rule.oracleNoise) {
      sigma = log ? m.noiseRatio * TOLERANCE : m.noiseRatio * TOLERANCE * Math.abs(m.base);
    }
    const ownV = rule.oracleNoise ? null : own(raw[t]);
    let runSigma = sigma === null ? ownV : ownV === null ? sigma : Math.max(sigma, ownV);
    let baseSigma = rule.oracleNoise
      ? sigma
      : sigma === null
      ? baseSe
      : baseSe === null
      ? sigma
      : Math.max(sigma, baseSe);
    if (!prop && rule.relFloor > 0) {
      const f = log ? rule.relFloor : rule.relFloor * Math.abs(R);
      runSigma = Math.max(runSigma ?? 0, f);
      baseSigma = Math.max(baseSigma ?? 0, f);
    }
    const nzRef = (baseSigma ?? 0) * (refN >= 3 ? 1.2533 : 1) / Math.sqrt(refN);
    const slow2 = rule.slowVar && spreadV !== null
      ? Math.max(0, spreadV ** 2 - Math.max(sigmaDiff ?? 0, ownV ?? 0) ** 2)
      : 0;
    const white2 = (runSigma ?? 0) ** 2 - slow2;
    const nz = runSigma === null && baseSigma === null
      ? null
      : Math.sqrt((runSigma ?? 0) ** 2 + nzRef ** 2);
    const hasHistory = rule.oracleNoise || histN >= rule.minHistory - 1;
    const badOf = (x: number) => higher ? R - x : x - R;
    const tol = log ? Math.log(1 + 0.05) : 0.05 * Math.abs(R);
    const bad = badOf(v);
    const beyondTol = bad > 0 && bad > tol;
    const beyondNz = nz === null ? null : bad > rule.sensitivity * nz;
    const isBack = bad <= tol * rule.resolveFraction;
    // evidence
    const seq: number[] = [v];
    for (let k = t - 1; k >= 0 && seq.length < evRuns; k--) seq.push(vals[k]);
    let eachBeyond = seq.length >= c;
    let evident = false;
    const cap = tol + rule.clipZ * (nz ?? 0);
    let sum = 0;
    const bs: number[] = [];
    const need = rule.eachOf || c;
    let passed = 0;
    for (let i = 0; i < c && i < seq.length; i++) {
      const b = badOf(seq[i]);
      if (b > 0 && b > tol - rule.eachSlack * (nz ?? 0)) passed++;
    }
    if (passed < need || !(badOf(seq[0]) > 0 && badOf(seq[0]) > tol)) eachBeyond = false;
    for (let i = 0; eachBeyond && i < seq.length; i++) {
      const b = badOf(seq[i]);
      const cb = nz && nz > 0 ? Math.min(b, cap) : b;
      sum += cb;
      bs.push(cb);
      const j = i + 1;
      if (j >= c) {
        if (nz === null) {
          evident = true;
          break;
        }
        let mean = sum / j;
        let jj = j;
        if (rule.trim > 0 && m.metric === "latency_ms" && j > rule.trim + 1) {
          const s = [...bs].sort((a, b) => a - b).slice(0, j - rule.trim);
          mean = s.reduce((a, b) => a + b, 0) / s.length;
          jj = s.length;
        } else if (rule.trim > 0 && m.metric === "latency_ms") continue;
        const se = Math.sqrt(white2 / jj + slow2 + nzRef ** 2);
        if (mean - tol > rule.evidenceZ * se && mean > (rule.alarmZ || rule.sensitivity) * se) {
          evident = true;
          break;
        }
      }
    }
    const confirmed = hasHistory && eachBeyond && evident;
    const isOoc = (beyondTol && (beyondNz ?? true) && hasHistory) || confirmed;
    let allBack = true;
    let prevN = 0;
    const rc = Math.max(c, rule.resolveRuns);
    for (let k = t - 1; k >= 0 && prevN < rc - 1; k--, prevN++) if (!back[k]) allBack = false;
    const confirmedBack = isBack && prevN === rc - 1 && allBack;
    ooc.push(rule.flag === "old" ? isOoc : confirmed || (ooc[t - 1] && beyondTol));
    back.push(isBack);
    far.push(Math.abs(v - R) > tol);
    if (confirmed && !open) {
      open = true;
      openings.push(t);
    } else if (confirmedBack && open) open = false;
  }
  return openings;
}

export function scoreCorpus(
  corpus: Corpus,
  rule: Rule,
  by?: Record<string, Score>,
  aware?: Score,
): Score {
  const sc = emptyScore();
  for (const s of corpus.series) {
    for (const m of s.metrics) {
      const o = simulate(m, s.datasetSize, rule);
      scoreOne(sc, m.truth, o);
      if (aware) scoreOne(aware, m.truth, o, noiseAwareWindow(m.noiseRatio));
      if (by) {
        by[m.metric] ??= emptyScore();
        scoreOne(by[m.metric], m.truth, o);
      }
    }
  }
  return sc;
}

if (import.meta.main) {
  // Each variant is a change to the shipped rule: '{"name": {knobs}}'.
  const variants: Record<string, Partial<Rule>> = JSON.parse(Deno.args[0] ?? '{"shipped":{}}');
  const corpora = FAMILIES.flatMap((f: Family) =>
    TUNING_SEEDS.map((s) => generateFamily(f, s, false))
  );
  for (const [name, v] of Object.entries(variants)) {
    const rule = { ...SHIPPED, ...v };
    const pooled = emptyScore();
    const aware = emptyScore();
    const parts: string[] = [];
    const byMetric: Record<string, Score> = {};
    for (const f of FAMILIES) {
      const sc = emptyScore();
      for (const c of corpora.filter((c) => c.family === f)) {
        const x = scoreCorpus(c, rule, byMetric, aware);
        sc.tp += x.tp, sc.fp += x.fp, sc.fn += x.fn, sc.delays.push(...x.delays);
      }
      pooled.tp += sc.tp, pooled.fp += sc.fp, pooled.fn += sc.fn, pooled.delays.push(...sc.delays);
      const s = summarize(sc);
      parts.push(`${f} P${s.precision.toFixed(3)} R${s.recall.toFixed(3)} d${s.medianDelay}`);
    }
    const p = summarize(pooled);
    const bm = Object.entries(byMetric).map(([k, s]) => {
      const x = summarize(s);
      return `${k.slice(0, 4)} ${x.precision.toFixed(2)}/${x.recall.toFixed(2)}`;
    }).join(" ");
    const a = summarize(aware);
    console.log(
      `${name}: pooled P${p.precision.toFixed(3)} R${p.recall.toFixed(3)} F${
        p.f1.toFixed(3)
      } d${p.medianDelay} | ${parts.join(" | ")} | ${bm} | noise-aware window P${
        a.precision.toFixed(3)
      } R${a.recall.toFixed(3)}`,
    );
  }
}
