import assert from "node:assert/strict";
import {
  type AlertMetric,
  buildSlackMessage,
  classifySlackResponse,
  postToSlack,
  type RunAlertEvent,
  validateSlackUrl,
} from "./slack.ts";
import { guidePairedEvidence } from "./testdata.ts";

const metric = (name: string, baseline: number, current: number): AlertMetric => ({
  metric: name,
  direction: "higher_is_better",
  baseline,
  current,
  relative_change: (current - baseline) / baseline,
  severity: "major",
});

// The setup guide's Test 3: a run of test-v1.0 below its pinned baseline.
const guideEvent: RunAlertEvent = {
  kind: "regressed",
  series: {
    model_version: "test-v1.0",
    model_provider: "openai",
    dataset_version: "test-set-v1",
    prompt_version: "test-prompt-v1",
    environment: "local",
  },
  transaction_id: "0b7a3c1e-2f4d-4e5a-9c8b-1d2e3f4a5b6c",
  commit_sha: "abc124",
  branch_name: "develop",
  run_id: "9876543210",
  repository_url: "https://github.com/acme/models/",
  metrics: [
    metric("f1", 0.895, 0.835),
    metric("precision", 0.91, 0.85),
    metric("recall", 0.88, 0.82),
  ],
  dashboard_url: "http://127.0.0.1:54321/#/series?model=test-v1.0",
  created_at: "2026-02-01T12:00:00Z",
};

interface Block {
  type: string;
  text?: { type: string; text: string };
  elements?: { type: string; text: string | { text: string }; url?: string }[];
}

/** Every text in the message, asserting each block type's Slack limit on the way. */
function assertWithinSlackLimits(message: { text: string; blocks: unknown[] }): string[] {
  const blocks = message.blocks as Block[];
  assert.ok(blocks.length <= 50, `${blocks.length} blocks`);
  const texts: string[] = [];
  for (const block of blocks) {
    if (block.type === "header") assert.ok(block.text!.text.length <= 150);
    if (block.type === "section") assert.ok(block.text!.text.length <= 3000);
    for (const el of block.elements ?? []) {
      const text = typeof el.text === "string" ? el.text : el.text.text;
      if (el.type === "button") assert.ok(text.length <= 75);
      assert.ok(text.length <= 3000);
      texts.push(text);
    }
    if (block.text) texts.push(block.text.text);
  }
  return texts;
}

Deno.test("buildSlackMessage() shows the guide's Test 3 values, changes and severity", () => {
  const message = buildSlackMessage(guideEvent);
  const all = assertWithinSlackLimits(message).join("\n");
  const blocks = message.blocks as Block[];
  assert.equal(blocks[0].text!.text, ":rotating_light: Regression: test-v1.0 on test-set-v1");
  assert.match(all, /`f1`: 0\.895 → 0\.835 \(−6\.7%\) · major/);
  assert.match(all, /`precision`: 0\.91 → 0\.85 \(−6\.6%\) · major/);
  assert.match(all, /`recall`: 0\.88 → 0\.82 \(−6\.8%\) · major/);
  assert.match(all, /test-set-v1/);
  assert.match(all, /test-prompt-v1/);
  assert.match(all, /openai/);
  assert.match(
    message.text,
    /^Regression: test-v1\.0 on test-set-v1 \(local\): recall −6\.8% \(major\)/,
  );
});

Deno.test("buildSlackMessage() links the commit, the CI run and the dashboard", () => {
  const message = buildSlackMessage(guideEvent);
  const blocks = message.blocks as Block[];
  const context = blocks.find((b) => b.type === "context")!.elements!.map((e) => e.text).join(" ");
  assert.match(context, /<https:\/\/github\.com\/acme\/models\/commit\/abc124\|`abc124`>/);
  assert.match(
    context,
    /<https:\/\/github\.com\/acme\/models\/actions\/runs\/9876543210\|CI run 9876543210>/,
  );
  assert.match(context, /Branch `develop`/);
  const actions = blocks.find((b) => b.type === "actions")!;
  assert.equal(actions.elements![0].url, guideEvent.dashboard_url);
});

Deno.test("buildSlackMessage() leaves links out when there is no repository or dashboard", () => {
  const message = buildSlackMessage({
    ...guideEvent,
    repository_url: null,
    dashboard_url: null,
    run_id: "nightly-7",
  });
  const blocks = message.blocks as Block[];
  const context = blocks.find((b) => b.type === "context")!.elements!.map((e) => e.text).join(" ");
  assert.match(context, /Commit `abc124`/);
  assert.match(context, /CI run `nightly-7`/);
  assert.doesNotMatch(context, /<http/);
  assert.equal(blocks.some((b) => b.type === "actions"), false);
});

Deno.test("buildSlackMessage() shows a rising lower-is-better metric as a regression", () => {
  const latency: AlertMetric = {
    metric: "latency_ms",
    direction: "lower_is_better",
    baseline: 412,
    current: 480,
    relative_change: (480 - 412) / 412,
    severity: "critical",
  };
  const lines = assertWithinSlackLimits(buildSlackMessage({ ...guideEvent, metrics: [latency] }))
    .join("\n");
  assert.match(
    lines,
    /:red_circle: `latency_ms`: 412 → 480 \(\+16\.5%\) · critical · lower is better/,
  );
});

Deno.test("buildSlackMessage() announces a recovery with checkmarks", () => {
  const message = buildSlackMessage({
    ...guideEvent,
    kind: "recovered",
    metrics: [metric("f1", 0.895, 0.9)],
  });
  const all = assertWithinSlackLimits(message).join("\n");
  assert.match(all, /^:white_check_mark: Recovered: test-v1\.0 on test-set-v1/);
  assert.match(all, /:white_check_mark: `f1`: 0\.895 → 0\.9 \(\+0\.6%\) · was major/);
});

Deno.test("buildSlackMessage() escapes &, < and > in user strings", () => {
  const message = buildSlackMessage({
    ...guideEvent,
    series: { ...guideEvent.series, model_provider: "<!channel> & co", prompt_version: "a>b" },
    branch_name: "feat/<script>",
  });
  const all = assertWithinSlackLimits(message).join("\n");
  assert.match(all, /&lt;!channel&gt; &amp; co/);
  assert.match(all, /`a&gt;b`/);
  assert.match(all, /`feat\/&lt;script&gt;`/);
  assert.doesNotMatch(all, /<!channel>/);
});

Deno.test("buildSlackMessage() fits 500 metrics within Slack's limits and counts the rest", () => {
  const metrics = Array.from({ length: 500 }, (_, i) => ({
    ...metric(`suite.task_${i}.accuracy_at_k:${"x".repeat(60)}`, 0.9, 0.8),
    severity: (["critical", "major", "minor"] as const)[i % 3],
  }));
  const longName = "m".repeat(400);
  const message = buildSlackMessage({
    ...guideEvent,
    series: { ...guideEvent.series, model_version: longName, dataset_version: longName },
    metrics,
  });
  const texts = assertWithinSlackLimits(message);
  const shown = texts.join("\n").match(/accuracy_at_k/g)!.length;
  const more = Number(/…and (\d+) more/.exec(texts.join("\n"))![1]);
  assert.equal(shown + more, 500);
  assert.ok(message.text.length <= 3000);
  assert.ok(JSON.stringify(message).length < 40_000);
  // Critical metrics sort first, so the summarised tail holds the least severe.
  assert.match(texts.join("\n"), /:red_circle:/);
});

Deno.test("classifySlackResponse() reads each Slack answer", () => {
  const classify = (status: number, body: string, headers: HeadersInit = {}) =>
    classifySlackResponse(new Response(null, { status, headers }), body);
  assert.deepEqual(classify(200, "ok"), { outcome: "sent" });
  assert.deepEqual(classify(429, "rate_limited", { "retry-after": "7" }), {
    outcome: "retry_after",
    seconds: 7,
  });
  assert.deepEqual(classify(429, ""), { outcome: "retry_after", seconds: 1 });
  assert.deepEqual(classify(429, "", { "retry-after": "3600" }), {
    outcome: "retry_after",
    seconds: 60,
  });
  for (const status of [500, 502, 503, 504]) {
    assert.equal(classify(status, "oops").outcome, "transient", String(status));
  }
  for (
    const [status, body] of [
      [400, "invalid_payload"],
      [403, "action_prohibited"],
      [404, "no_service"],
      [404, "channel_not_found"],
      [410, "channel_is_archived"],
      [400, "invalid_token"],
    ] as const
  ) {
    assert.deepEqual(classify(status, `${body}\n`), { outcome: "permanent", reason: body });
  }
  assert.deepEqual(classify(401, ""), { outcome: "permanent", reason: "HTTP 401" });
});

const SECRET_PATH = "/services/T000SECRET/B000SECRET/XXXXSECRET";
const message = buildSlackMessage(guideEvent);

Deno.test("postToSlack() waits out a 429's Retry-After and then delivers", async () => {
  const received: unknown[] = [];
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (req) => {
      received.push(await req.json());
      return received.length === 1
        ? new Response("rate_limited", { status: 429, headers: { "retry-after": "1" } })
        : new Response("ok");
    },
  );
  const slept: number[] = [];
  const result = await postToSlack(`http://127.0.0.1:${server.addr.port}${SECRET_PATH}`, message, {
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
  });
  assert.deepEqual(result, { outcome: "sent", attempts: 2 });
  assert.deepEqual(slept, [1000]);
  assert.equal(received.length, 2);
  assert.deepEqual(received[1], message);
});

Deno.test("postToSlack() gives up as transient after maxRetryAfterWaits 429s", async () => {
  let hits = 0;
  await using server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, () => {
    hits++;
    return new Response("rate_limited", { status: 429, headers: { "retry-after": "2" } });
  });
  const slept: number[] = [];
  const result = await postToSlack(`http://127.0.0.1:${server.addr.port}${SECRET_PATH}`, message, {
    sleep: (ms) => Promise.resolve(void slept.push(ms)),
    maxRetryAfterWaits: 2,
  });
  assert.equal(result.outcome, "transient");
  assert.equal(result.attempts, 3);
  assert.deepEqual(slept, [2000, 2000]);
  assert.equal(hits, 3);
});

Deno.test("postToSlack() records 404 no_service as permanent after one attempt", async () => {
  let hits = 0;
  await using server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, () => {
    hits++;
    return new Response("no_service", { status: 404 });
  });
  const result = await postToSlack(`http://127.0.0.1:${server.addr.port}${SECRET_PATH}`, message);
  assert.deepEqual(result, { outcome: "permanent", reason: "no_service", attempts: 1 });
  assert.equal(hits, 1);
});

Deno.test("postToSlack() leaves a 500 to the sweeper as transient", async () => {
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => new Response("internal_error", { status: 500 }),
  );
  const result = await postToSlack(`http://127.0.0.1:${server.addr.port}${SECRET_PATH}`, message);
  assert.deepEqual(result, {
    outcome: "transient",
    reason: "HTTP 500: internal_error",
    attempts: 1,
  });
});

Deno.test("postToSlack() times out on a server that never answers", async () => {
  const release = Promise.withResolvers<void>();
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async () => {
      await release.promise;
      return new Response("too late");
    },
  );
  try {
    const started = performance.now();
    const result = await postToSlack(
      `http://127.0.0.1:${server.addr.port}${SECRET_PATH}`,
      message,
      {
        timeoutMs: 200,
      },
    );
    assert.deepEqual(result, {
      outcome: "transient",
      reason: "Timed out after 200 ms",
      attempts: 1,
    });
    assert.ok(performance.now() - started < 2000);
  } finally {
    release.resolve();
  }
});

Deno.test("postToSlack() reports a refused connection without revealing the URL", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => new Response(),
  );
  const { port } = server.addr;
  await server.shutdown();
  const result = await postToSlack(`http://127.0.0.1:${port}${SECRET_PATH}`, message);
  assert.equal(result.outcome, "transient");
  assert.equal(result.attempts, 1);
  assert.match(result.reason!, /^Network error: /);
  assert.doesNotMatch(result.reason!, /SECRET|127\.0\.0\.1:/);
});

Deno.test("postToSlack() never follows a redirect away from the checked URL", async () => {
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => Response.redirect("https://evil.example/collect", 307),
  );
  const result = await postToSlack(`http://127.0.0.1:${server.addr.port}${SECRET_PATH}`, message);
  assert.deepEqual(result, { outcome: "permanent", reason: "HTTP 307", attempts: 1 });
});

Deno.test("validateSlackUrl() allows only https://hooks.slack.com and the configured sink", () => {
  const sink = { allowedTestSink: "http://127.0.0.1:54329/" };
  const allowed = [
    ["https://hooks.slack.com/services/T0/B0/x", {}],
    ["https://hooks.slack.com:443/services/T0/B0/x", {}],
    ["http://127.0.0.1:54329/slack/T0", sink],
  ] as const;
  for (const [url, opts] of allowed) {
    assert.deepEqual(validateSlackUrl(url, opts), { ok: true }, url);
  }

  const denied = [
    ["http://hooks.slack.com/services/T0/B0/x", {}],
    ["https://hooks.slack.com.evil.com/services/T0/B0/x", {}],
    ["https://user@hooks.slack.com/services/T0/B0/x", {}],
    ["https://user:pw@127.0.0.1:54329/services/T0/B0/x", sink],
    ["https://hooks.slack.com:8443/services/T0/B0/x", {}],
    ["https://evil.com/services/T0/B0/x", sink],
    ["http://127.0.0.1:54330/services/T0/B0/x", sink],
    ["http://127.0.0.1:54329/services/T0/B0/x", { allowedTestSink: null }],
    ["not a url /services/T0/B0/x", {}],
  ] as const;
  for (const [url, opts] of denied) {
    const result = validateSlackUrl(url, opts);
    assert.equal(result.ok, false, url);
    if (!result.ok) assert.doesNotMatch(result.reason, /services|T0|B0/, url);
  }
});

// The guide's 200 examples with 12 flipped to wrong and 2 to right, most of them invoices.
const pairedF1: AlertMetric = {
  ...metric("f1", 0.895, 0.845),
  paired: guidePairedEvidence,
};

Deno.test("buildSlackMessage() names the paired evidence and the worst slice under the metric", () => {
  const message = buildSlackMessage({
    ...guideEvent,
    metrics: [pairedF1, metric("precision", 0.91, 0.85)],
  });
  const all = assertWithinSlackLimits(message).join("\n");
  assert.match(
    all,
    /`f1`: 0\.895 → 0\.845 \(−5\.6%\) · major\n\u2003Paired: 12 examples worse, 2 better of 200 \(p = 0\.013, q = 0\.021\)\n\u2003Worst slice: `invoices`, 9 worse, 1 better of 60 \(q = 0\.021\)\n/,
  );
  assert.equal(all.match(/Paired:/g)!.length, 1, "precision has no examples, so no paired line");
});

Deno.test("buildSlackMessage() leaves the slice line out when no slice got worse", () => {
  const noSlice = { ...pairedF1, paired: { ...pairedF1.paired!, worst_slice: null } };
  const all = assertWithinSlackLimits(buildSlackMessage({ ...guideEvent, metrics: [noSlice] }))
    .join("\n");
  assert.match(all, /Paired: 12 examples worse, 2 better of 200/);
  assert.doesNotMatch(all, /Worst slice/);
});

Deno.test("buildSlackMessage() shows unlabelled examples as (no slice) and escapes a slice", () => {
  const at = (slice: string) => ({
    ...pairedF1,
    paired: { ...pairedF1.paired!, worst_slice: { ...pairedF1.paired!.worst_slice!, slice } },
  });
  const unlabelled = assertWithinSlackLimits(
    buildSlackMessage({ ...guideEvent, metrics: [at("")] }),
  )
    .join("\n");
  assert.match(unlabelled, /Worst slice: `\(no slice\)`, 9 worse/);
  const odd = assertWithinSlackLimits(
    buildSlackMessage({ ...guideEvent, metrics: [at("<!here> & `x`")] }),
  ).join("\n");
  assert.match(odd, /Worst slice: `&lt;!here&gt; &amp; 'x'`, 9 worse/);
});

Deno.test("buildSlackMessage() is unchanged for a metric without paired evidence", () => {
  const before = buildSlackMessage(guideEvent);
  const withUndefined = buildSlackMessage({
    ...guideEvent,
    metrics: guideEvent.metrics.map((m) => ({ ...m, paired: undefined })),
  });
  assert.deepEqual(withUndefined, before);
  assert.doesNotMatch(JSON.stringify(before), /Paired|Worst slice/);
});

Deno.test("buildSlackMessage() names no paired evidence on a recovery", () => {
  const all = assertWithinSlackLimits(
    buildSlackMessage({ ...guideEvent, kind: "recovered", metrics: [pairedF1] }),
  ).join("\n");
  assert.doesNotMatch(all, /Paired|Worst slice/);
});

Deno.test("buildSlackMessage() writes a tiny p- or q-value as 'p < 1e-6', escaped for Slack", () => {
  const tiny = {
    ...pairedF1,
    paired: {
      ...pairedF1.paired!,
      p_value: 1e-9,
      q_value: 3e-8,
      worst_slice: { ...pairedF1.paired!.worst_slice!, q_value: 2e-7 },
    },
  };
  const all = assertWithinSlackLimits(buildSlackMessage({ ...guideEvent, metrics: [tiny] }))
    .join("\n");
  assert.match(all, /Paired: 12 examples worse, 2 better of 200 \(p &lt; 1e-6, q &lt; 1e-6\)/);
  assert.match(all, /9 worse, 1 better of 60 \(q &lt; 1e-6\)/);
  assert.doesNotMatch(all, /= &lt;|= </);
});
