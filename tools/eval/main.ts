// `npm run eval:detection [-- --quick] [-- --split tuning|held-out] [-- --seed N]
//   [-- --family F] [-- --examples] [-- --update-baseline] [-- --verbose]
//   [-- --policy-sql "<SQL run on the eval stack before ingest>"] [-- --keep-stack]`
//
// Scores regression detection on seeded, labelled synthetic corpora from several generator
// families that differ in their noise model (families.ts): the anchors' methods at their
// shipped defaults (anchors.ts) and benchwatch's own noise-aware alerting through the real
// ingest path (product.ts), per family and pooled. The held-out split (the default) is what
// docs/detection.md reports; the tuning split is where knobs are chosen. Full held-out mode with
// --update-baseline writes docs/detection.md's results and tools/eval/baseline.json's full
// figures; --quick (CI: one held-out seed per family, smaller corpora) fails when any
// family's F1 or precision drops below its floor in tools/eval/baseline.json.

import { type Corpus, type MetricHistory, METRICS } from "./corpus.ts";
import {
  FAMILIES,
  type Family,
  generateFamily,
  HELD_OUT_SEEDS,
  REPORTED,
  TUNING_SEEDS,
} from "./families.ts";
import { ANCHORS } from "./anchors.ts";
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
  type Summary,
  WINDOW,
} from "./score.ts";
import { runProduct } from "./product.ts";
import { runExamples } from "./examples.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const BASELINE = `${ROOT}tools/eval/baseline.json`;
const PRODUCT = "benchwatch (noise-aware, default policy)";
/** CI fails when a family's quick F1 or precision falls more than this below its figure. */
export const TOLERATED_DROP = 0.03;

function fmt(s: Summary): string {
  const d = s.medianDelay === null ? "-" : String(s.medianDelay);
  return `${s.precision.toFixed(3)} | ${s.recall.toFixed(3)} | ${
    s.f1.toFixed(3)
  } | ${d} | ${s.tp} | ${s.fp} | ${s.fn}`;
}

export function table(results: Record<string, Summary>): string {
  const lines = [
    "| method | precision | recall | F1 | median delay (runs) | TP | FP | FN |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const [name, s] of Object.entries(results)) lines.push(`| ${name} | ${fmt(s)} |`);
  return lines.join("\n");
}

function add(into: Score, s: Score): void {
  into.tp += s.tp;
  into.fp += s.fp;
  into.fn += s.fn;
  into.delays.push(...s.delays);
}

/** Replaces the text between <!-- eval:NAME --> and <!-- /eval:NAME --> in docs/detection.md. */
async function writeSection(name: string, body: string): Promise<void> {
  const path = `${ROOT}docs/detection.md`;
  const start = `<!-- eval:${name} -->`;
  const end = `<!-- /eval:${name} -->`;
  let doc: string;
  try {
    doc = await Deno.readTextFile(path);
  } catch {
    return;
  }
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) return;
  await Deno.writeTextFile(
    path,
    doc.slice(0, a) + `${start}\n${body}\n${end}` + doc.slice(b + end.length),
  );
}

const sizeBucket = (n: number) =>
  n < 200
    ? "100-199"
    : n < 500
    ? "200-499"
    : n < 1000
    ? "500-999"
    : n < 3000
    ? "1000-2999"
    : "3000-5000";
const SIZE_ORDER = ["100-199", "200-499", "500-999", "1000-2999", "3000-5000"];

/** Openings after the window, inside a true regression that is still on. */
function lateOpenings(m: MetricHistory, openings: number[]): number {
  let late = 0;
  for (const o of openings) {
    const start = [...m.truth].reverse().find((s) => s <= o);
    if (start === undefined || o <= start + WINDOW) continue;
    if (m.event === "recovering" && o >= m.start + 12) continue;
    late++;
  }
  return late;
}

interface Tally {
  score: Score;
  late: number;
  /** Scored with the noise-aware window instead of 4 runs. */
  aware: Score;
  causes: Record<string, number>;
}
const tally = (): Tally => ({ score: emptyScore(), late: 0, aware: emptyScore(), causes: {} });

function causeTable(title: string, order: string[], rows: Record<string, Tally>): string {
  const lines = [
    `| ${title} | FP | ${CAUSES.join(" | ")} |`,
    `|---|---|${CAUSES.map(() => "---").join("|")}|`,
  ];
  for (const k of order) {
    if (!rows[k]) continue;
    lines.push(
      `| ${k} | ${rows[k].score.fp} | ${CAUSES.map((c) => rows[k].causes[c] ?? 0).join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

function breakdownTable(title: string, order: string[], rows: Record<string, Tally>): string {
  const lines = [
    `| ${title} | precision | recall | F1 | median delay | TP | FP | FN | of the FPs: late openings on a true regression |`,
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const k of order) {
    if (!rows[k]) continue;
    lines.push(`| ${k} | ${fmt(summarize(rows[k].score))} | ${rows[k].late} |`);
  }
  return lines.join("\n");
}

/** First opening at or after a persistent step's start: how long users wait. */
function delayTable(rows: Record<string, number[]>, order: string[], label: string): string {
  const lines = [
    `| ${label} | steps | opened within 4 runs | opened later | never opened | median delay of those opened | 90th percentile |`,
    "|---|---|---|---|---|---|---|",
  ];
  for (const k of order) {
    const d = rows[k];
    if (!d?.length) continue;
    const opened = d.filter((x) => x >= 0).sort((a, b) => a - b);
    const within = opened.filter((x) => x <= WINDOW).length;
    const q = (p: number) =>
      opened.length ? opened[Math.min(opened.length - 1, Math.floor(p * opened.length))] : "-";
    lines.push(
      `| ${k} | ${d.length} | ${within} | ${opened.length - within} | ${
        d.length - opened.length
      } | ${q(0.5)} | ${q(0.9)} |`,
    );
  }
  return lines.join("\n");
}

export async function run(args: string[]): Promise<number> {
  const quick = args.includes("--quick");
  const update = args.includes("--update-baseline");
  const verbose = args.includes("--verbose");
  const argOf = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const split = argOf("--split") ?? "held-out";
  if (split !== "held-out" && split !== "tuning") {
    console.error(`[eval] --split must be held-out or tuning, not ${split}`);
    return 2;
  }
  const only = argOf("--family");
  let families: Family[] = split === "tuning" ? [...FAMILIES] : [...REPORTED];
  if (only) {
    if (!(FAMILIES as readonly string[]).includes(only)) {
      console.error(`[eval] --family must be one of ${FAMILIES.join(", ")}`);
      return 2;
    }
    families = [only as Family];
  }
  const seedArg = argOf("--seed");
  let seeds = split === "tuning" ? TUNING_SEEDS : HELD_OUT_SEEDS;
  if (seedArg !== undefined) seeds = [Number(seedArg)];
  else if (quick) seeds = [seeds[0]];
  const policySql = args.flatMap((a, i) =>
    a === "--policy-sql" && args[i + 1] ? [args[i + 1]] : []
  );
  const standard = split === "held-out" && !only && seedArg === undefined && !policySql.length;
  if (update && !standard && !args.includes("--examples")) {
    console.error(
      "[eval] --update-baseline records the held-out split of every reported family at the default policy: drop --split, --family, --seed and --policy-sql",
    );
    return 2;
  }
  const log = (s: string) => console.log(`[eval] ${s}`);
  const t0 = performance.now();

  // The per-example corpus (examples.ts): the paired rule against the aggregate-only rule.
  if (args.includes("--examples")) {
    const res = await runExamples(seeds, policySql, log, verbose);
    console.log(`\nPer-example corpus, ${split} split, ${res.corpus}\n\n${res.table}\n`);
    log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const key = `examples-${quick ? "quick" : "full"}`;
    const committed = await readBaseline();
    if (update && standard) {
      committed[key] = { split, seeds, families: { paired: rounded(res.pooled.paired) } };
      await Deno.writeTextFile(BASELINE, JSON.stringify(committed, null, 2) + "\n");
      log(`wrote the ${key} figures to tools/eval/baseline.json`);
      if (!quick) {
        await writeSection(
          "examples",
          `Corpus: ${split} split, ${res.corpus}.\n\n${res.table}`,
        );
        log("wrote docs/detection.md's per-example section");
      }
    }
    // The gate: the paired rule's pooled figure (<= 500 examples) against its committed one.
    if (!standard) return 0;
    return gate({ paired: res.pooled.paired }, committed[key], key, quick, log) ? 0 : 1;
  }

  const corpora: Corpus[] = [];
  for (const f of families) for (const seed of seeds) corpora.push(generateFamily(f, seed, quick));
  const runsTotal = corpora.reduce((a, c) => a + c.series.reduce((b, s) => b + s.runs, 0), 0);
  log(
    `${quick ? "quick" : "full"} ${split} split: families ${families.join(", ")}; seeds ${
      seeds.join(", ")
    }; ${corpora.length} corpora, ${runsTotal} runs x ${METRICS.length} metrics`,
  );

  // Anchors, per family and pooled.
  const anchorScores: Record<string, Record<string, Score>> = {};
  const anchorAware: Record<string, Score> = {};
  for (const [name, method] of Object.entries(ANCHORS)) {
    anchorScores[name] = {};
    const aw = (anchorAware[name] = emptyScore());
    for (const c of corpora) {
      const sc = (anchorScores[name][c.family] ??= emptyScore());
      for (const s of c.series) {
        for (const m of s.metrics) {
          const o = method(m.values, m.direction);
          scoreOne(sc, m.truth, o);
          scoreOne(aw, m.truth, o, noiseAwareWindow(m.noiseRatio));
        }
      }
    }
  }

  const p0 = performance.now();
  const openings = await runProduct(corpora, log, 4, policySql, args.includes("--keep-stack"));
  const productSeconds = (performance.now() - p0) / 1000;

  const perFamily: Record<string, Tally> = {};
  const pooled = tally();
  const byMetric: Record<string, Tally> = {};
  const byRatio: Record<string, Tally> = {};
  const bySize: Record<string, Tally> = {};
  const byEvent: Record<string, Tally> = {};
  const stepDelayByRatio: Record<string, number[]> = {};
  const stepDelayBySize: Record<string, number[]> = {};
  corpora.forEach((c, ci) => {
    const fam = (perFamily[c.family] ??= tally());
    for (const s of c.series) {
      for (const m of s.metrics) {
        const o = openings.get(`${ci}/${s.id}/${m.metric}`) ?? [];
        const late = lateOpenings(m, o);
        const causes = falseOpeningCauses(m, o);
        const proportion = m.metric !== "latency_ms" && m.metric !== "analysis_cost";
        const buckets = [
          fam,
          pooled,
          byMetric[m.metric] ??= tally(),
          byRatio[ratioBucket(m.noiseRatio)] ??= tally(),
          byEvent[m.event] ??= tally(),
        ];
        if (proportion) buckets.push(bySize[sizeBucket(s.datasetSize)] ??= tally());
        for (const b of buckets) {
          scoreOne(b.score, m.truth, o);
          scoreOne(b.aware, m.truth, o, noiseAwareWindow(m.noiseRatio));
          b.late += late;
          for (const x of causes) b.causes[x] = (b.causes[x] ?? 0) + 1;
        }
        if (m.event === "step_beyond") {
          const first = o.find((x) => x >= m.start);
          const d = first === undefined ? -1 : first - m.start;
          (stepDelayByRatio[ratioBucket(m.noiseRatio)] ??= []).push(d);
          if (proportion) (stepDelayBySize[sizeBucket(s.datasetSize)] ??= []).push(d);
        }
        if (verbose) {
          const sc = emptyScore();
          scoreOne(sc, m.truth, o);
          if (sc.fp) {
            const tol = (m.values[0] * 0.05).toPrecision(3);
            log(
              `FP ${c.family}/${c.seed} s${s.id} n=${s.datasetSize} ${m.metric} ratio=${
                m.noiseRatio.toFixed(2)
              } ${m.event} start=${m.start} truth=${m.truth} openings=${o} tol=${tol} values=${
                m.values.map((v) => v.toPrecision(4)).join(" ")
              }`,
            );
          }
        }
      }
    }
  });

  const product = policySql.length ? "benchwatch (noise-aware, --policy-sql policy)" : PRODUCT;
  // Pooled table with the anchors.
  const pooledResults: Record<string, Summary> = {};
  for (const [name, byFam] of Object.entries(anchorScores)) {
    const sc = emptyScore();
    for (const s of Object.values(byFam)) add(sc, s);
    pooledResults[name] = summarize(sc);
  }
  pooledResults[product] = summarize(pooled.score);
  // Per-family table: benchwatch, and the best anchor's F1.
  const famLines = [
    "| family | precision | recall | F1 | median delay (runs) | TP | FP | FN | of the FPs: late | best anchor F1 |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  const famFigures: Record<string, Summary> = {};
  for (const f of families) {
    const s = summarize(perFamily[f].score);
    famFigures[f] = s;
    const bestAnchor = Math.max(...Object.values(anchorScores).map((a) => summarize(a[f]).f1));
    famLines.push(`| ${f} | ${fmt(s)} | ${perFamily[f].late} | ${bestAnchor.toFixed(3)} |`);
  }
  famLines.push(`| **pooled** | ${fmt(pooledResults[product])} | ${pooled.late} | |`);
  // The same openings scored with the noise-aware window, benchwatch and the anchors.
  const awareLines = [
    "| family (noise-aware window) | precision | recall | F1 | median delay (runs) | TP | FP | FN | best anchor F1 |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  const awareFigures: Record<string, Summary> = {};
  for (const f of families) {
    awareFigures[f] = summarize(perFamily[f].aware);
    awareLines.push(`| ${f} | ${fmt(awareFigures[f])} | |`);
  }
  awareFigures.pooled = summarize(pooled.aware);
  const bestAware = Math.max(...Object.values(anchorAware).map((a) => summarize(a).f1));
  awareLines.push(`| **pooled** | ${fmt(awareFigures.pooled)} | ${bestAware.toFixed(3)} |`);
  const awareTable = awareLines.join("\n");
  const causeFamTable = causeTable("family", [...families, "pooled"], {
    ...perFamily,
    pooled,
  });
  const corpusLine = `${split} split, seeds ${seeds.join(", ")}; ${
    quick ? "quick" : "full"
  } corpora (${corpora.length}, ${runsTotal} runs x ${METRICS.length} metrics)`;
  const famTable = famLines.join("\n");
  const anchorTable = table(pooledResults);
  const metricTable = breakdownTable("metric", [...METRICS], byMetric);
  const ratioTable = breakdownTable("noise / tolerance", RATIO_ORDER, byRatio);
  const sizeTable = breakdownTable("dataset_size (precision, recall, f1)", SIZE_ORDER, bySize);
  const eventTable = breakdownTable(
    "event",
    ["none", "step_beyond", "step_below", "drift", "spike", "improvement", "recovering"],
    byEvent,
  );
  const causeMetricTable = causeTable("metric", [...METRICS], byMetric);
  const causeRatioTable = causeTable("noise / tolerance", RATIO_ORDER, byRatio);
  const causeSizeTable = causeTable("dataset_size", SIZE_ORDER, bySize);
  const delayRatio = delayTable(stepDelayByRatio, RATIO_ORDER, "noise / tolerance");
  const delaySize = delayTable(stepDelayBySize, SIZE_ORDER, "dataset_size");
  console.log(`\n${corpusLine}\n\n${famTable}\n\n${anchorTable}\n`);
  console.log(`Scored with the noise-aware window:\n${awareTable}\n`);
  console.log(
    `False openings by cause:\n${causeFamTable}\n\n${causeMetricTable}\n\n${causeRatioTable}\n\n${causeSizeTable}\n`,
  );
  console.log(`By metric:\n${metricTable}\n\nBy noise / tolerance:\n${ratioTable}\n`);
  console.log(`By dataset_size:\n${sizeTable}\n\nBy event:\n${eventTable}\n`);
  console.log(
    `Persistent steps (1.5-3 tolerances): delay to the first opening\n${delayRatio}\n\n${delaySize}\n`,
  );
  const seconds = (performance.now() - t0) / 1000;
  log(`done in ${seconds.toFixed(1)} s (product path ${productSeconds.toFixed(1)} s)`);

  const committed = await readBaseline();
  const mode = quick ? "quick" : "full";
  if (update) {
    committed[mode] = {
      split,
      seeds,
      seconds: Number(seconds.toFixed(1)),
      pooled: rounded(pooledResults[product]),
      families: Object.fromEntries(
        Object.entries(famFigures).map(([f, s]) => [f, rounded(s)]),
      ),
    };
    await Deno.writeTextFile(BASELINE, JSON.stringify(committed, null, 2) + "\n");
    log(`wrote the ${mode} figures to tools/eval/baseline.json`);
    if (!quick) {
      await Deno.writeTextFile(
        `${ROOT}tools/eval/last-full.json`,
        JSON.stringify(
          {
            corpus: corpusLine,
            families: famFigures,
            pooled: pooledResults,
            noiseAwareWindow: awareFigures,
            productSeconds,
          },
          null,
          2,
        ) +
          "\n",
      );
      await writeSection(
        "table",
        `Corpus: ${corpusLine}.\n\n${famTable}\n\nPooled, with the anchors:\n\n${anchorTable}\n\nThe same openings scored with the noise-aware window (scoring, above):\n\n${awareTable}`,
      );
      await writeSection(
        "breakdown",
        `By metric:\n\n${metricTable}\n\nBy noise-to-tolerance ratio (the generator's run-to-run sd over the tolerance):\n\n${ratioTable}\n\nBy \`dataset_size\` (precision, recall and f1 only):\n\n${sizeTable}\n\nBy event:\n\n${eventTable}\n\nFalse openings by cause (4-run window):\n\n${causeFamTable}\n\n${causeMetricTable}\n\n${causeRatioTable}\n\n${causeSizeTable}`,
      );
      await writeSection("delay", `${delayRatio}\n\n${delaySize}`);
    }
  }
  // The gate: every family, against its committed figure for this mode.
  if (!standard) return 0;
  return gate(
      Object.fromEntries(families.map((f) => [f, famFigures[f]])),
      committed[mode],
      mode,
      quick,
      log,
    )
    ? 0
    : 1;
}

async function readBaseline(): Promise<Record<string, Record<string, unknown>>> {
  try {
    return JSON.parse(await Deno.readTextFile(BASELINE));
  } catch {
    return {};
  }
}

function rounded(s: Summary) {
  const round = (x: number) => Number(x.toFixed(4));
  return {
    precision: round(s.precision),
    recall: round(s.recall),
    f1: round(s.f1),
    medianDelay: s.medianDelay,
  };
}

/**
 * True when every figure's F1 and precision is within TOLERATED_DROP of its committed one in
 * tools/eval/baseline.json (`committed.families`). Without committed figures, quick mode
 * fails (CI must have a reference) and full mode passes.
 */
function gate(
  figures: Record<string, Summary>,
  committed: Record<string, unknown> | undefined,
  mode: string,
  quick: boolean,
  log: (s: string) => void,
): boolean {
  const ref = committed?.families as
    | Record<string, { f1: number; precision: number }>
    | undefined;
  if (!ref) {
    if (quick) {
      console.error(
        `[eval] FAIL: no committed ${mode} figures in tools/eval/baseline.json (run with --update-baseline)`,
      );
      return false;
    }
    return true;
  }
  let failed = false;
  for (const [f, s] of Object.entries(figures)) {
    const r = ref[f];
    let familyFailed = false;
    if (!r) {
      console.error(
        `[eval] FAIL: no committed ${mode} figure for ${f} (run with --update-baseline)`,
      );
      failed = true;
      continue;
    }
    for (const k of ["f1", "precision"] as const) {
      if (s[k] < r[k] - TOLERATED_DROP) {
        console.error(
          `[eval] FAIL: ${f} ${k} ${
            s[k].toFixed(4)
          } is more than ${TOLERATED_DROP} below the committed ${mode} figure ${r[k]}`,
        );
        familyFailed = true;
      }
    }
    failed ||= familyFailed;
    if (!familyFailed) {
      log(
        `OK: ${f} F1 ${s.f1.toFixed(4)} (committed ${r.f1}), precision ${
          s.precision.toFixed(4)
        } (committed ${r.precision})`,
      );
    }
  }
  return !failed;
}
