// The ceiling for the HTTP hops: a Deno.serve hello-world, loaded by wrk like ingest is.
// Prints {"listening": port} once it listens, as the gateway's workers do.
Deno.serve({
  port: 0,
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(JSON.stringify({ listening: port })),
}, () => new Response("hello"));
