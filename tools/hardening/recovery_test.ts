// The restart cases' accounting (tools/hardening/recovery.ts) on small hand-built loads.

import assert from "node:assert/strict";
import { account, backAt, perSecond, rate, type SentRun, splitLatencies } from "./recovery.ts";

const run = (identity: string, startedAt: number, ackAt?: number, tx?: string): SentRun => ({
  identity,
  startedAt,
  ackAt,
  transactionId: tx,
});

Deno.test("account: a clean load has nothing lost, duplicated or unanswered", () => {
  const runs = [run("a", 0, 10, "t1"), run("b", 5, 20, "t2")];
  assert.deepEqual(account(runs, [{ id: "t1", identity: "a" }, { id: "t2", identity: "b" }]), {
    sent: 2,
    acknowledged: 2,
    notAcknowledged: 0,
    lost: 0,
    duplicated: 0,
    storedNotAcknowledged: 0,
  });
});

Deno.test("account: an answered run missing, or stored under another id, is lost", () => {
  const runs = [run("a", 0, 10, "t1"), run("b", 5, 20, "t2")];
  const n = account(runs, [{ id: "t9", identity: "a" }]);
  assert.deepEqual([n.lost, n.duplicated], [2, 0]);
});

Deno.test("account: two rows of one run identity is one duplicated run", () => {
  const runs = [run("a", 0, 10, "t1"), run("b", 5, 20, "t2")];
  const n = account(runs, [
    { id: "t1", identity: "a" },
    { id: "t2", identity: "b" },
    { id: "t3", identity: "b" },
  ]);
  assert.deepEqual([n.lost, n.duplicated], [0, 1]);
});

Deno.test("account: a run never answered is counted, and if stored, as stored unanswered", () => {
  const runs = [run("a", 0, 10, "t1"), run("b", 5)];
  const n = account(runs, [{ id: "t1", identity: "a" }, { id: "t2", identity: "b" }]);
  assert.deepEqual([n.acknowledged, n.notAcknowledged, n.lost, n.storedNotAcknowledged], [
    1,
    1,
    0,
    1,
  ]);
});

/** Acknowledgments every `everyMs` over [from, to). */
const ticks = (from: number, to: number, everyMs: number) =>
  Array.from({ length: Math.ceil((to - from) / everyMs) }, (_, i) => from + i * everyMs);

Deno.test("rate and perSecond count acknowledgments per second", () => {
  const acks = ticks(0, 3000, 10); // 100 per second
  assert.deepEqual(rate(acks, 1000, 3000), 100);
  assert.deepEqual(perSecond(acks, 3000), [100, 100, 100]);
});

Deno.test("backAt: throughput is back once the last second reaches the share of steady", () => {
  // 100 runs/s until 10 s, nothing until 14 s, 50 runs/s until 16 s, then 100 runs/s again.
  const acks = [
    ...ticks(0, 10_000, 10),
    ...ticks(14_000, 16_000, 20),
    ...ticks(16_000, 20_000, 10),
  ];
  const d = { what: "fault", start: 10_000, end: 12_000 };
  const back = backAt(acks, d, 100, 0.8)!;
  // The second before t must hold 80 acknowledgments: at 16.6 s, 19 at 50/s and 61 at 100/s.
  assert.deepEqual(back, 16_600);
  // 40 are reached at 50/s alone: 41 in (13.8 s, 14.8 s].
  assert.deepEqual(backAt(acks, d, 100, 0.4), 14_800);
});

Deno.test("backAt: never back is undefined", () => {
  const acks = [...ticks(0, 10_000, 10), ...ticks(14_000, 20_000, 40)]; // 25 runs/s after
  assert.deepEqual(
    backAt(acks, { what: "fault", start: 10_000, end: 12_000 }, 100, 0.8),
    undefined,
  );
});

Deno.test("backAt: no sooner than the disruption's end, nor 1 s after its start", () => {
  const acks = ticks(0, 20_000, 10); // the fault did nothing to throughput
  assert.deepEqual(backAt(acks, { what: "kill", start: 5_000, end: 5_000 }, 100, 0.8), 6_000);
  assert.deepEqual(backAt(acks, { what: "restart", start: 5_000, end: 8_000 }, 100, 0.8), 8_000);
});

Deno.test("splitLatencies: runs pending during a recovery count there, warm-up runs nowhere", () => {
  const runs = [
    run("warm-up", 100, 300), // before fromMs
    run("before", 2_000, 2_100), // answered before the fault
    run("across", 9_000, 15_000), // pending when the fault began
    run("inside", 11_000, 12_000),
    run("at the end", 13_500, 14_000), // started before throughput was back
    run("after", 14_500, 14_600),
    run("never", 12_000), // not answered: in neither
  ];
  const { recovery, outside } = splitLatencies(runs, [{ start: 10_000, back: 14_000 }], 1_000);
  assert.deepEqual(recovery, [6_000, 1_000, 500]);
  assert.deepEqual(outside, [100, 100]);
  // A recovery that never ended runs to the end of the load.
  assert.deepEqual(splitLatencies(runs, [{ start: 10_000 }], 1_000).outside, [100]);
});
