// Hosts one Edge Function in its own Deno process, as Supabase's edge runtime does.
//
// The function's own index.ts calls `Deno.serve(handler)` exactly as it does when
// deployed. Here Deno.serve is wrapped before index.ts is imported, so the handler
// listens on a loopback port picked by the OS; the port is reported to the gateway as
// the first line on stdout. The worker exits when its gateway goes away.
//
// Usage: deno run -A local/gateway/worker.ts <function-dir>

const fnDir = Deno.args[0];
if (!fnDir) {
  console.error("Usage: worker.ts <function-dir>");
  Deno.exit(2);
}

type ServeHandler = (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;
type ServeOptions = Omit<Deno.ServeTcpOptions, "port" | "hostname"> & { handler?: ServeHandler };

const realServe = Deno.serve.bind(Deno);
let served = false;

function hostedServe(...args: unknown[]): Deno.HttpServer {
  if (served) throw new Error("An Edge Function may call Deno.serve only once");
  served = true;
  let options: ServeOptions = {};
  let handler: ServeHandler | undefined;
  if (typeof args[0] === "function") {
    handler = args[0] as ServeHandler;
  } else {
    options = (args[0] ?? {}) as ServeOptions;
    handler = (typeof args[1] === "function" ? args[1] : options.handler) as ServeHandler;
  }
  if (!handler) throw new Error("Deno.serve was called without a handler");
  return realServe({
    ...options,
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(JSON.stringify({ listening: port })),
  }, handler);
}

(Deno as unknown as { serve: typeof hostedServe }).serve = hostedServe;

// Hosted functions may call EdgeRuntime.waitUntil for work after the response.
(globalThis as unknown as { EdgeRuntime: unknown }).EdgeRuntime = {
  waitUntil(p: Promise<unknown>) {
    p.catch((e) => console.error("waitUntil task failed:", e));
  },
};

// Exit at once on SIGTERM (the gateway's stop), whatever Deno.serve does with the signal.
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));

const parent = Deno.ppid;
setInterval(() => {
  if (Deno.ppid !== parent) Deno.exit(0);
}, 500);

const entry = new URL(`file://${Deno.realPathSync(`${fnDir}/index.ts`)}`);
await import(entry.href);
