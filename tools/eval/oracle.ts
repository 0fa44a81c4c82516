// What the corpus allows: oracle detectors that are handed what benchwatch has to estimate.
// `deno run tools/eval/oracle.ts [--split tuning|held-out]`.
//
// Each oracle knows every metric's true starting level (the generator's `base`, so its
// reference has no error) and its nominal run-to-run noise (`noiseRatio`, so it needs no
// history). Two shapes of rule are swept over a grid of their knobs, and the best point of
// the grid is read off on the split being scored, so each figure is OPTIMISTIC for its
// shape: the knobs are chosen on the data they are scored on. That makes it an upper bound
// for rules of that shape, not a detector: nothing here is shipped, and no knob of the
// shipped rule comes from it.
//
// - window: the shipped rule's test with the true level and noise: the newest run beyond
//   tolerance, each of the other last `c` runs beyond tolerance less one noise unit, and the
//   clipped mean of the last j runs (c <= j <= 10) past tolerance by `ez` standard errors and
//   past zero by `az`.
// - cusum: Page's CUSUM of the clipped change in noise units against a reference `k`
//   tolerances (between the tolerance, the worst no-regression level, and the corpus's
//   steps), opening at `h` with the newest run beyond tolerance; the optimal test for a
//   step of known size and noise (Lorden, Moustakides).
//
// Both resolve as the shipped rule does (4 runs back within half the tolerance) and restart
// from nothing after a resolution.

import { type Corpus, type MetricHistory, TOLERANCE } from "./corpus.ts";
import {
  FAMILIES,
  type Family,
  generateFamily,
  HELD_OUT_SEEDS,
  REPORTED,
  TUNING_SEEDS,
} from "./families.ts";
import {
  CAUSES,
  emptyScore,
  falseOpeningCauses,
  noiseAwareWindow,
  RATIO_ORDER,
  ratioBucket,
  type Score,
  scoreOne,
  summarize,
} from "./score.ts";

interface Window {
  shape: "window";
  c: number;
  latencyC: number;
  ez: number;
  az: number;
}
interface Cusum {
  shape: "cusum";
  k: number;
  h: number;
  clip: number;
}
type Oracle = Window | Cusum;

const RESOLVE_RUNS = 4;

function openings(m: MetricHistory, o: Oracle): number[] {
  const tol = TOLERANCE * Math.abs(m.base);
  const sigma = Math.max(m.noiseRatio * tol, 1e-12);
  const bad = m.values.map((v) => m.direction === "higher" ? m.base - v : v - m.base);
  const out: number[] = [];
  let open = false;
  let back = 0;
  let s = 0;
  let since = 0; // first run the detector may use (after a resolution it starts afresh)
  for (let t = 1; t < bad.length; t++) {
    const b = bad[t];
    if (open) {
      back = b <= tol / 2 ? back + 1 : 0;
      if (back >= RESOLVE_RUNS) (open = false, s = 0, since = t + 1);
      continue;
    }
    let fire = false;
    if (o.shape === "cusum") {
      s = Math.max(0, s + (Math.min(b, tol + o.clip * sigma) - o.k * tol) / sigma);
      fire = b > tol && s > o.h;
    } else if (b > tol) {
      const c = m.metric === "latency_ms" ? o.latencyC : o.c;
      let each = t - since + 1 >= c;
      for (let i = 1; each && i < c; i++) each = bad[t - i] > tol - sigma;
      let sum = 0;
      for (let j = 1; each && j <= 10 && t - j + 1 >= Math.max(since, 1); j++) {
        sum += Math.min(bad[t - j + 1], tol + 2 * sigma);
        if (j < c) continue;
        const se = sigma / Math.sqrt(j);
        const mean = sum / j;
        if (mean - tol > o.ez * se && mean > o.az * se) {
          fire = true;
          break;
        }
      }
    }
    if (fire) (open = true, back = 0, out.push(t));
  }
  return out;
}

function grid(): Oracle[] {
  const g: Oracle[] = [];
  for (const c of [1, 2, 3, 4]) {
    for (const latencyC of new Set([c, 4])) {
      for (const ez of [0, 0.5, 1, 1.5, 2, 2.5, 3]) {
        for (const az of [0, 2, 3, 3.5, 4, 5, 6]) g.push({ shape: "window", c, latencyC, ez, az });
      }
    }
  }
  for (const k of [1, 1.25, 1.5]) {
    for (const clip of [1, 2, 3]) {
      for (const h of [0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12]) {
        g.push({ shape: "cusum", k, h, clip });
      }
    }
  }
  return g;
}

interface Point {
  oracle: Oracle;
  fixed: Score;
  aware: Score;
  family: Record<string, Score>;
  metric: Record<string, Score>;
  causes: Record<string, number>;
  ratio: Record<string, Score>;
}

function add(a: Score, b: Score) {
  a.tp += b.tp, a.fp += b.fp, a.fn += b.fn, a.delays.push(...b.delays);
}

function evaluate(corpora: Corpus[], o: Oracle): Point {
  const p: Point = {
    oracle: o,
    fixed: emptyScore(),
    aware: emptyScore(),
    family: {},
    metric: {},
    causes: {},
    ratio: {},
  };
  for (const c of corpora) {
    const f = (p.family[c.family] ??= emptyScore());
    for (const s of c.series) {
      for (const m of s.metrics) {
        const op = openings(m, o);
        const one = emptyScore();
        scoreOne(one, m.truth, op);
        add(p.fixed, one), add(f, one), add(p.metric[m.metric] ??= emptyScore(), one);
        add(p.ratio[ratioBucket(m.noiseRatio)] ??= emptyScore(), one);
        scoreOne(p.aware, m.truth, op, noiseAwareWindow(m.noiseRatio));
        for (const c of falseOpeningCauses(m, op)) p.causes[c] = (p.causes[c] ?? 0) + 1;
      }
    }
  }
  return p;
}

const name = (o: Oracle) =>
  o.shape === "window"
    ? `window c=${o.c}${o.latencyC !== o.c ? ` (latency ${o.latencyC})` : ""} ez=${o.ez} az=${o.az}`
    : `cusum k=${o.k} clip=${o.clip} h=${o.h}`;
const pr = (s: Score) => {
  const x = summarize(s);
  return `${x.precision.toFixed(3)} / ${x.recall.toFixed(3)}`;
};

if (import.meta.main) {
  const split = Deno.args.includes("--split")
    ? Deno.args[Deno.args.indexOf("--split") + 1]
    : "held-out";
  const families: readonly Family[] = split === "tuning" ? FAMILIES : REPORTED;
  const seeds = split === "tuning" ? TUNING_SEEDS : HELD_OUT_SEEDS;
  const corpora = families.flatMap((f) => seeds.map((s) => generateFamily(f, s, false)));
  console.error(`oracle: ${split} split, ${corpora.length} corpora, ${grid().length} rules`);
  const points = grid().map((o) => evaluate(corpora, o));
  const rows: string[] = [
    "| shape | which point of the grid | rule | pooled P / R (4-run window) | F1 | noise-aware window P / R | " +
    families.join(" P / R | ") + " P / R | latency_ms P / R | proportions (3) P / R |",
    "| --- | --- | --- | --- | --- | --- | " + families.map(() => "---").join(" | ") +
    " | --- | --- |",
  ];
  for (const shape of ["window", "cusum"] as const) {
    const mine = points.filter((p) => p.oracle.shape === shape);
    const picks: [string, Point | undefined][] = [
      ["best F1", [...mine].sort((a, b) => summarize(b.fixed).f1 - summarize(a.fixed).f1)[0]],
      [
        "best recall at P >= 0.95",
        mine.filter((p) => summarize(p.fixed).precision >= 0.95)
          .sort((a, b) => summarize(b.fixed).recall - summarize(a.fixed).recall)[0],
      ],
      [
        "best precision at R >= 0.90",
        mine.filter((p) => summarize(p.fixed).recall >= 0.9)
          .sort((a, b) => summarize(b.fixed).precision - summarize(a.fixed).precision)[0],
      ],
      [
        "best F1, noise-aware window",
        [...mine].sort((a, b) => summarize(b.aware).f1 - summarize(a.aware).f1)[0],
      ],
      [
        "best recall at P >= 0.95, noise-aware window",
        mine.filter((p) => summarize(p.aware).precision >= 0.95)
          .sort((a, b) => summarize(b.aware).recall - summarize(a.aware).recall)[0],
      ],
      [
        "highest precision on the grid, noise-aware window",
        [...mine].sort((a, b) => summarize(b.aware).precision - summarize(a.aware).precision)[0],
      ],
      [
        "highest precision on the grid",
        [...mine].sort((a, b) => summarize(b.fixed).precision - summarize(a.fixed).precision)[0],
      ],
    ];
    for (const [which, p] of picks) {
      if (!p) {
        rows.push(
          `| ${shape} | ${which} | none on the grid | | | | ${
            families.map(() => "").join(" | ")
          } | | |`,
        );
        continue;
      }
      const props = emptyScore();
      for (const k of ["precision", "recall", "f1"]) add(props, p.metric[k] ?? emptyScore());
      rows.push(
        `| ${shape} | ${which} | ${name(p.oracle)} | ${pr(p.fixed)} | ${
          summarize(p.fixed).f1.toFixed(3)
        } | ${pr(p.aware)} | ${families.map((f) => pr(p.family[f])).join(" | ")} | ${
          pr(p.metric.latency_ms)
        } | ${pr(props)} |`,
      );
    }
  }
  rows.push(
    "",
    `| shape, best F1 | FP | ${CAUSES.join(" | ")} |`,
    `| --- | --- | ${CAUSES.map(() => "---").join(" | ")} |`,
  );
  for (const shape of ["window", "cusum"] as const) {
    const best = points.filter((p) => p.oracle.shape === shape)
      .sort((a, b) => summarize(b.fixed).f1 - summarize(a.fixed).f1)[0];
    rows.push(
      `| ${name(best.oracle)} | ${best.fixed.fp} | ${
        CAUSES.map((c) => best.causes[c] ?? 0).join(" | ")
      } |`,
    );
  }
  rows.push(
    "",
    `| shape, best F1, by noise / tolerance | ${RATIO_ORDER.join(" P / R | ")} P / R |`,
    `| --- | ${RATIO_ORDER.map(() => "---").join(" | ")} |`,
  );
  for (const shape of ["window", "cusum"] as const) {
    const best = points.filter((p) => p.oracle.shape === shape)
      .sort((a, b) => summarize(b.fixed).f1 - summarize(a.fixed).f1)[0];
    rows.push(
      `| ${name(best.oracle)} | ${
        RATIO_ORDER.map((r) => pr(best.ratio[r] ?? emptyScore())).join(" | ")
      } |`,
    );
  }
  console.log(rows.join("\n"));
}
