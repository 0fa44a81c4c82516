// The rates behind the pgTAP pins (docs/detection.md, "Pinned by pgTAP"), in the
// simulation (sim.ts), for the robust and the shipped rule on the same draws:
// `deno run tools/eval/noisy-series.ts`. 400 series of 100 runs: latency with 10%
// log-normal jitter and hiccups in 2% of runs (x1.3-2, 30% of them doubled), with no event
// and with a 12% step at run 50; precision, recall and f1 on 200 examples with no event.

import { gauss, rng, uni } from "./corpus.ts";
import { ROBUST, type Rule, SHIPPED, simulate } from "./sim.ts";

const SERIES = 400;
const RUNS = 100;

function latency(r: () => number, base: number, step: boolean): number[] {
  const v: number[] = [];
  let carry = false;
  for (let t = 0; t < RUNS; t++) {
    let x = (step && t >= 50 ? base * 1.12 : base) * Math.exp(0.1 * gauss(r));
    const hiccup: boolean = carry || r() < 0.02;
    carry = hiccup && !carry && r() < 0.3;
    if (hiccup) x *= uni(r, 1.3, 2);
    v.push(Math.round(x));
  }
  return v;
}

function rates(rule: Rule) {
  const r = rng(424242);
  let latencyNoise = 0, proportionNoise = 0, stepOpened = 0;
  const delays: number[] = [];
  for (let i = 0; i < SERIES; i++) {
    const base = uni(r, 200, 2000);
    const quiet = latency(r, base, false);
    const none = { metric: "latency_ms", direction: "lower", event: "none", start: -1 } as const;
    if (simulate({ ...none, truth: [], values: quiet, noiseRatio: 2, base }, 1000, rule).length) {
      latencyNoise++;
    }
    const o = simulate(
      {
        ...none,
        event: "step_beyond",
        start: 50,
        truth: [50],
        values: latency(r, base, true),
        noiseRatio: 2,
        base,
      },
      1000,
      rule,
    );
    const first = o.find((x) => x >= 50);
    if (first !== undefined) (stepOpened++, delays.push(first - 50));
    let any = false;
    for (const metric of ["precision", "recall", "f1"] as const) {
      const p = uni(r, 0.6, 0.8);
      const values = Array.from(
        { length: RUNS },
        () =>
          Math.round(Math.min(1, Math.max(0, p + Math.sqrt(p * (1 - p) / 200) * gauss(r))) * 200) /
          200,
      );
      const m = { metric, direction: "higher", event: "none", start: -1 } as const;
      if (simulate({ ...m, truth: [], values, noiseRatio: 1, base: p }, 200, rule).length) {
        any = true;
      }
    }
    if (any) proportionNoise++;
  }
  delays.sort((a, b) => a - b);
  const pct = (n: number) => `${(100 * n / SERIES).toFixed(1)}%`;
  return `latency opens on noise in ${
    pct(latencyNoise)
  } of the series; 200-example precision/recall/f1 in ${
    pct(proportionNoise)
  }; the 12% step opens in ${pct(stepOpened)} within 50 runs, median delay ${
    delays[Math.floor(delays.length / 2)]
  }`;
}

if (import.meta.main) {
  for (const [name, rule] of [["robust", ROBUST], ["shipped", SHIPPED]] as const) {
    console.log(`${name}: ${rates(rule)}`);
  }
}
