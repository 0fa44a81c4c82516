// The accounting of a restart case's load (tools/hardening/load.ts), kept apart from the stack so
// that recovery_test.ts can check it: which runs were acknowledged, lost or duplicated, the
// steady rate before the fault, when throughput was back, and the latency inside and outside
// the recovery.

/** A run as the load saw it; times in ms since the load started. */
export interface SentRun {
  /** Its run identity: series, commit and run id, joined (the metrics are the same on every try). */
  identity: string;
  startedAt: number;
  /** When its client got the answer; undefined if it never did. */
  ackAt?: number;
  transactionId?: string;
}

/** A stored row of the load, by run identity. */
export interface StoredRow {
  id: string;
  identity: string;
}

export interface Accounting {
  sent: number;
  acknowledged: number;
  notAcknowledged: number;
  /** Acknowledged, but no row under its identity has the transaction id it was answered. */
  lost: number;
  /** Run identities with more than one row. */
  duplicated: number;
  /** Stored identities no client was answered for. */
  storedNotAcknowledged: number;
}

export function account(runs: SentRun[], rows: StoredRow[]): Accounting {
  const byIdentity = new Map<string, string[]>();
  for (const r of rows) byIdentity.set(r.identity, [...(byIdentity.get(r.identity) ?? []), r.id]);
  const acked = runs.filter((r) => r.ackAt !== undefined);
  const ackedIdentities = new Set(acked.map((r) => r.identity));
  return {
    sent: runs.length,
    acknowledged: acked.length,
    notAcknowledged: runs.length - acked.length,
    lost: acked.filter((r) => !(byIdentity.get(r.identity) ?? []).includes(r.transactionId!))
      .length,
    duplicated: [...byIdentity.values()].filter((ids) => ids.length > 1).length,
    storedNotAcknowledged: [...byIdentity.keys()].filter((k) => !ackedIdentities.has(k)).length,
  };
}

/** A stretch of a fault: from its first action until the stack was brought back. */
export interface Disruption {
  what: string;
  start: number;
  end: number;
}

/** Acknowledgments per second over [from, to), in runs/s. */
export function rate(acks: number[], from: number, to: number): number {
  return to > from ? acks.filter((a) => a >= from && a < to).length / ((to - from) / 1000) : NaN;
}

/** Acknowledgments in each second of the load. */
export function perSecond(acks: number[], endMs: number): number[] {
  const out = new Array(Math.max(1, Math.ceil(endMs / 1000))).fill(0);
  for (const a of acks) out[Math.min(out.length - 1, Math.floor(a / 1000))]++;
  return out;
}

/**
 * When throughput is back after a disruption: the first time t (in 100 ms steps), no sooner
 * than the disruption's end nor 1 s after its start, at which the acknowledgments of the second
 * before t reach `share` of the steady rate. Undefined if that never happened by the last one.
 */
export function backAt(
  acks: number[],
  d: Disruption,
  steadyPerS: number,
  share: number,
): number | undefined {
  const last = Math.max(0, ...acks);
  for (let t = Math.max(d.end, d.start + 1000); t <= last; t += 100) {
    if (acks.filter((a) => a > t - 1000 && a <= t).length >= share * steadyPerS) return t;
  }
  return undefined;
}

/**
 * Latencies (first try to answer) of the acknowledged runs, split: a run is in a recovery when
 * it was pending at some moment between a disruption's start and the time throughput was back
 * (to the end of the load when it never was). Runs started before `fromMs` (the warm-up) are
 * left out of the outside figure.
 */
export function splitLatencies(
  runs: SentRun[],
  windows: { start: number; back?: number }[],
  fromMs: number,
): { recovery: number[]; outside: number[] } {
  const recovery: number[] = [];
  const outside: number[] = [];
  for (const r of runs) {
    if (r.ackAt === undefined) continue;
    const during = windows.some((w) => r.startedAt <= (w.back ?? Infinity) && r.ackAt! >= w.start);
    if (during) recovery.push(r.ackAt - r.startedAt);
    else if (r.startedAt >= fromMs) outside.push(r.ackAt - r.startedAt);
  }
  return { recovery, outside };
}
