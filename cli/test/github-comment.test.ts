// The verdict as a pull-request comment, against a stand-in for GitHub's REST API
// started here: push and check create one comment and update it in place (found by its marker,
// past the first page of comments); a 403 prints one warning naming `pull-requests: write` and
// keeps the verdict's exit code; rate limits (429 with retry-after, 403 at x-ratelimit-reset)
// are waited out; outside a pull request, or with --no-github-comment, nothing is sent.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cli, closeDb, db, guideFile, REGRESSED, tmp, uniq } from "./helpers.ts";
import { type GitHubStandIn, startGitHub } from "./github-standin.ts";

const TOKEN = "ghs_standin_token";
const REPO = "acme/evals";
const DASHBOARD = "https://dash.example.test/";
let gh: GitHubStandIn;

before(async () => {
  gh = await startGitHub(TOKEN);
});
after(async () => {
  await gh.close();
  await closeDb();
});

/** The environment of a `pull_request` job for pull request `number`. */
function prEnv(number: number, extra: Record<string, string | undefined> = {}) {
  const event = join(tmp(), "event.json");
  writeFileSync(
    event,
    JSON.stringify({ action: "synchronize", number, pull_request: { number } }),
  );
  return {
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: "pull_request",
    GITHUB_EVENT_PATH: event,
    GITHUB_REPOSITORY: REPO,
    GITHUB_API_URL: gh.url,
    GITHUB_TOKEN: TOKEN,
    GITHUB_SHA: undefined,
    BENCHWATCH_DASHBOARD_URL: DASHBOARD,
    ...extra,
  };
}

const commentsOn = (number: number) => gh.comments.get(`${REPO}#${number}`) ?? [];
const ours = (number: number) =>
  commentsOn(number).filter((c) => c.body.includes("<!-- benchwatch:verdict -->"));
const warnings = (r: { stdout: string; stderr: string }) =>
  (r.stdout + r.stderr).split("\n").filter((l) => l.startsWith("warning:"));

/** A model whose guide run is pinned as its baseline, on its own environment. */
async function pinnedModel(prefix: string): Promise<string> {
  const model = uniq(prefix);
  const first = await cli(
    ["push", "--input", guideFile(model), "--environment", model, "--commit-sha", `${model}-0`],
    { GITHUB_ACTIONS: undefined },
  );
  assert.equal(first.code, 0, first.stdout + first.stderr);
  await db()`select public.pin_baseline(t.id) from public.benchmark_transactions t
             where t.model_version = ${model}`;
  return model;
}

test("push and check post one comment and update it in place, with links to the dashboard", async () => {
  const pr = 101;
  // 150 comments from people first: the list is two pages of 100, so the marker is found on
  // the second page, through the Link header.
  gh.comments.set(
    `${REPO}#${pr}`,
    Array.from({ length: 150 }, (_, i) => ({
      id: i + 1,
      body: `review comment ${i}`,
      user: { login: "octocat", type: "User" },
    })),
  );
  const model = await pinnedModel("pr-comment");
  const before = gh.requests.length;

  const first = await cli(
    ["push", "--input", guideFile(model), "--environment", model, "--commit-sha", "prc-1"],
    prEnv(pr),
  );
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /✓ Commented the verdict on pull request #101/);
  assert.equal(ours(pr).length, 1);
  assert.equal(commentsOn(pr).length, 151, "one comment added");

  const second = await cli(
    [
      "push",
      "--input",
      guideFile(model, REGRESSED),
      "--environment",
      model,
      "--commit-sha",
      "prc-2",
      "--fail-on-regression",
    ],
    prEnv(pr),
  );
  assert.equal(second.code, 1, "the verdict's exit code: a regression");
  assert.match(second.stdout, /✓ Updated the verdict comment on pull request #101/);
  assert.equal(ours(pr).length, 1, "one comment, not two");
  assert.equal(commentsOn(pr).length, 151);
  const [comment] = ours(pr);
  assert.match(comment.body, /^### benchwatch push/m);
  assert.match(comment.body, /❌ .*regressed/);
  assert.match(comment.body, /\| f1 \| 0\.895 \| 0\.835 \| −6\.7% \| REGRESSION \|/);
  const links = [...comment.body.matchAll(/\]\((https:\/\/dash\.example\.test\/[^)]+)\)/g)].map((
    m,
  ) => new URL(m[1]));
  const trend = links.find((u) => u.searchParams.get("view") === "trends")!;
  assert.equal(
    trend.searchParams.get("series"),
    `${model}|openai|test-set-${model}|test-prompt-v1|${model}`,
  );
  assert.ok(trend.searchParams.get("metric"), "the trend link names a regressed metric");
  const regressions = links.find((u) => u.searchParams.get("view") === "regressions")!;
  assert.equal(regressions.searchParams.get("model_version"), model);
  assert.equal(regressions.searchParams.get("environment"), model);

  const mine = gh.requests.slice(before);
  assert.deepEqual(
    mine.map((r) => `${r.method} ${r.path.replace(/\?.*/, "")}`),
    [
      `GET /repos/${REPO}/issues/${pr}/comments`,
      `GET /repos/${REPO}/issues/${pr}/comments`,
      `POST /repos/${REPO}/issues/${pr}/comments`,
      `GET /repos/${REPO}/issues/${pr}/comments`,
      `GET /repos/${REPO}/issues/${pr}/comments`,
      `PATCH /repos/${REPO}/issues/comments/${comment.id}`,
    ],
  );
  for (const r of mine) {
    assert.equal(r.authorization, `Bearer ${TOKEN}`);
    assert.equal(r.apiVersion, "2022-11-28");
    assert.equal(r.accept, "application/vnd.github+json");
  }

  const checked = await cli(["check", "--commit-sha", "prc-2"], prEnv(pr));
  assert.equal(checked.code, 1, checked.stdout + checked.stderr);
  assert.equal(ours(pr).length, 1, "check updates the same comment");
  assert.match(ours(pr)[0].body, /^### benchwatch check/m);
});

test("a 403 prints one warning naming pull-requests: write, and the exit code stays the verdict's", async () => {
  const model = await pinnedModel("pr-403");
  gh.faults.push({ kind: "forbidden" });
  const regressed = await cli(
    [
      "push",
      "--input",
      guideFile(model, REGRESSED),
      "--environment",
      model,
      "--commit-sha",
      "p403-1",
      "--fail-on-regression",
    ],
    prEnv(102),
  );
  assert.equal(regressed.code, 1, regressed.stdout + regressed.stderr);
  const warned = warnings(regressed);
  assert.equal(warned.length, 1, regressed.stdout + regressed.stderr);
  assert.match(warned[0], /403 Resource not accessible by integration/);
  assert.match(warned[0], /pull-requests: write/);
  assert.equal(ours(102).length, 0);

  gh.faults.push({ kind: "forbidden" });
  const ok = await cli(
    ["push", "--input", guideFile(model), "--environment", model, "--commit-sha", "p403-2"],
    prEnv(102),
  );
  assert.equal(ok.code, 0, "a 403 never fails the push");
  assert.equal(warnings(ok).length, 1);

  const noToken = await cli(
    ["push", "--input", guideFile(model), "--environment", model, "--commit-sha", "p403-3"],
    prEnv(102, { GITHUB_TOKEN: undefined }),
  );
  assert.equal(noToken.code, 0);
  const tokenWarning = warnings(noToken);
  assert.equal(tokenWarning.length, 1);
  assert.match(tokenWarning[0], /GITHUB_TOKEN is not set.*pull-requests: write/);
});

test("rate limits are waited out: a 429 with retry-after, then a 403 at x-ratelimit-reset", async () => {
  const model = await pinnedModel("pr-429");
  gh.faults.push({ kind: "retry-after", status: 429, seconds: 1 });
  const first = await cli(
    ["push", "--input", guideFile(model), "--environment", model, "--commit-sha", "p429-1"],
    prEnv(103),
  );
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stderr, /GitHub rate limit \(429\): retrying the pull request comment in 1 s/);
  assert.match(first.stdout, /✓ Commented the verdict on pull request #103/);
  assert.equal(warnings(first).length, 0);

  gh.faults.push({ kind: "reset", seconds: 1 });
  const second = await cli(
    ["push", "--input", guideFile(model), "--environment", model, "--commit-sha", "p429-2"],
    prEnv(103),
  );
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stderr, /GitHub rate limit \(403\)/);
  assert.match(second.stdout, /✓ Updated the verdict comment on pull request #103/);
  assert.equal(ours(103).length, 1);

  // A wait past the budget gives up with a warning, and the push still succeeds.
  gh.faults.push({ kind: "retry-after", status: 429, seconds: 3600 });
  const late = await cli(
    ["push", "--input", guideFile(model), "--environment", model, "--commit-sha", "p429-3"],
    prEnv(103),
  );
  assert.equal(late.code, 0);
  assert.match(warnings(late)[0] ?? "", /rate limited \(429\).*past the budget/);
});

test("nothing is sent outside a pull request, or with --no-github-comment", async () => {
  const model = await pinnedModel("pr-none");
  const before = gh.requests.length;
  const onPush = await cli(
    ["push", "--input", guideFile(model), "--environment", model, "--commit-sha", "pn-1"],
    prEnv(104, { GITHUB_EVENT_NAME: "push", GITHUB_EVENT_PATH: undefined }),
  );
  assert.equal(onPush.code, 0, onPush.stdout + onPush.stderr);
  const off = await cli(
    [
      "push",
      "--input",
      guideFile(model),
      "--environment",
      model,
      "--commit-sha",
      "pn-2",
      "--no-github-comment",
    ],
    prEnv(104),
  );
  assert.equal(off.code, 0, off.stdout + off.stderr);
  assert.equal(gh.requests.length, before, "no request reached GitHub");
  assert.equal(warnings(onPush).length + warnings(off).length, 0);

  // --github-comment outside a pull request says why it cannot comment.
  const asked = await cli(
    [
      "push",
      "--input",
      guideFile(model),
      "--environment",
      model,
      "--commit-sha",
      "pn-3",
      "--github-comment",
    ],
    prEnv(104, { GITHUB_EVENT_NAME: "push", GITHUB_EVENT_PATH: undefined }),
  );
  assert.equal(asked.code, 0);
  assert.match(warnings(asked)[0] ?? "", /not a pull_request event/);
});

test("a workflow_run of a pull request's workflow (Option B) comments on that pull request", async () => {
  const model = await pinnedModel("pr-run");
  const event = join(tmp(), "event.json");
  writeFileSync(
    event,
    JSON.stringify({
      action: "completed",
      workflow_run: { event: "pull_request", pull_requests: [{ number: 105 }] },
    }),
  );
  const r = await cli(
    ["push", "--input", guideFile(model), "--environment", model, "--commit-sha", "pr-run-1"],
    prEnv(105, { GITHUB_EVENT_NAME: "workflow_run", GITHUB_EVENT_PATH: event }),
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /✓ Commented the verdict on pull request #105/);
  assert.equal(ours(105).length, 1);
});
