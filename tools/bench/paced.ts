// The worker thread of the bench's mixed load (tools/bench/mixed.ts): single-run ingest, open
// loop, at a fixed rate. Told `{start, progressMs}`, it starts run n at t0 + n / rate (never more
// than maxInFlight pending) until told `{stop: true}`, waits for the pending answers and posts
// every request back.

import { Api } from "../../cli/src/api.ts";
import { singleRunBody } from "./single.ts";
import { clock, type PacedRequest, type PaceMessage, type PaceStart } from "./mixed.ts";

const port = self as unknown as {
  onmessage: (e: MessageEvent) => void;
  postMessage(m: PaceMessage): void;
};

let stopping = false;

async function pace(s: PaceStart, progressMs: number): Promise<PacedRequest[]> {
  // Retries off: a failed run is counted, where push would retry it.
  const api = new Api({ url: s.api, key: s.serviceKey, keyKind: "service_role" }, {
    retryForMs: 0,
    timeoutMs: 10_000,
  });
  const requests: PacedRequest[] = [];
  const pending = new Set<Promise<void>>();
  const interval = 1000 / s.perSecond;
  const t0 = clock();
  let n = 0;
  let nextProgress = t0 + progressMs;
  const send = (k: number) => {
    const r: PacedRequest = { due: t0 + k * interval, sentAt: clock(), ok: false };
    requests.push(r);
    const body = singleRunBody(s.prefix, k, {
      commit: `${s.idPrefix}-c${k}`,
      runId: `${s.idPrefix}-r${k}`,
    });
    const p: Promise<void> = api.call("ingest", { body }).then(
      () => {
        r.ok = true;
      },
      (e) => {
        r.error = String((e as Error).message).split("\n")[0];
      },
    ).finally(() => {
      r.doneAt = clock();
      pending.delete(p);
    });
    pending.add(p);
  };
  while (!stopping) {
    while (t0 + n * interval <= clock() && pending.size < s.maxInFlight) send(n++);
    if (clock() >= nextProgress) {
      const ok = requests.filter((r) => r.ok).length;
      const failed = requests.filter((r) => r.doneAt !== undefined && !r.ok).length;
      port.postMessage({ progress: { sent: requests.length, ok, failed } });
      nextProgress += progressMs;
    }
    if (pending.size >= s.maxInFlight) await Promise.race(pending);
    else await new Promise((r) => setTimeout(r, Math.max(0, t0 + n * interval - clock())));
  }
  await Promise.all(pending);
  return requests;
}

port.onmessage = (e: MessageEvent) => {
  if (e.data.stop) {
    stopping = true;
    return;
  }
  pace(e.data.start as PaceStart, e.data.progressMs as number).then(
    (requests) => port.postMessage({ requests }),
    (err) => {
      throw err;
    },
  );
};
