// The bench's mixed load (tools/bench/mixed.ts): its accounting of the paced ingest, the order
// and stopping of its reads, and its target row (tools/bench/report.ts), on hand-built figures.

import assert from "node:assert/strict";
import { type PacedRequest, roundRobinReads, summarizeIngest } from "./mixed.ts";
import { mixedTarget } from "./report.ts";

/** A request due at `due`, sent `lag` ms later, answered after `ms` (never when undefined). */
const req = (due: number, lag: number, ms?: number, ok = true): PacedRequest => ({
  due,
  sentAt: due + lag,
  doneAt: ms === undefined ? undefined : due + lag + ms,
  ok: ms !== undefined && ok,
  error: ms !== undefined && !ok ? "ingest answered 500" : undefined,
});

Deno.test("summarizeIngest counts the 201 answers inside the reads' window as the achieved rate", () => {
  // 100 runs/s from t = 0 to 4 s, each answered in 20 ms; the reads ran from 1 s to 3 s.
  const requests = Array.from({ length: 400 }, (_, i) => req(i * 10, 0, 20));
  const s = summarizeIngest(requests, { from: 1000, to: 3000 }, {
    targetPerSecond: 100,
    measuredRps: 160,
  });
  assert.equal(s.achieved_runs_per_s, 100);
  assert.equal(s.ratio_to_single_run, 0.625);
  assert.equal(s.sent, 400);
  assert.equal(s.failed, 0);
  // Latency only of the runs sent inside the window.
  assert.equal(s.latency.n, 200);
  assert.equal(s.latency.p99_ms, 20);
});

Deno.test("summarizeIngest: failures do not count toward the rate and are named", () => {
  const requests = [
    ...Array.from({ length: 100 }, (_, i) => req(i * 10, 0, 5)),
    ...Array.from({ length: 100 }, (_, i) => req(i * 10 + 5, 0, 5, false)),
    req(990, 0), // never answered
  ];
  const s = summarizeIngest(requests, { from: 0, to: 1000 }, {
    targetPerSecond: 200,
    measuredRps: 200,
  });
  assert.equal(s.achieved_runs_per_s, 100);
  assert.equal(s.ratio_to_single_run, 0.5);
  assert.equal(s.failed, 101);
  assert.equal(s.answered_201, 100);
  assert.deepEqual(s.failures, ["ingest answered 500", "no answer by the end of the load"]);
});

Deno.test("summarizeIngest: a run that waited for a free slot shows in the lag and in the latency from the schedule", () => {
  const requests = [req(0, 0, 10), req(10, 90, 10), req(20, 0, 10)];
  const s = summarizeIngest(requests, { from: 0, to: 1000 }, {
    targetPerSecond: 100,
    measuredRps: 100,
  });
  assert.equal(s.schedule_lag_p99_ms, 90);
  assert.equal(s.latency.max_ms, 10);
  assert.equal(s.latency_from_schedule.max_ms, 100);
});

Deno.test("roundRobinReads takes the endpoints in turn after one untimed round", async () => {
  const calls: string[] = [];
  const get = (path: string) => {
    calls.push(path);
    return Promise.resolve(new ArrayBuffer(1));
  };
  const ms = await roundRobinReads({
    endpoints: { a: "/a", b: "/b" },
    get,
    samples: 3,
    minMs: 0,
    boxMs: 60_000,
  });
  assert.deepEqual(calls, ["/a", "/b", "/a", "/b", "/a", "/b", "/a", "/b"]);
  assert.deepEqual([ms.a.length, ms.b.length], [3, 3]);
});

Deno.test("roundRobinReads stops at its time box, but not before 20 rounds", async () => {
  const ms = await roundRobinReads({
    endpoints: { a: "/a" },
    get: () => Promise.resolve(new ArrayBuffer(1)),
    samples: 1000,
    minMs: 0,
    boxMs: 0,
  });
  assert.equal(ms.a.length, 20);
});

Deno.test("roundRobinReads passes a failed read on", async () => {
  await assert.rejects(
    roundRobinReads({
      endpoints: { a: "/a" },
      get: () => Promise.reject(new Error("/a answered 500")),
      samples: 1,
      minMs: 0,
      boxMs: 0,
    }),
    /answered 500/,
  );
});

const results = (p95: number[], ratio: number, rows = 10_000_000) => ({
  plan: { sizes: [10_000, 10_000_000] },
  mixed_load: {
    rows,
    reads: Object.fromEntries(
      ["snapshot", "snapshot_last_page", "trend_1y", "regressions"].map((k, i) => [k, {
        p95_ms: p95[i],
      }]),
    ),
    ingest: {
      achieved_runs_per_s: Math.round(ratio * 200),
      ratio_to_single_run: ratio,
      measured_single_run_rps: 200,
    },
  },
});

Deno.test("the mixed target holds only with every p95 ≤ 50 ms, at ≥ 50% of the throughput, at the largest size", () => {
  assert.equal(mixedTarget(results([40, 50, 30, 20], 0.58)).met, true);
  assert.equal(mixedTarget(results([40, 50.01, 30, 20], 0.58)).met, false);
  assert.equal(mixedTarget(results([10, 10, 10, 10], 0.49)).met, false);
  const small = mixedTarget(results([10, 10, 10, 10], 0.58, 9_000_000));
  assert.equal(small.met, false);
  assert.match(small.measured, /not judged/);
  assert.match(
    mixedTarget(results([40, 50, 30, 20], 0.58)).measured,
    /snapshot_last_page 50 ms.*ingest 116 runs\/s = 58\.0% of 200 runs\/s/,
  );
});
