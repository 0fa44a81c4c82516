// The deploy rehearsal: every function is started from what `supabase functions deploy`
// would upload for it (upload-set.ts), copied alone into an empty directory with no
// node_modules and no package.json, on the Deno the hosted Edge Runtime is built on. Then
// the product's path runs through those copies, with both kinds of keys: a run recorded
// through ingest, pinned and read back through regressions and benchmarks, and a regressing
// run (sent with the secret key) whose database webhook, signed by the database, reaches the
// copied notify-slack, which posts to the local Slack sink. It reuses the test stack's database; the stack's own gateway is not on
// the path (the webhook is pointed at the copies for the duration, then put back).

import assert from "node:assert/strict";
import postgres from "postgres";
import { edgeRuntime, repoRoot } from "./config.ts";
import { type FunctionDeployConfig, readFunctionConfigs, uploadSet } from "./upload-set.ts";

function env(name: string): string {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`Set ${name}: run the rehearsal through \`npm test\``);
  return v;
}

interface Started {
  name: string;
  url: string;
  child: Deno.ChildProcess;
}

const root = repoRoot();

/** Copies the upload set into a fresh temporary directory; returns the directory. */
async function stage(fn: FunctionDeployConfig, files: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: `bw-deploy-${fn.name}-` });
  for (const f of files) {
    const target = `${dir}/${f}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(`${root}/${f}`, target);
  }
  // The platform's side, not the upload: the host that calls the function's Deno.serve.
  await Deno.mkdir(`${dir}/.runtime`);
  await Deno.copyFile(`${root}/local/gateway/worker.ts`, `${dir}/.runtime/worker.ts`);
  return dir;
}

async function start(
  fn: FunctionDeployConfig,
  dir: string,
  fnEnv: Record<string, string>,
): Promise<Started> {
  const edge = edgeRuntime(root);
  const child = new Deno.Command(edge.deno, {
    args: [
      "run",
      "--allow-all",
      "--no-prompt",
      "--no-config",
      "--no-lock",
      `--import-map=${dir}/${fn.importMap}`,
      `${dir}/.runtime/worker.ts`,
      `${dir}/${fn.entrypoint.slice(0, fn.entrypoint.lastIndexOf("/"))}`,
    ],
    cwd: dir,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: dir, ...edge.env, ...fnEnv },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { value, done } = await lines.read();
    if (done) break;
    out += value;
    const m = out.match(/\{"listening":(\d+)\}/);
    if (m) {
      void (async () => {
        while (!(await lines.read()).done) { /* drain the function's logs */ }
      })();
      void child.stderr.pipeTo(new WritableStream());
      return { name: fn.name, url: `http://127.0.0.1:${m[1]}/${fn.name}`, child };
    }
  }
  const err = await new Response(child.stderr).text();
  throw new Error(`${fn.name} did not start from its upload set:\n${out}\n${err}`);
}

Deno.test("deploy rehearsal: each function's upload set is its import map and the files it imports", async () => {
  const configs = readFunctionConfigs(root);
  assert.deepEqual(
    configs.map((c) => c.name).sort(),
    ["benchmarks", "health", "ingest", "notify-slack", "regressions"],
  );
  for (const fn of configs) {
    const files = await uploadSet(root, fn);
    assert.ok(files.includes(fn.importMap), `${fn.name} uploads its import map`);
    assert.ok(files.includes(fn.entrypoint), `${fn.name} uploads its entry point`);
    for (const f of files) {
      assert.match(f, /^supabase\/functions\//, `${fn.name}: ${f} lies under supabase/functions`);
      assert.doesNotMatch(f, /node_modules|package(-lock)?\.json|deno\.lock|_test\.ts$/, f);
      const owner = f.match(/^supabase\/functions\/([^/]+)\//)?.[1];
      assert.ok(
        owner === undefined || owner === "_shared" || owner === fn.name,
        `${fn.name} uploads nothing of another function (${f})`,
      );
    }
    // Every relative import of every uploaded module is itself uploaded.
    for (const f of files.filter((x) => x.endsWith(".ts"))) {
      const text = await Deno.readTextFile(`${root}/${f}`);
      for (const m of text.matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)) {
        const target = new URL(m[1], `file:///${f}`).pathname.slice(1);
        assert.ok(files.includes(target), `${fn.name}: ${f} imports ${target}, uploaded`);
      }
    }
  }
  const ingest = await uploadSet(root, configs.find((c) => c.name === "ingest")!);
  assert.ok(ingest.includes("supabase/functions/_shared/auth.ts"));
  assert.ok(!ingest.includes("supabase/functions/_shared/slack.ts"), "only what ingest imports");
});

Deno.test("deploy rehearsal: the uploaded functions alone, on the edge runtime's Deno, record, read and alert", async () => {
  const dbUrl = env("SUPABASE_DB_URL");
  const sink = env("BENCHWATCH_SLACK_SINK_URL");
  const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
  const started: Started[] = [];
  const dirs: string[] = [];
  const slackPath = `/services/rehearsal/${crypto.randomUUID()}`;
  const [{ secret: webhookSecret }] =
    await sql`select benchwatch_private.webhook_config() ->> 'secret' as secret`;
  try {
    const fnEnv = {
      SUPABASE_URL: env("SUPABASE_URL"),
      SUPABASE_DB_URL: dbUrl,
      SUPABASE_ANON_KEY: env("SUPABASE_ANON_KEY"),
      SUPABASE_SERVICE_ROLE_KEY: env("SUPABASE_SERVICE_ROLE_KEY"),
      SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: env("SUPABASE_PUBLISHABLE_KEY") }),
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: env("SUPABASE_SECRET_KEY") }),
      SLACK_WEBHOOK_URL: `${sink}${slackPath}`,
      BENCHWATCH_SLACK_TEST_SINK: sink,
    };
    for (const fn of readFunctionConfigs(root)) {
      const dir = await stage(fn, await uploadSet(root, fn));
      dirs.push(dir);
      const entries = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(entries, [".runtime", "supabase"], `${fn.name}: nothing else staged`);
      started.push(await start(fn, dir, fnEnv));
    }
    const url = (name: string) => started.find((s) => s.name === name)!.url;
    // Legacy JWT keys travel in Authorization; the new sb_ keys in apikey, as Supabase's
    // docs advise for them.
    const callAs = async (key: string, name: string, init: RequestInit & { path?: string }) => {
      const res = await fetch(`${url(name)}${init.path ?? ""}`, {
        ...init,
        headers: {
          ...(key.startsWith("sb_") ? { apikey: key } : { authorization: `Bearer ${key}` }),
          "content-type": "application/json",
        },
      });
      return { status: res.status, body: await res.json() };
    };
    const service = env("SUPABASE_SERVICE_ROLE_KEY");
    const anon = env("SUPABASE_ANON_KEY");

    const secretKey = env("SUPABASE_SECRET_KEY");
    const publishable = env("SUPABASE_PUBLISHABLE_KEY");
    for (const key of [anon, publishable]) {
      const health = await callAs(key, "health", { method: "GET" });
      assert.equal(health.status, 200, JSON.stringify(health.body));
    }
    const refused = await callAs(publishable, "ingest", { method: "POST", body: "{}" });
    assert.equal(refused.status, 403, "the publishable key is read-only");

    const model = `rehearsal-${crypto.randomUUID().slice(0, 8)}`;
    const run = (f1: number, commit: string) =>
      JSON.stringify({
        model_version: model,
        model_provider: "openai",
        dataset_version: "test-set-v1",
        prompt_version: "test-prompt-v1",
        environment: "rehearsal",
        commit_sha: commit,
        metrics: { precision: f1 + 0.015, recall: f1 - 0.015, f1 },
      });
    const first = await callAs(service, "ingest", { method: "POST", body: run(0.895, "c1") });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const [{ n }] = await sql`select count(*)::int as n from public.benchmark_transactions
                               where id = ${first.body.transaction_id}::uuid`;
    assert.equal(n, 1, "the run is recorded in the database");

    const pin = await callAs(service, "regressions", {
      method: "POST",
      body: JSON.stringify({ action: "pin", transaction_id: first.body.transaction_id }),
    });
    assert.equal(pin.status, 200, JSON.stringify(pin.body));
    const read = await callAs(publishable, "benchmarks", {
      method: "GET",
      path: `?model_version=${model}`,
    });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.series.length, 1);
    const f1 = read.body.series[0].metrics.find((m: { metric: string }) => m.metric === "f1");
    assert.equal(f1.baseline, 0.895, "the pinned run is read back as the baseline");

    // The webhook goes to the copied notify-slack, signed by the database with its secret.
    const notifyBase = url("notify-slack").replace(/\/notify-slack$/, "");
    await sql`update benchwatch_private.detection_defaults
              set sensitivity = 0, confirmation_runs = 1, min_history = 1, resolve_fraction = 1,
                  evidence_z = 0`;
    await sql`select benchwatch_private.configure_webhook(${notifyBase}, ${webhookSecret})`;
    const second = await callAs(secretKey, "ingest", {
      method: "POST",
      body: run(0.835, "c2"),
    });
    assert.equal(second.status, 201, JSON.stringify(second.body));

    const deadline = Date.now() + 15_000;
    let delivered: { path: string; body: unknown }[] = [];
    while (Date.now() < deadline) {
      const all: { path: string; body: unknown }[] = await (await fetch(`${sink}/_sink/messages`))
        .json();
      delivered = all.filter((m) => m.path === slackPath && JSON.stringify(m.body).includes(model));
      if (delivered.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(delivered.length, 1, "one Slack message, posted by the copied notify-slack");
    assert.match(JSON.stringify(delivered[0].body), /f1/);
  } finally {
    await sql`select benchwatch_private.configure_webhook(${`${env("SUPABASE_URL")}/functions/v1`},
                ${webhookSecret})`;
    await sql.begin(async (tx) => {
      await tx`delete from benchwatch_private.detection_defaults`;
      await tx`insert into benchwatch_private.detection_defaults default values`;
    });
    await sql.end();
    for (const s of started) {
      try {
        s.child.kill("SIGTERM");
      } catch { /* already gone */ }
      await s.child.status;
    }
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
});
