// Test 8: resource limits. Oversized bodies (10 MB honest, 10 MB chunked with no length, and a
// false Content-Length) are refused 413 with the ingest worker's memory bounded; slow-loris
// clients do not hold up other requests; the per-token rate limit answers 429 with
// Retry-After and follows BENCHWATCH_INGEST_RATE_LIMIT.

import {
  Checks,
  type Ctx,
  distribution,
  GOOD,
  type HardeningTest,
  type Outcome,
  post,
  rssKiB,
  run,
  sleep,
  workerPids,
} from "./lib.ts";

const MB = 1024 * 1024;
const RSS_BOUND_KIB = 48 * 1024;

/** One raw HTTP/1.1 request on its own connection; returns the status line's code. */
async function rawRequest(
  ctx: Ctx,
  head: string,
  body: AsyncIterable<Uint8Array> | Uint8Array,
): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: ctx.stack.cfg.apiPort });
  const enc = new TextEncoder();
  const reading = (async () => {
    const buf = new Uint8Array(4096);
    let text = "";
    while (!/\r\n/.test(text)) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
  })();
  // Conn.write may write only part of a buffer: finish it, or the chunked framing breaks.
  const writeAll = async (bytes: Uint8Array) => {
    for (let off = 0; off < bytes.byteLength;) off += await conn.write(bytes.subarray(off));
  };
  try {
    await writeAll(enc.encode(head));
    if (body instanceof Uint8Array) await writeAll(body);
    else {
      for await (const chunk of body) {
        // Stop sending once the server has answered.
        const done = await Promise.race([reading.then(() => true), Promise.resolve(false)]);
        if (done) break;
        await writeAll(chunk);
      }
    }
  } catch { /* the server closed the connection after answering */ }
  const status = await Promise.race([reading, sleep(15_000).then(() => -1)]);
  try {
    conn.close();
  } catch { /* closed */ }
  return status;
}

function headers(ctx: Ctx, extra: string): string {
  return `POST /functions/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Authorization: Bearer ${ctx.stack.keys.serviceRoleKey}\r\nContent-Type: application/json\r\n${extra}\r\n`;
}

async function* chunks(total: number, size = 64 * 1024): AsyncIterable<Uint8Array> {
  const chunk = new TextEncoder().encode("x".repeat(size));
  for (let sent = 0; sent < total; sent += size) yield chunk;
}

async function healthLatency(ctx: Ctx): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${ctx.stack.cfg.apiUrl}/functions/v1/health`, {
    headers: { authorization: `Bearer ${ctx.stack.keys.anonKey}` },
  });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`health answered ${res.status}`);
  return performance.now() - t;
}

async function setFunctionSecret(ctx: Ctx, name: string, value: string | null): Promise<void> {
  const file = `${ctx.stack.cfg.dir}/functions.env`;
  const lines = (await Deno.readTextFile(file)).split("\n").filter((l) =>
    l && !l.startsWith(`${name}=`)
  );
  if (value !== null) lines.push(`${name}=${value}`);
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  // The gateway restarts a worker on its next request, with the new secrets.
  const pid = (await workerPids(ctx)).get("ingest");
  if (pid) {
    Deno.kill(pid, "SIGTERM");
    // Until the gateway has seen the worker exit, it would still forward to it (502).
    while (true) {
      const res = await fetch(`${ctx.stack.cfg.apiUrl}/_gateway/health`);
      const h: { functions: { name: string; running: boolean }[] } = await res.json();
      if (!h.functions.find((f) => f.name === "ingest")?.running) break;
      await sleep(50);
    }
  }
}

export const resourceLimits: HardeningTest = {
  name: "limits",
  title: "Oversized bodies, slow-loris clients and the per-token rate limit",
  async run(ctx): Promise<Outcome> {
    const checks = new Checks();
    const figures: Record<string, string | number> = {};

    // Warm the worker up, then measure its memory around each oversized body.
    await post(ctx, "ingest", run(`limits-${crypto.randomUUID().slice(0, 6)}`, "w", GOOD));
    const pid = (await workerPids(ctx)).get("ingest")!;
    const big = new TextEncoder().encode(`{"notes": "${"x".repeat(10 * MB)}"}`);
    const cases: [string, () => Promise<number>][] = [
      [
        "10 MB body with its Content-Length",
        () => rawRequest(ctx, headers(ctx, `Content-Length: ${big.byteLength}\r\n`), big),
      ],
      [
        "10 MB chunked body, no Content-Length",
        () =>
          rawRequest(
            ctx,
            headers(ctx, "Transfer-Encoding: chunked\r\n"),
            (async function* () {
              for await (const c of chunks(10 * MB)) {
                yield new TextEncoder().encode(`${c.byteLength.toString(16)}\r\n`);
                yield c;
                yield new TextEncoder().encode("\r\n");
              }
            })(),
          ),
      ],
      [
        "false Content-Length (says 10 MB, sends 2 bytes)",
        () =>
          rawRequest(
            ctx,
            headers(ctx, `Content-Length: ${10 * MB}\r\n`),
            new TextEncoder().encode("{}"),
          ),
      ],
      [
        "false Content-Length (says 1000, streams 10 MB)",
        () => rawRequest(ctx, headers(ctx, "Content-Length: 1000\r\n"), chunks(10 * MB)),
      ],
    ];
    const rssBefore = rssKiB(pid);
    let rssMax = rssBefore;
    for (const [what, send] of cases) {
      const t = performance.now();
      const status = await send();
      const rss = rssKiB(pid);
      rssMax = Math.max(rssMax, rss);
      figures[what] = `${status} in ${(performance.now() - t).toFixed(0)} ms, worker RSS ${
        (rss / 1024).toFixed(0)
      } MiB`;
      // Saying 1000 bytes frames the body at 1000 bytes: what follows is not this request.
      const expected = what.includes("says 1000") ? [400, 413] : [413];
      checks.that(
        expected.includes(status),
        `${what}: ${status}, expected ${expected.join(" or ")}`,
      );
    }
    figures["ingest worker RSS before / max after"] = `${(rssBefore / 1024).toFixed(0)} / ${
      (rssMax / 1024).toFixed(0)
    } MiB`;
    checks.that(
      rssMax - rssBefore < RSS_BOUND_KIB,
      `worker RSS grew by ${((rssMax - rssBefore) / 1024).toFixed(0)} MiB`,
    );
    const still = await post(
      ctx,
      "ingest",
      run(`limits-${crypto.randomUUID().slice(0, 6)}`, "after", GOOD),
    );
    checks.that(still.status === 201, `ingest after the big bodies: ${still.status}`);

    // Slow loris: 50 connections dribbling headers, 10 dribbling a body, one byte a second.
    const baseline: number[] = [];
    for (let i = 0; i < 20; i++) baseline.push(await healthLatency(ctx));
    const conns: Deno.Conn[] = [];
    let stop = false;
    const dribble = async (c: Deno.Conn, text: string) => {
      for (const ch of text) {
        if (stop) return;
        try {
          await c.write(new TextEncoder().encode(ch));
        } catch {
          return;
        }
        await sleep(1000);
      }
    };
    const slow: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: ctx.stack.cfg.apiPort });
      conns.push(c);
      if (i < 50) {
        slow.push(
          dribble(c, `GET /functions/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ${"a".repeat(100)}`),
        );
      } else {
        await c.write(new TextEncoder().encode(headers(ctx, "Content-Length: 100000\r\n")));
        slow.push(dribble(c, "{".repeat(1000)));
      }
    }
    const during: number[] = [];
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      during.push(await healthLatency(ctx));
      await sleep(100);
    }
    const ingestDuring = await post(
      ctx,
      "ingest",
      run(`limits-${crypto.randomUUID().slice(0, 6)}`, "loris", GOOD),
    );
    stop = true;
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await Promise.all(slow);
    figures["slow-loris connections held open"] =
      `${conns.length} (50 dribbling headers, 10 a body, 1 byte/s, 10 s)`;
    figures["health latency before"] = distribution(baseline, " ms");
    figures["health latency during"] = distribution(during, " ms");
    checks.that(
      Math.max(...during) < 1000,
      `a request took ${Math.max(...during).toFixed(0)} ms during the slow-loris`,
    );
    checks.that(
      ingestDuring.status === 201,
      `ingest during the slow-loris: ${ingestDuring.status}`,
    );

    // Per-token rate limit, configured down to 5 a minute for this check.
    const [tok] = await ctx.sql`select benchwatch_private.create_ingest_token('rate limit') as t`;
    ctx.secrets.set("ingest token (rate limit)", tok.t.token);
    await setFunctionSecret(ctx, "BENCHWATCH_INGEST_RATE_LIMIT", "5");
    try {
      // A fixed calendar-minute window: start early enough in a minute to stay inside it.
      if (new Date().getSeconds() > 45) await sleep((61 - new Date().getSeconds()) * 1000);
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof post>> | undefined;
      for (let i = 0; i < 7; i++) {
        const res = await post(
          ctx,
          "ingest",
          run(`rate-${crypto.randomUUID().slice(0, 6)}`, `r${i}`, GOOD),
          {
            bearer: tok.t.token,
          },
        );
        statuses.push(res.status);
        if (res.status === 429) limited ??= res;
      }
      const svc = await post(
        ctx,
        "ingest",
        run(`rate-${crypto.randomUUID().slice(0, 6)}`, "svc", GOOD),
      );
      const retryAfter = Number(limited?.headers.get("retry-after"));
      figures["rate limit 5/min: statuses of 7 token requests"] = statuses.join(", ");
      figures["429 answer"] = limited
        ? `${limited.body.error}, Retry-After: ${limited.headers.get("retry-after")} s`
        : "none";
      checks.that(
        statuses.slice(0, 5).every((s) => s === 201),
        `first 5 requests: ${statuses.slice(0, 5)}`,
      );
      checks.that(
        statuses.slice(5).every((s) => s === 429),
        `requests 6 and 7: ${statuses.slice(5)}`,
      );
      checks.that(limited?.body.error === "rate_limited", "the 429 says rate_limited");
      checks.that(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      checks.that(svc.status === 201, `the service role key is not limited: ${svc.status}`);
      const [n] = await ctx.sql`
        select count(*)::int as n from public.benchmark_transactions where model_version like 'rate-%'`;
      checks.that(n.n === 6, `${n.n} runs stored (5 by the token, 1 by the service role)`);
    } finally {
      await setFunctionSecret(ctx, "BENCHWATCH_INGEST_RATE_LIMIT", null);
    }
    // With the default (600/min), the same token records again.
    const again = await post(
      ctx,
      "ingest",
      run(`rate-${crypto.randomUUID().slice(0, 6)}`, "dflt", GOOD),
      {
        bearer: tok.t.token,
      },
    );
    figures["default limit"] =
      `600/min; the same token after the limit was lifted: ${again.status}`;
    checks.that(again.status === 201, `after restoring the default limit: ${again.status}`);
    return { failures: checks.failures, figures };
  },
};
