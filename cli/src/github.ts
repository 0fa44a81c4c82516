// The verdict as one pull-request comment: inside a `pull_request` workflow (or a workflow_run
// of one) with a GITHUB_TOKEN, push and check post the verdict table on the pull request, and later pushes update that same
// comment in place (found by a hidden marker) instead of adding another.
//
// GitHub's REST API (docs.github.com/rest/issues/comments, API version 2022-11-28): a pull
// request is an issue, so its conversation comments are issue comments:
//   GET   /repos/{owner}/{repo}/issues/{number}/comments?per_page=100  (pages: the Link header)
//   POST  /repos/{owner}/{repo}/issues/{number}/comments   {"body"}  -> 201
//   PATCH /repos/{owner}/{repo}/issues/comments/{id}       {"body"}  -> 200
// Rate limits (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api): a 403 or
// 429 with retry-after waits that many seconds; with x-ratelimit-remaining 0 it waits until
// x-ratelimit-reset (UTC epoch seconds); a secondary limit with neither waits at least a minute.
// Waits stay within a time budget; past it the comment is given up.
//
// A comment is a courtesy: nothing here ever fails the command or changes its exit code. A
// missing token, a 403 (the job's GITHUB_TOKEN lacks `pull-requests: write`, or the pull request
// comes from a fork) or any other failure prints one warning that says what to do.

import { readFileSync } from "node:fs";
import { retryAfterMs } from "./api.ts";
import { markdownSummary, type RunVerdict } from "./output.ts";

/** The hidden line that identifies benchwatch's comment among a pull request's comments. */
export const COMMENT_MARKER = "<!-- benchwatch:verdict -->";
/** GitHub refuses a comment body over 65,536 characters. */
const MAX_BODY = 65_000;
const PERMISSION_HINT =
  "give the job `permissions: pull-requests: write` and pass `GITHUB_TOKEN: ${{ github.token }}` " +
  "(a pull request from a fork gets a read-only token)";

export interface CommentOptions {
  /** --github-comment (true), --no-github-comment (false), or neither (undefined: automatic). */
  githubComment?: boolean;
  /** --dashboard-url, else $BENCHWATCH_DASHBOARD_URL, else $DASHBOARD_URL. */
  dashboardUrl?: string;
  /** How long rate limits may be waited out, in ms (default 60 s). */
  retryForMs?: number;
}

interface PullRequest {
  api: string;
  repo: string;
  number: number;
  token: string;
}

const PR_EVENTS = ["pull_request", "pull_request_target"];

/** The job's event payload (GITHUB_EVENT_PATH), or {} when there is none to read. */
function eventOf(env: Record<string, string | undefined>): Record<string, unknown> {
  if (!env.GITHUB_EVENT_PATH) return {};
  try {
    const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, "utf8"));
    return event && typeof event === "object" ? event : {};
  } catch {
    return {};
  }
}

/**
 * Whether the job runs for a pull request: a pull_request event, or a workflow_run (Option B,
 * benchmark-persist.yml) of a workflow that a pull request triggered.
 */
function forPullRequest(env: Record<string, string | undefined>): boolean {
  if (PR_EVENTS.includes(env.GITHUB_EVENT_NAME ?? "")) return true;
  // deno-lint-ignore no-explicit-any
  const run = (eventOf(env) as any).workflow_run;
  return env.GITHUB_EVENT_NAME === "workflow_run" && PR_EVENTS.includes(run?.event) &&
    Array.isArray(run?.pull_requests) && run.pull_requests.length > 0;
}

/** The pull request this job runs for, or why there is none. */
export function pullRequestOf(
  env: Record<string, string | undefined>,
): PullRequest | { missing: string } {
  const repo = env.GITHUB_REPOSITORY;
  // deno-lint-ignore no-explicit-any
  const event = eventOf(env) as any;
  const candidates = [
    event.pull_request?.number,
    event.number,
    event.workflow_run?.pull_requests?.[0]?.number,
    Number(env.GITHUB_REF?.match(/^refs\/pull\/(\d+)\//)?.[1]),
  ];
  const number = candidates.find((n) => Number.isInteger(n) && n > 0) as number | undefined;
  if (!repo || !/^[^/]+\/[^/]+$/.test(repo)) return { missing: "GITHUB_REPOSITORY is not set" };
  if (!number) {
    return {
      missing: `this is not a pull_request event (GITHUB_EVENT_NAME=${
        env.GITHUB_EVENT_NAME ?? "unset"
      }): no pull request number in GITHUB_EVENT_PATH or GITHUB_REF`,
    };
  }
  const token = env.GITHUB_TOKEN ?? "";
  if (!token) return { missing: `GITHUB_TOKEN is not set: ${PERMISSION_HINT}` };
  return {
    api: (env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, ""),
    repo,
    number,
    token,
  };
}

/** Links to the dashboard's trend and regression views of a run's series. */
export function dashboardLinks(base: string, run: RunVerdict): string {
  const s = run.series;
  const keys = [
    "model_version",
    "model_provider",
    "dataset_version",
    "prompt_version",
    "environment",
  ];
  const metric = run.metrics.find((m) => m.is_regression)?.metric_name ??
    run.metrics[0]?.metric_name;
  const trend = new URL(base);
  trend.search = new URLSearchParams({
    view: "trends",
    series: keys.map((k) => s[k]).join("|"),
    ...(metric ? { metric } : {}),
  }).toString();
  const regressions = new URL(base);
  regressions.search = new URLSearchParams({
    view: "regressions",
    ...Object.fromEntries(keys.map((k) => [k, s[k]])),
  }).toString();
  return `[trend${metric ? ` of ${metric}` : ""}](${trend}) · [regressions](${regressions})`;
}

/** The comment's body: the marker, the verdict table per run, and links to the dashboard. */
export function commentBody(title: string, runs: RunVerdict[], dashboardUrl?: string): string {
  const links = dashboardUrl ? (r: RunVerdict) => dashboardLinks(dashboardUrl, r) : undefined;
  let shown = runs;
  let body = "";
  // Keep within GitHub's limit: fewer runs (regressed ones first) and say how many are left out.
  for (;;) {
    const more = runs.length - shown.length;
    body = `${COMMENT_MARKER}\n${markdownSummary(title, shown, links)}${
      more ? `\n…and ${more} more run${more === 1 ? "" : "s"} (see the job summary)\n` : ""
    }`;
    if (body.length <= MAX_BODY || shown.length <= 1) break;
    const ordered = [...runs].sort((a, b) =>
      Number(b.metrics.some((m) => m.is_regression)) -
      Number(a.metrics.some((m) => m.is_regression))
    );
    shown = ordered.slice(0, Math.max(1, Math.floor(shown.length / 2)));
  }
  return body.slice(0, MAX_BODY);
}

class GitHubError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** One REST call, waiting out rate limits within the deadline. */
async function request(
  pr: PullRequest,
  method: "GET" | "POST" | "PATCH",
  url: string,
  deadline: number,
  body?: unknown,
): Promise<Response> {
  for (let attempt = 1;; attempt++) {
    const res = await fetch(url, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${pr.token}`,
        "x-github-api-version": "2022-11-28",
        "user-agent": "benchwatch-cli",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (res.ok) return res;
    const text = await res.text();
    let message = text;
    try {
      message = JSON.parse(text).message ?? text;
    } catch { /* not JSON */ }
    const remaining = res.headers.get("x-ratelimit-remaining");
    const limited = (res.status === 403 || res.status === 429) &&
      (res.headers.has("retry-after") || remaining === "0" || /rate limit/i.test(message));
    if (!limited) throw new GitHubError(res.status, `${res.status} ${message}`.trim());
    const reset = Number(res.headers.get("x-ratelimit-reset"));
    const wait = retryAfterMs(res.headers.get("retry-after")) ??
      (remaining === "0" && reset ? Math.max(0, reset * 1000 - Date.now()) : 60_000 * attempt);
    if (Date.now() + wait > deadline) {
      throw new GitHubError(
        res.status,
        `rate limited (${res.status}), and the wait (${
          Math.ceil(wait / 1000)
        } s) is past the budget`,
      );
    }
    console.error(
      `GitHub rate limit (${res.status}): retrying the pull request comment in ${
        Math.ceil(wait / 1000)
      } s`,
    );
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** The id of the comment that carries the marker, reading every page of the pull request's comments. */
async function findComment(pr: PullRequest, deadline: number): Promise<number | undefined> {
  let url: string | undefined =
    `${pr.api}/repos/${pr.repo}/issues/${pr.number}/comments?per_page=100`;
  for (let page = 0; url && page < 100; page++) {
    const res = await request(pr, "GET", url, deadline);
    const comments = (await res.json()) as { id: number; body?: string }[];
    const mine = comments.find((c) => c.body?.includes(COMMENT_MARKER));
    if (mine) return mine.id;
    url = res.headers.get("link")?.match(/<([^>]+)>\s*;\s*rel="next"/)?.[1];
  }
  return undefined;
}

/**
 * Posts or updates the verdict comment when this is a pull request (or --github-comment asks
 * for it). Returns what happened, for the caller's log; never throws.
 */
export async function commentOnPullRequest(
  title: string,
  runs: RunVerdict[],
  opts: CommentOptions,
  env: Record<string, string | undefined> = process.env,
): Promise<string | null> {
  if (opts.githubComment === false) return null;
  const automatic = opts.githubComment === undefined;
  if (automatic && !(env.GITHUB_ACTIONS === "true" && forPullRequest(env))) return null;
  const pr = pullRequestOf(env);
  if ("missing" in pr) {
    return `warning: the verdict was not commented on the pull request: ${pr.missing}`;
  }
  const dashboardUrl = opts.dashboardUrl || env.BENCHWATCH_DASHBOARD_URL || env.DASHBOARD_URL;
  const body = commentBody(title, runs, dashboardUrl);
  const deadline = Date.now() + (opts.retryForMs ?? 60_000);
  try {
    const id = await findComment(pr, deadline);
    if (id !== undefined) {
      await request(pr, "PATCH", `${pr.api}/repos/${pr.repo}/issues/comments/${id}`, deadline, {
        body,
      });
      return `✓ Updated the verdict comment on pull request #${pr.number}`;
    }
    await request(pr, "POST", `${pr.api}/repos/${pr.repo}/issues/${pr.number}/comments`, deadline, {
      body,
    });
    return `✓ Commented the verdict on pull request #${pr.number}`;
  } catch (e) {
    const status = e instanceof GitHubError ? e.status : 0;
    const why = e instanceof Error ? e.message : String(e);
    return `warning: the verdict was not commented on pull request #${pr.number}: ${why}` +
      (status === 401 || status === 403 || status === 404 ? `; ${PERMISSION_HINT}` : "");
  }
}
