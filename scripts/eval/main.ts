// `npm run eval:detection [-- --quick] [-- --update-baseline] [-- --seed N]
//   [-- --verbose] [-- --policy-sql "<SQL run on the eval stack before ingest>"]
//   [-- --keep-stack]` (leave the eval stack up to query it afterwards)
//
// Scores regression detection on a seeded, labelled synthetic corpus (corpus.ts):
// the anchors' methods at their shipped defaults (anchors.ts) and benchwatch's own
// noise-aware alerting through the real ingest path (product.ts). Full mode writes
// DETECTION.md's results table and scripts/eval/baseline.json's full figure; --quick
// (CI) fails when the product's F1 drops more than 0.02 below the committed quick figure.

import { generate, METRICS } from "./corpus.ts";
import { ANCHORS } from "./anchors.ts";
import { emptyScore, type Score, scoreOne, summarize, type Summary, WINDOW } from "./score.ts";
import { runProduct } from "./product.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const BASELINE = `${ROOT}scripts/eval/baseline.json`;
const PRODUCT = "benchwatch (noise-aware, default policy)";
export const TOLERATED_DROP = 0.02;

interface Figures {
  seed: number;
  series: number;
  runs: number;
  results: Record<string, Summary>;
  productSeconds: number;
}

function row(name: string, s: Summary): string {
  const d = s.medianDelay === null ? "-" : String(s.medianDelay);
  return `| ${name} | ${s.precision.toFixed(3)} | ${s.recall.toFixed(3)} | ${
    s.f1.toFixed(3)
  } | ${d} | ${s.tp} | ${s.fp} | ${s.fn} |`;
}

export function table(results: Record<string, Summary>): string {
  const lines = [
    "| method | precision | recall | F1 | median delay (runs) | TP | FP | FN |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const [name, s] of Object.entries(results)) lines.push(row(name, s));
  return lines.join("\n");
}

/** Replaces the results table between the markers in DETECTION.md. */
async function writeTable(results: Record<string, Summary>, corpus: string): Promise<void> {
  const path = `${ROOT}DETECTION.md`;
  const start = "<!-- eval:table -->";
  const end = "<!-- /eval:table -->";
  let doc: string;
  try {
    doc = await Deno.readTextFile(path);
  } catch {
    return;
  }
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) return;
  const body = `${start}\nCorpus: ${corpus}.\n\n${table(results)}\n${end}`;
  await Deno.writeTextFile(path, doc.slice(0, a) + body + doc.slice(b + end.length));
}

export async function run(args: string[]): Promise<number> {
  const quick = args.includes("--quick");
  const update = args.includes("--update-baseline");
  const seedArg = args.indexOf("--seed");
  const seed = seedArg >= 0 ? Number(args[seedArg + 1]) : 20261128;
  const [seriesCount, runs] = quick ? [60, 40] : [200, 60];
  const log = (s: string) => console.log(`[eval] ${s}`);
  const t0 = performance.now();

  log(
    `${
      quick ? "quick" : "full"
    } corpus: ${seriesCount} series x ${METRICS.length} metrics x ${runs} runs, seed ${seed}`,
  );
  const corpus = generate(seed, seriesCount, runs);
  const events: Record<string, number> = {};
  let windows = 0;
  for (const s of corpus.series) {
    for (const m of s.metrics) {
      events[m.event] = (events[m.event] ?? 0) + 1;
      windows += m.truth.length;
    }
  }
  log(`events: ${JSON.stringify(events)}; ${windows} ground-truth regressions`);

  const results: Record<string, Summary> = {};
  for (const [name, method] of Object.entries(ANCHORS)) {
    const sc = emptyScore();
    for (const s of corpus.series) {
      for (const m of s.metrics) scoreOne(sc, m.truth, method(m.values, m.direction));
    }
    results[name] = summarize(sc);
    log(`anchor ${name}: F1 ${results[name].f1.toFixed(3)}`);
  }

  const p0 = performance.now();
  const policySql = args.flatMap((a, i) =>
    a === "--policy-sql" && args[i + 1] ? [args[i + 1]] : []
  );
  if (policySql.length && update) {
    log("--policy-sql is for trying a policy: it cannot be combined with --update-baseline");
    return 2;
  }
  const openings = await runProduct(corpus, log, 4, policySql, args.includes("--keep-stack"));
  const productSeconds = (performance.now() - p0) / 1000;
  const sc: Score = emptyScore();
  const perEvent: Record<string, Score> = {};
  const perMetric: Record<string, Score> = {};
  for (const s of corpus.series) {
    for (const m of s.metrics) {
      const o = openings.get(`${s.id}/${m.metric}`) ?? [];
      const fpBefore = sc.fp;
      scoreOne(sc, m.truth, o);
      if (sc.fp > fpBefore && args.includes("--verbose")) {
        const tol = (m.values[0] * 0.05).toPrecision(3);
        const vals = m.values.map((v) => v.toPrecision(4)).join(" ");
        log(
          `FP s${s.id} n=${s.datasetSize} ${m.metric} ${m.event} start=${m.start} ` +
            `truth=${m.truth} openings=${o} tol=${tol} values=${vals}`,
        );
      }
      perEvent[m.event] ??= emptyScore();
      scoreOne(perEvent[m.event], m.truth, o);
      perMetric[m.metric] ??= emptyScore();
      scoreOne(perMetric[m.metric], m.truth, o);
    }
  }
  // A policy tried with --policy-sql is not the default policy: say so in the table.
  const product = policySql.length ? "benchwatch (noise-aware, --policy-sql policy)" : PRODUCT;
  results[product] = summarize(sc);
  console.log("\n" + table(results) + "\n");
  const breakdown = Object.fromEntries(
    Object.entries(perEvent).map(([k, v]) => [k, { tp: v.tp, fp: v.fp, fn: v.fn }]),
  );
  log(`product by event kind: ${JSON.stringify(breakdown)}`);
  const byMetric = Object.fromEntries(
    Object.entries(perMetric).map(([k, v]) => [k, { tp: v.tp, fp: v.fp, fn: v.fn }]),
  );
  log(`product by metric: ${JSON.stringify(byMetric)}`);
  const seconds = (performance.now() - t0) / 1000;
  log(`done in ${seconds.toFixed(1)} s (product path ${productSeconds.toFixed(1)} s)`);

  const figures: Figures = { seed, series: seriesCount, runs, results, productSeconds };
  let committed: Record<string, { f1: number } & Partial<Figures>> = {};
  try {
    committed = JSON.parse(await Deno.readTextFile(BASELINE));
  } catch {
    committed = {};
  }
  const mode = quick ? "quick" : "full";
  const f1 = results[product].f1;
  if (update) {
    committed[mode] = {
      f1: Number(f1.toFixed(4)),
      precision: Number(results[product].precision.toFixed(4)),
      recall: Number(results[product].recall.toFixed(4)),
      medianDelay: results[product].medianDelay,
      seed,
      series: seriesCount,
      runs,
      seconds: Number(seconds.toFixed(1)),
    } as never;
    await Deno.writeTextFile(BASELINE, JSON.stringify(committed, null, 2) + "\n");
    log(`wrote ${mode} figure F1 ${f1.toFixed(4)} to scripts/eval/baseline.json`);
    if (!quick) {
      await Deno.writeTextFile(
        `${ROOT}scripts/eval/last-full.json`,
        JSON.stringify({ ...figures, breakdown, events, windows }, null, 2) + "\n",
      );
      await writeTable(
        results,
        `seed ${seed}, ${seriesCount} series x ${METRICS.length} metrics x ${runs} runs`,
      );
    }
  }
  const ref = committed[mode]?.f1;
  if (typeof ref === "number") {
    if (f1 < ref - TOLERATED_DROP) {
      console.error(
        `[eval] FAIL: product F1 ${
          f1.toFixed(4)
        } is more than ${TOLERATED_DROP} below the committed ${mode} figure ${ref}`,
      );
      return 1;
    }
    log(
      `OK: product F1 ${
        f1.toFixed(4)
      } vs committed ${mode} figure ${ref} (tolerated drop ${TOLERATED_DROP})`,
    );
  } else if (quick) {
    console.error(
      "[eval] FAIL: no committed quick figure in scripts/eval/baseline.json (run with --update-baseline)",
    );
    return 1;
  }
  void WINDOW;
  return 0;
}
