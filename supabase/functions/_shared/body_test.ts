import assert from "node:assert/strict";
import { readJsonBody } from "./body.ts";

const post = (body: BodyInit | null, headers: Record<string, string>): Request =>
  new Request("http://x/ingest", { method: "POST", body, headers });

async function problemOf(
  result: Awaited<ReturnType<typeof readJsonBody>>,
): Promise<{ status: number; error: string; message: string }> {
  assert.equal(result.ok, false);
  if (result.ok) throw new Error("unreachable");
  const body = await result.response.json();
  return { status: result.response.status, error: body.error, message: body.message };
}

/** A body stream of `n` chunks of `size` bytes that counts how many chunks were pulled. */
function countingStream(n: number, size: number): { stream: ReadableStream; pulled: () => number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === n) return controller.close();
      pulled++;
      controller.enqueue(new Uint8Array(size).fill(0x20));
    },
  });
  return { stream, pulled: () => pulled };
}

Deno.test("readJsonBody() parses a JSON body and returns the raw text", async () => {
  const raw = '{"metrics": {"f1": 0.895}}';
  const result = await readJsonBody(post(raw, { "content-type": "application/json" }), {
    maxBytes: 1024,
  });
  assert.deepEqual(result, { ok: true, value: { metrics: { f1: 0.895 } }, raw });
});

Deno.test("readJsonBody() accepts a utf-8 charset parameter in any case", async () => {
  for (const type of ["application/json; charset=utf-8", "Application/JSON;Charset=UTF-8"]) {
    const result = await readJsonBody(post("[1]", { "content-type": type }), { maxBytes: 10 });
    assert.ok(result.ok, type);
  }
});

Deno.test("readJsonBody() answers 415 for a missing or non-JSON content type", async () => {
  for (
    const type of [undefined, "text/plain", "application/jsonx", "application/json; charset=latin1"]
  ) {
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    const result = await readJsonBody(post(type ? "{}" : new Blob(["{}"]), headers), {
      maxBytes: 10,
    });
    const p = await problemOf(result);
    assert.equal(p.status, 415, String(type));
    assert.equal(p.error, "unsupported_media_type");
  }
});

Deno.test("readJsonBody() answers 413 from Content-Length before reading the body", async () => {
  const { stream, pulled } = countingStream(100, 1024);
  const req = post(stream, { "content-type": "application/json", "content-length": "102400" });
  const p = await problemOf(await readJsonBody(req, { maxBytes: 1024 }));
  assert.equal(p.status, 413);
  assert.equal(p.error, "payload_too_large");
  assert.ok(pulled() <= 1, `pulled ${pulled()} chunks`);
});

Deno.test("readJsonBody() answers 413 once a streamed body without Content-Length passes the limit", async () => {
  const { stream, pulled } = countingStream(1000, 1024);
  const req = post(stream, { "content-type": "application/json" });
  const p = await problemOf(await readJsonBody(req, { maxBytes: 4096 }));
  assert.equal(p.status, 413);
  assert.ok(pulled() < 10, `pulled ${pulled()} chunks of 1000: the stream was not cancelled`);
});

Deno.test("readJsonBody() answers 413 to an oversized chunked request over real HTTP", async () => {
  await using server = Deno.serve({ port: 0, onListen: () => {} }, async (req) => {
    const result = await readJsonBody(req, { maxBytes: 1000 });
    return result.ok ? new Response("accepted") : result.response;
  });
  // Written by hand so the body is chunked with no Content-Length at all.
  const conn = await Deno.connect({ port: server.addr.port });
  const body = JSON.stringify({ pad: "x".repeat(5000) });
  const head = "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
    "transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
  await conn.write(
    new TextEncoder().encode(`${head}${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`),
  );
  const reply = await new Response(conn.readable).text();
  assert.match(reply, /^HTTP\/1\.1 413/);
  assert.match(reply, /payload_too_large/);
});

Deno.test("readJsonBody() accepts a body of exactly maxBytes", async () => {
  const raw = JSON.stringify("x".repeat(98));
  assert.equal(raw.length, 100);
  const result = await readJsonBody(post(raw, { "content-type": "application/json" }), {
    maxBytes: 100,
  });
  assert.ok(result.ok);
});

Deno.test("readJsonBody() answers 400 invalid_json with the parser's message", async () => {
  for (const raw of ["{", "", '{"f1": NaN}', "{'a': 1}"]) {
    const p = await problemOf(
      await readJsonBody(post(raw, { "content-type": "application/json" }), { maxBytes: 100 }),
    );
    assert.equal(p.status, 400, raw);
    assert.equal(p.error, "invalid_json");
    assert.match(p.message, /^Fix the JSON body: \S/);
  }
});

Deno.test("readJsonBody() answers 400 invalid_json for bytes that are not UTF-8", async () => {
  const req = post(new Uint8Array([0x22, 0xff, 0x22]), { "content-type": "application/json" });
  const p = await problemOf(await readJsonBody(req, { maxBytes: 100 }));
  assert.equal(p.status, 400);
  assert.equal(p.error, "invalid_json");
});

Deno.test("readJsonBody() keeps the last value of a duplicate key, as JSON.parse does", async () => {
  const result = await readJsonBody(
    post('{"f1": 1, "f1": 2}', { "content-type": "application/json" }),
    { maxBytes: 100 },
  );
  assert.ok(result.ok);
  assert.deepEqual(result.value, { f1: 2 });
});

async function gzip(text: string): Promise<ArrayBuffer> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return await new Response(stream).arrayBuffer();
}

Deno.test("readJsonBody() decompresses a gzip body and limits the decompressed size", async () => {
  const raw = JSON.stringify({ examples: Array(500).fill({ id: "doc", scores: { f1: 1 } }) });
  const packed = await gzip(raw);
  assert.ok(packed.byteLength < 1024 && raw.length > 1024, "the body compresses below the limit");
  const headers = { "content-type": "application/json", "content-encoding": "gzip" };
  const ok = await readJsonBody(post(packed, headers), { maxBytes: raw.length });
  assert.ok(ok.ok);
  assert.equal(ok.ok && ok.raw, raw);
  const big = await problemOf(await readJsonBody(post(packed, headers), { maxBytes: 1024 }));
  assert.equal(big.status, 413, "the limit applies to the decompressed JSON");
});

Deno.test("readJsonBody() answers 400 for a body that is not gzip and 415 for another encoding", async () => {
  const headers = { "content-type": "application/json", "content-encoding": "gzip" };
  const broken = await problemOf(await readJsonBody(post("{}", headers), { maxBytes: 1024 }));
  assert.equal(broken.status, 400);
  const br = await problemOf(
    await readJsonBody(
      post("{}", { "content-type": "application/json", "content-encoding": "br" }),
      {
        maxBytes: 1024,
      },
    ),
  );
  assert.equal(br.status, 415);
});
