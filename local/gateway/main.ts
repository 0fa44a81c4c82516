// The local gateway: what a hosted project's API edge does for Edge Functions.
//
// - Serves every folder under supabase/functions (except _shared and tests) at
//   /functions/v1/<name>, each function in its own worker process with the environment a
//   hosted function gets, on the Deno the hosted Edge Runtime is built on, resolving
//   imports through supabase/functions/import_map.json (config.toml's import_map) alone.
// - Honours `verify_jwt` from supabase/config.toml: the Authorization bearer must be a
//   JWT signed with the project's JWT secret, else 401 as hosted Supabase answers. Like
//   hosted's check, it refuses the new sb_publishable_ / sb_secret_ keys (not JWTs) with
//   "Invalid JWT"; the apikey header plays no part in it.
// - Runs the pg_net relay (see relay.ts).
// - Serves the dashboard at / from dashboard/dist, building it first when it is missing or
//   older than its sources (stack.ts builds it before starting the gateway; this covers a
//   dist removed or sources edited while the stack runs).
//
// Configuration comes from the environment, set by local/stack/stack.ts.

import { ensureDashboardBuilt } from "../../dashboard/build.ts";
import { parse as parseToml } from "smol-toml";
import { startRelay } from "./relay.ts";
import { createJwtGate } from "./verify-jwt.ts";
import { startSlackSink } from "./slack-sink.ts";
import { edgeRuntime } from "../stack/config.ts";

function required(name: string): string {
  const v = Deno.env.get(name);
  if (!v) {
    console.error(`Set ${name}: the gateway is started by local/stack/stack.ts, which sets it`);
    Deno.exit(2);
  }
  return v;
}

const repoRoot = required("BENCHWATCH_REPO_ROOT");
const stackDir = required("BENCHWATCH_STACK_DIR");
const port = Number(required("BENCHWATCH_API_PORT"));
const checkJwt = createJwtGate(required("BENCHWATCH_JWT_SECRET"));
const functionsDir = `${repoRoot}/supabase/functions`;
const edge = edgeRuntime(repoRoot);
// One connection per forwarded request, none kept idle. Hosted's edge hands a request to an
// isolate in process; a pooled keep-alive connection to a worker can instead be closed by the
// worker (e.g. after answering a body it did not read) just as it is reused, and that request
// fails with "fetch failed" (1 in 10,000 fuzzed ingests did) though hosted would serve it.
const workerClient = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
const dashboardDir = `${repoRoot}/dashboard/dist`;

const baseFunctionEnv: Record<string, string> = {
  SUPABASE_URL: required("SUPABASE_URL"),
  SUPABASE_DB_URL: required("SUPABASE_DB_URL"),
  SUPABASE_ANON_KEY: required("SUPABASE_ANON_KEY"),
  SUPABASE_SERVICE_ROLE_KEY: required("SUPABASE_SERVICE_ROLE_KEY"),
  // The new keys, as hosted (and the CLI's `functions serve`) give them to a function: JSON
  // objects of name -> key.
  SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: required("SUPABASE_PUBLISHABLE_KEY") }),
  SUPABASE_SECRET_KEYS: JSON.stringify({ default: required("SUPABASE_SECRET_KEY") }),
};

function log(msg: string): void {
  console.log(`[gateway] ${msg}`);
}

/** dotenv lines: KEY=value, optional quotes, # comments. */
function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!m) continue;
    let v = m[2];
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) {
      v = v.slice(1, -1);
    }
    out[m[1]] = v;
  }
  return out;
}

async function readDotenv(path: string): Promise<Record<string, string>> {
  try {
    return parseDotenv(await Deno.readTextFile(path));
  } catch {
    return {};
  }
}

interface FunctionConfig {
  verifyJwt: boolean;
}

async function readFunctionConfig(): Promise<Record<string, FunctionConfig>> {
  const toml = parseToml(await Deno.readTextFile(`${repoRoot}/supabase/config.toml`)) as {
    functions?: Record<string, { verify_jwt?: boolean }>;
  };
  const out: Record<string, FunctionConfig> = {};
  for (const [name, c] of Object.entries(toml.functions ?? {})) {
    out[name] = { verifyJwt: c.verify_jwt ?? true };
  }
  return out;
}

function listFunctions(): string[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(functionsDir)) {
    if (!e.isDirectory || e.name === "_shared" || e.name === "tests" || e.name.startsWith(".")) {
      continue;
    }
    try {
      Deno.statSync(`${functionsDir}/${e.name}/index.ts`);
      names.push(e.name);
    } catch { /* a folder without an entry point is not a function */ }
  }
  return names.sort();
}

interface Worker {
  name: string;
  port: number;
  child: Deno.ChildProcess;
  exited: boolean;
}

const workers = new Map<string, Worker>();
const starting = new Map<string, Promise<Worker>>();
const fnConfig = await readFunctionConfig();

async function pipeLines(stream: ReadableStream<Uint8Array>, onLine: (l: string) => void) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  if (buf) onLine(buf);
}

async function spawnWorker(name: string): Promise<Worker> {
  const secrets = {
    ...(await readDotenv(`${functionsDir}/.env`)),
    ...(await readDotenv(`${stackDir}/functions.env`)),
  };
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    ...edge.env,
    ...secrets,
    ...baseFunctionEnv,
    SB_EXECUTION_ID: crypto.randomUUID(),
  };
  // The hosted runtime's Deno, with the functions' own import map and no node_modules.
  const child = new Deno.Command(edge.deno, {
    args: [
      "run",
      "--allow-all",
      "--no-prompt",
      ...edge.flags,
      `${repoRoot}/local/gateway/worker.ts`,
      `${functionsDir}/${name}`,
    ],
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const worker: Worker = { name, port: 0, child, exited: false };
  const ready = Promise.withResolvers<Worker>();
  void pipeLines(child.stdout, (line) => {
    if (!worker.port) {
      try {
        const msg = JSON.parse(line);
        if (typeof msg.listening === "number") {
          worker.port = msg.listening;
          ready.resolve(worker);
          return;
        }
      } catch { /* an ordinary log line */ }
    }
    console.log(`[${name}] ${line}`);
  });
  void child.status.then((s) => {
    worker.exited = true;
    if (workers.get(name) === worker) workers.delete(name);
    ready.reject(new Error(`function ${name} exited with code ${s.code} before listening`));
    if (!shuttingDown) {
      log(`function ${name} exited (code ${s.code}); it restarts on the next request`);
    }
  });
  const timeout = setTimeout(
    () => ready.reject(new Error(`function ${name} did not start within 30 s`)),
    30_000,
  );
  try {
    await ready.promise;
  } finally {
    clearTimeout(timeout);
  }
  workers.set(name, worker);
  await writeWorkerPids();
  return worker;
}

async function writeWorkerPids(): Promise<void> {
  const pids = [...workers.values()].map((w) => w.child.pid).join("\n");
  await Deno.writeTextFile(`${stackDir}/workers.pids`, pids + "\n");
}

function getWorker(name: string): Promise<Worker> {
  const w = workers.get(name);
  if (w && !w.exited) return Promise.resolve(w);
  let p = starting.get(name);
  if (!p) {
    p = spawnWorker(name).finally(() => starting.delete(name));
    starting.set(name, p);
  }
  return p;
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

const known = new Set(listFunctions());

// Like a hosted project's edge, the gateway caps request bodies. It reads the body before
// forwarding it: a worker that answers early (413) and closes its side while a streamed
// upload is still in flight would otherwise surface as a failed fetch (502).
const MAX_GATEWAY_BODY = 8 * 1024 * 1024;

async function readBounded(req: Request): Promise<Uint8Array<ArrayBuffer> | undefined | Response> {
  if (!req.body) return undefined;
  const tooLarge = () =>
    jsonResponse(413, {
      error: "payload_too_large",
      message: `Send a smaller body: the gateway accepts at most ${MAX_GATEWAY_BODY} bytes`,
    });
  if (Number(req.headers.get("content-length")) > MAX_GATEWAY_BODY) {
    await req.body.cancel();
    return tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of req.body) {
      size += chunk.byteLength;
      if (size > MAX_GATEWAY_BODY) return tooLarge();
      chunks.push(chunk);
    }
  } catch (e) {
    log(`request body unreadable after ${size} bytes: ${(e as Error).message}`);
    return jsonResponse(400, {
      error: "invalid_body",
      message: "Send the whole body: the request body could not be read",
    });
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

async function handleFunction(req: Request, url: URL): Promise<Response> {
  const m = url.pathname.match(/^\/functions\/v1\/([A-Za-z0-9_-]+)(\/.*)?$/);
  const name = m?.[1];
  if (!name || !known.has(name)) {
    return jsonResponse(404, { code: "NOT_FOUND", message: "Requested function was not found" });
  }
  if (req.method !== "OPTIONS" && (fnConfig[name]?.verifyJwt ?? true)) {
    const denied = await checkJwt(req);
    if (denied) return denied;
  }
  let worker: Worker;
  try {
    worker = await getWorker(name);
  } catch (e) {
    log((e as Error).message);
    return jsonResponse(503, { code: "BOOT_ERROR", message: `Function ${name} failed to start` });
  }
  const target = `http://127.0.0.1:${worker.port}/${name}${m?.[2] ?? ""}${url.search}`;
  const headers = new Headers(req.headers);
  // Hop-by-hop headers belong to the client's connection, not to the one to the worker
  // (forwarding `transfer-encoding: chunked` with a streamed body breaks the request).
  for (const h of ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"]) {
    headers.delete(h);
  }
  // The worker's Deno.serve would gzip for a client that accepts it, and this fetch would
  // then decode the body but keep `content-encoding: gzip`: a client reading that gets
  // "Invalid gzip header". The gateway's own Deno.serve compresses toward the client instead.
  headers.set("accept-encoding", "identity");
  headers.set("x-forwarded-host", url.host);
  headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
  const body = await readBounded(req);
  if (body instanceof Response) return body;
  try {
    const res = await fetch(target, {
      client: workerClient,
      method: req.method,
      headers,
      body,
      redirect: "manual",
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  } catch (e) {
    log(`function ${name}: ${(e as Error).message}`);
    return jsonResponse(502, { code: "WORKER_ERROR", message: `Function ${name} did not answer` });
  }
}

/** One build at a time: concurrent page loads wait for the same build. */
let building: Promise<unknown> | undefined;

async function dashboardReady(): Promise<Response | undefined> {
  building ??= ensureDashboardBuilt(repoRoot).then((b) => {
    if (b.result === "built") {
      log(`built dashboard/dist in ${(b.ms / 1000).toFixed(1)} s (${b.reason})`);
    }
  }).finally(() => building = undefined);
  try {
    await building;
    return undefined;
  } catch (e) {
    log((e as Error).message);
    const msg = (e as Error).message.split("\n")[0].replace(/&/g, "&amp;").replace(/</g, "&lt;");
    return new Response(
      `<!doctype html><meta charset="utf-8"><title>benchwatch: dashboard build failed</title>` +
        `<h1>The dashboard could not be built</h1><p>${msg}</p>` +
        `<p>The gateway log has vite's output.</p>`,
      { status: 500, headers: { "content-type": "text/html; charset=utf-8" } },
    );
  }
}

const contentTypes: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  map: "application/json",
};

async function handleStatic(url: URL): Promise<Response> {
  const rel = decodeURIComponent(url.pathname).replace(/^\/+/, "");
  if (rel.split("/").includes("..")) return new Response("Not found", { status: 404 });
  const candidates = rel === "" || rel === "index.html" ? ["index.html"] : [rel, "index.html"];
  for (const c of candidates) {
    // The page itself: make sure it is the build of the current sources.
    if (c === "index.html") {
      const failed = await dashboardReady();
      if (failed) return failed;
    }
    try {
      const data = await Deno.readFile(`${dashboardDir}/${c}`);
      const ext = c.split(".").pop() ?? "";
      return new Response(data, {
        headers: { "content-type": contentTypes[ext] ?? "application/octet-stream" },
      });
    } catch { /* try the next candidate */ }
  }
  return new Response("Not found", { status: 404 });
}

let shuttingDown = false;
const relay = await startRelay(baseFunctionEnv.SUPABASE_DB_URL, log);
const sinkPort = Number(Deno.env.get("BENCHWATCH_SLACK_SINK_PORT") ?? 0);
const sink = sinkPort
  ? startSlackSink(sinkPort, {
    print: Deno.env.get("BENCHWATCH_SLACK_SINK_PRINT") === "1",
    log: (s) => console.log(s),
  })
  : undefined;

// Start every function up front, so the first request is not slowed by a cold start.
await Promise.all([...known].map((n) => getWorker(n).catch((e) => log(e.message))));

const server = Deno.serve({
  port,
  hostname: "127.0.0.1",
  onListen: () =>
    log(`listening on http://127.0.0.1:${port} (functions: ${[...known].join(", ")})`),
}, (req) => {
  const url = new URL(req.url);
  if (url.pathname.startsWith("/functions/v1/")) return handleFunction(req, url);
  if (url.pathname === "/env.json") {
    // What the dashboard needs at run time: the project URL and a read-only key, the
    // publishable one first (the dashboard takes it over the legacy anon key).
    return jsonResponse(200, {
      SUPABASE_URL: baseFunctionEnv.SUPABASE_URL,
      SUPABASE_PUBLISHABLE_KEY: required("SUPABASE_PUBLISHABLE_KEY"),
      SUPABASE_ANON_KEY: baseFunctionEnv.SUPABASE_ANON_KEY,
    });
  }
  if (url.pathname === "/_gateway/health") {
    return jsonResponse(200, {
      status: "ok",
      functions: [...known].map((n) => ({ name: n, running: workers.has(n) })),
    });
  }
  return handleStatic(url);
});

await Deno.writeTextFile(`${stackDir}/gateway.pid`, `${Deno.pid}\n`);

// Like `supabase functions serve`: an edited function is reloaded. Workers are stopped on
// change and start again with the new code on their next request.
void (async () => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  for await (const ev of Deno.watchFs(functionsDir, { recursive: true })) {
    if (!ev.paths.some((p) => p.endsWith(".ts") && !p.endsWith("_test.ts"))) continue;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (shuttingDown || workers.size === 0) return;
      log("function code changed; reloading workers");
      for (const w of workers.values()) w.child.kill("SIGTERM");
    }, 200);
  }
})();

async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log("stopping");
  for (const w of workers.values()) {
    try {
      w.child.kill("SIGTERM");
    } catch { /* already gone */ }
  }
  // Nothing may hold the stop up for more than 3 s: `start` once hung here for minutes on
  // a worker that stayed up after its SIGTERM. True when p settled in time.
  const within3s = (p: Promise<unknown>): Promise<boolean> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      p.then(() => true, () => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), 3000)),
    ]).finally(() => clearTimeout(timer));
  };
  await Promise.all([...workers.values()].map(async (w) => {
    if (await within3s(w.child.status)) return;
    log(`worker ${w.child.pid} did not stop on SIGTERM; killing it`);
    try {
      w.child.kill("SIGKILL");
    } catch { /* gone meanwhile */ }
    await w.child.status;
  }));
  await within3s(relay.stop());
  // The sink may be holding a deliberately unanswered request; do not wait for it.
  void sink?.server.shutdown();
  await within3s(server.shutdown());
  await Deno.remove(`${stackDir}/gateway.pid`).catch(() => {});
  await Deno.remove(`${stackDir}/workers.pids`).catch(() => {});
  Deno.exit(0);
}

Deno.addSignalListener("SIGTERM", () => void shutdown());
Deno.addSignalListener("SIGINT", () => void shutdown());
