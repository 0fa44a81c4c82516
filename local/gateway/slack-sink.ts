// The local stand-in for a Slack incoming webhook (hooks.slack.com), so the whole chain
// from push to alert can be seen without a Slack workspace.
//
// POST <any path> with a Block Kit body is answered the way Slack answers ("ok"), and
// the message is printed readably to the terminal and kept in memory. Tests steer it:
//   GET    /_sink/messages            every message received, oldest first
//   DELETE /_sink/messages            forget them
//   POST   /_sink/behaviour           {"mode": "ok" | "error_500" | "timeout" |
//                                      "rate_limited" | "no_service", "retry_after"?: 2,
//                                      "times"?: n}  — misbehave for the next n posts
//                                      (every post when n is absent), then answer "ok".

export type SinkMode = "ok" | "error_500" | "timeout" | "rate_limited" | "no_service";

export interface SinkMessage {
  received_at: string;
  path: string;
  body: unknown;
  answered: SinkMode;
}

interface Behaviour {
  mode: SinkMode;
  retryAfter: number;
  remaining: number | null;
}

const MODES: SinkMode[] = ["ok", "error_500", "timeout", "rate_limited", "no_service"];

function plainText(body: unknown): string {
  const lines: string[] = [];
  const b = body as {
    text?: string;
    blocks?: { type: string; text?: { text?: string }; elements?: { text?: string }[] }[];
  };
  for (const block of b.blocks ?? []) {
    if (block.text?.text) lines.push(block.text.text);
    for (const e of block.elements ?? []) {
      if (e.text && typeof e.text === "string") lines.push(e.text);
    }
  }
  if (lines.length === 0 && b.text) lines.push(b.text);
  return lines.join("\n").replace(/\*/g, "");
}

export function startSlackSink(
  port: number,
  opts: { print: boolean; log: (s: string) => void },
): { messages: SinkMessage[]; server: Deno.HttpServer } {
  const messages: SinkMessage[] = [];
  let behaviour: Behaviour = { mode: "ok", retryAfter: 1, remaining: null };

  function nextMode(): Behaviour {
    const current = behaviour;
    if (current.mode !== "ok" && current.remaining !== null) {
      current.remaining -= 1;
      if (current.remaining <= 0) behaviour = { mode: "ok", retryAfter: 1, remaining: null };
    }
    return current;
  }

  const server = Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/_sink/messages") {
      if (req.method === "DELETE") {
        messages.length = 0;
        return new Response(null, { status: 204 });
      }
      return Response.json(messages);
    }
    if (url.pathname === "/_sink/behaviour" && req.method === "POST") {
      const b = await req.json().catch(() => ({}));
      if (!MODES.includes(b.mode)) {
        return Response.json({ error: `mode must be one of ${MODES.join(", ")}` }, { status: 400 });
      }
      behaviour = {
        mode: b.mode,
        retryAfter: Number(b.retry_after ?? 1),
        remaining: b.times === undefined ? null : Number(b.times),
      };
      return Response.json({ mode: behaviour.mode, remaining: behaviour.remaining });
    }
    if (req.method !== "POST") return new Response("invalid_method", { status: 405 });

    const raw = await req.text();
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return new Response("invalid_payload", { status: 400 });
    }
    const b = nextMode();
    messages.push({
      received_at: new Date().toISOString(),
      path: url.pathname,
      body,
      answered: b.mode,
    });
    switch (b.mode) {
      case "error_500":
        return new Response("internal_error", { status: 500 });
      case "timeout":
        // Never answer within any sane client timeout; the client gives up first.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 120_000);
          req.signal.addEventListener("abort", () => {
            clearTimeout(t);
            resolve();
          });
        });
        return new Response("ok");
      case "rate_limited":
        return new Response("rate_limited", {
          status: 429,
          headers: { "retry-after": String(b.retryAfter) },
        });
      case "no_service":
        return new Response("no_service", { status: 404 });
    }
    if (opts.print) {
      const text = plainText(body).split("\n").map((l) => `  │ ${l}`).join("\n");
      opts.log(`Slack message received (local sink):\n${text}`);
    }
    return new Response("ok", { headers: { "content-type": "text/plain" } });
  });
  return { messages, server };
}
