// Reads a JSON request body with a hard size limit. The limit is enforced on the bytes
// actually streamed, not only on Content-Length, which a client may omit (chunked) or
// understate, so a body never takes more than `maxBytes` of memory.
//
// A gzip body (Content-Encoding: gzip) is decompressed as it streams, and the limit applies to
// the decompressed JSON, so a small compressed body cannot expand past it.
//
// Duplicate keys are not rejected: JSON.parse keeps the last value, as every mainstream
// JSON parser does, and the idempotency hash is taken over `raw`, so the two stay consistent.

import { problem } from "./http.ts";

export type JsonBodyResult =
  | { ok: true; value: unknown; raw: string }
  | { ok: false; response: Response };

const tooLarge = (maxBytes: number): { ok: false; response: Response } => ({
  ok: false,
  response: problem(
    413,
    "payload_too_large",
    `Send a smaller body: the limit is ${maxBytes} bytes; split large batches into several requests`,
    { max_bytes: maxBytes },
  ),
});

function isJsonContentType(header: string | null): boolean {
  if (header === null) return false;
  const [type, ...params] = header.split(";").map((p) => p.trim().toLowerCase());
  return type === "application/json" &&
    params.every((p) => !p.startsWith("charset=") || p.replace(/^charset="?|"$/g, "") === "utf-8");
}

export async function readJsonBody(
  req: Request,
  opts: { maxBytes: number },
): Promise<JsonBodyResult> {
  if (!isJsonContentType(req.headers.get("content-type"))) {
    await req.body?.cancel();
    return {
      ok: false,
      response: problem(
        415,
        "unsupported_media_type",
        "Send the body as JSON: set Content-Type: application/json",
      ),
    };
  }
  const encoding = (req.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip") {
    await req.body?.cancel();
    return {
      ok: false,
      response: problem(
        415,
        "unsupported_media_type",
        `Send the body uncompressed or with Content-Encoding: gzip: got ${encoding}`,
      ),
    };
  }
  const declared = Number(req.headers.get("content-length"));
  if (declared > opts.maxBytes) {
    await req.body?.cancel();
    return tooLarge(opts.maxBytes);
  }

  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const stream = encoding === "gzip"
      ? req.body.pipeThrough(new DecompressionStream("gzip"))
      : req.body;
    const reader = stream.getReader();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        size += r.value.byteLength;
        if (size > opts.maxBytes) {
          await reader.cancel();
          return tooLarge(opts.maxBytes);
        }
        chunks.push(r.value);
      }
    } catch {
      return {
        ok: false,
        response: problem(
          400,
          "invalid_json",
          "Send a valid gzip body: it could not be decompressed",
        ),
      };
    }
  }

  let raw: string;
  try {
    raw = new TextDecoder("utf-8", { fatal: true }).decode(concat(chunks, size));
  } catch {
    return {
      ok: false,
      response: problem(400, "invalid_json", "Send the body as UTF-8 JSON: it is not valid UTF-8"),
    };
  }
  try {
    return { ok: true, value: JSON.parse(raw), raw };
  } catch (e) {
    return {
      ok: false,
      response: problem(
        400,
        "invalid_json",
        `Fix the JSON body: ${(e as SyntaxError).message}`,
      ),
    };
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
