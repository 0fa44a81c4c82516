// The local stand-in for pg_net's background worker.
//
// net.http_post only queues a row in net.http_request_queue. The queue's insert trigger
// sends NOTIFY, which PostgreSQL delivers after COMMIT and drops on ROLLBACK, so the relay
// hears about committed requests only. It then takes rows out of the queue, sends them,
// and writes the outcome to net._http_response, as pg_net does. A slow poll covers
// notifications missed while the relay was reconnecting. Like pg_net, it never retries.

import postgres from "postgres";

export interface Relay {
  stop(): Promise<void>;
}

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer> | null;
  timeout_milliseconds: number;
}

const BATCH = 50;

export async function startRelay(
  dbUrl: string,
  log: (msg: string) => void,
  pollMs = 1000,
): Promise<Relay> {
  const sql = postgres(dbUrl, {
    max: 2,
    onnotice: () => {},
    connection: { application_name: "benchwatch-relay" },
  });
  let running = false;
  let again = false;
  let stopped = false;

  async function send(req: QueuedRequest): Promise<void> {
    let status: number | null = null;
    let contentType: string | null = null;
    let headers: Record<string, string> | null = null;
    let content: string | null = null;
    let timedOut = false;
    let errorMsg: string | null = null;
    try {
      const res = await fetch(req.url, {
        method: req.method.toUpperCase(),
        headers: req.headers,
        body: req.method.toUpperCase() === "GET" ? undefined : req.body ?? undefined,
        signal: AbortSignal.timeout(req.timeout_milliseconds),
      });
      status = res.status;
      contentType = res.headers.get("content-type");
      headers = Object.fromEntries(res.headers.entries());
      content = await res.text();
    } catch (e) {
      const err = e as Error;
      timedOut = err.name === "TimeoutError";
      errorMsg = timedOut ? `Timeout of ${req.timeout_milliseconds} ms reached` : err.message;
    }
    await sql`
      insert into net._http_response
        (id, status_code, content_type, headers, content, timed_out, error_msg)
      values (${req.id}, ${status}, ${contentType}, ${headers === null ? null : sql.json(headers)},
              ${content}, ${timedOut}, ${errorMsg})`;
    if (errorMsg) log(`relay: request ${req.id} to ${new URL(req.url).host} failed: ${errorMsg}`);
  }

  async function drain(): Promise<void> {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        while (!stopped) {
          const rows = await sql<QueuedRequest[]>`
            delete from net.http_request_queue
             where id in (select id from net.http_request_queue order by id
                          limit ${BATCH} for update skip locked)
            returning id, method, url, headers, body, timeout_milliseconds`;
          if (rows.length === 0) break;
          rows.sort((a, b) => Number(a.id) - Number(b.id));
          await Promise.all(rows.map(send));
        }
      } while (again && !stopped);
    } catch (e) {
      if (!stopped) log(`relay: ${(e as Error).message}`);
    } finally {
      running = false;
    }
  }

  const listener = await sql.listen("net_http_request_queue", () => void drain());
  const timer = setInterval(() => void drain(), pollMs);
  void drain();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await listener.unlisten().catch(() => {});
      await sql.end({ timeout: 2 });
    },
  };
}
