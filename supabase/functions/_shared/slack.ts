// Slack delivery for regression alerts: the Block Kit message, how to read Slack's answer,
// the POST itself (explicit timeout, Retry-After honoured), and the webhook URL allow-list.
// The webhook URL is a secret, so nothing here returns or logs it.

import { type PairedCounts, pairedCountsText, sliceLabel, statText } from "./paired-format.ts";

export type Severity = "critical" | "major" | "minor";

/** The opening run's paired comparison with its baseline's examples (docs/api.md). */
export interface PairedEvidence extends PairedCounts {
  /** The slice with the smallest q among those with more examples worse than better. */
  worst_slice: (PairedCounts & { slice: string }) | null;
}

export interface AlertMetric {
  metric: string;
  direction: "higher_is_better" | "lower_is_better";
  baseline: number | null;
  current: number | null;
  /** (current - baseline) / baseline, e.g. -0.067 for a 6.7% drop. */
  relative_change: number | null;
  severity: Severity;
  within_noise?: boolean;
  /** Only when the alert was opened by a run with per-example results for this metric. */
  paired?: PairedEvidence;
}

export interface RunAlertEvent {
  kind: "regressed" | "recovered";
  series: {
    model_version: string;
    model_provider: string;
    dataset_version: string;
    prompt_version: string;
    environment: string;
  };
  baseline_model_version?: string;
  transaction_id: string;
  commit_sha?: string | null;
  branch_name?: string | null;
  run_id?: string | null;
  /** e.g. https://github.com/org/repo, for commit and CI run links. */
  repository_url?: string | null;
  metrics: AlertMetric[];
  dashboard_url?: string | null;
  created_at: string;
}

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

// Slack's limits: 50 blocks, 3000 characters per section text, 150 per header, 75 per
// button label, 3000 per URL. Ten metric sections (≤ 30k characters) plus four other blocks
// also keep the message under the 40k characters Slack displays.
const SECTION_TEXT_MAX = 3000;
const HEADER_TEXT_MAX = 150;
const URL_MAX = 3000;
const MAX_METRIC_SECTIONS = 10;
const MORE_SUFFIX_ROOM = 40;

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, major: 1, minor: 2 };
const SEVERITY_ICON: Record<Severity, string> = {
  critical: ":red_circle:",
  major: ":large_orange_circle:",
  minor: ":large_yellow_circle:",
};

/** Slack mrkdwn control characters; everything else in user text is shown as typed. */
const escape = (s: string): string =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

const clip = (s: string, max: number): string => s.length <= max ? s : `${s.slice(0, max - 1)}…`;

const code = (s: string): string => `\`${escape(s.replaceAll("`", "'"))}\``;

const numberFormat = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 6 });
const formatValue = (v: number | null): string => v === null ? "missing" : numberFormat.format(v);

function formatChange(relative: number | null): string {
  if (relative === null) return "n/a";
  const sign = relative > 0 ? "+" : relative < 0 ? "\u2212" : "±";
  return `${sign}${Math.abs(relative * 100).toFixed(1)}%`;
}

/** Whether the metric moved the wrong way for its direction, e.g. latency going up. */
function isWorse(m: AlertMetric): boolean | null {
  if (m.baseline === null || m.current === null) return null;
  const delta = m.current - m.baseline;
  return m.direction === "higher_is_better" ? delta < 0 : delta > 0;
}

function metricIcon(m: AlertMetric): string {
  const worse = isWorse(m);
  if (worse === null) return ":grey_question:";
  return worse ? SEVERITY_ICON[m.severity] : ":white_check_mark:";
}

function metricLine(m: AlertMetric, kind: RunAlertEvent["kind"]): string {
  const values = `${formatValue(m.baseline)} \u2192 ${formatValue(m.current)}`;
  const notes = [
    kind === "regressed" ? m.severity : `was ${m.severity}`,
    ...(m.direction === "lower_is_better" ? ["lower is better"] : []),
    ...(m.within_noise ? ["within noise"] : []),
  ];
  const change = formatChange(m.relative_change);
  const line = `${metricIcon(m)} ${code(m.metric)}: ${values} (${change}) · ${notes.join(" · ")}`;
  const evidence = kind === "regressed" && m.paired ? pairedLines(m.paired) : [];
  return clip([line, ...evidence].join("\n"), SECTION_TEXT_MAX - MORE_SUFFIX_ROOM);
}

/** What the examples say, under the metric's line (indented by an em space). */
function pairedLines(paired: PairedEvidence): string[] {
  // "p < 1e-6" carries one of Slack's control characters.
  const lines = [`\u2003Paired: ${escape(pairedCountsText(paired))}`];
  const s = paired.worst_slice;
  if (s) {
    lines.push(
      `\u2003Worst slice: ${code(clip(sliceLabel(s.slice), 100))}, ${s.worse} worse, ` +
        `${s.better} better of ${s.n_both} (${escape(statText("q", s.q_value))})`,
    );
  }
  return lines;
}

/** Packs lines into as few section texts as fit, summarising what does not fit at all. */
function packSections(lines: string[]): string[] {
  const sections: string[] = [];
  let current = "";
  for (const [i, line] of lines.entries()) {
    const joined = current ? `${current}\n${line}` : line;
    if (joined.length <= SECTION_TEXT_MAX - MORE_SUFFIX_ROOM) {
      current = joined;
      continue;
    }
    if (sections.length === MAX_METRIC_SECTIONS - 1) {
      sections.push(`${current}\n…and ${lines.length - i} more`);
      return sections;
    }
    sections.push(current);
    current = line;
  }
  return current ? [...sections, current] : sections;
}

/** An http(s) URL of at most `max` characters, safe inside a Slack `<url|label>` link. */
function linkUrl(raw: string | null | undefined, max: number): string | null {
  const url = raw ? URL.parse(raw) : null;
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) return null;
  const href = url.href.replaceAll("|", "%7C");
  return href.length <= max ? href : null;
}

function contextElements(event: RunAlertEvent): string[] {
  // Short enough that a commit or run link stays within a context element's 3000 characters.
  const repo = linkUrl(event.repository_url, 1000)?.replace(/\/$/, "");
  const elements: string[] = [];
  if (event.commit_sha) {
    const short = code(event.commit_sha.slice(0, 12));
    elements.push(
      repo
        ? `Commit <${repo}/commit/${encodeURIComponent(event.commit_sha)}|${short}>`
        : `Commit ${short}`,
    );
  }
  if (event.branch_name) elements.push(`Branch ${code(clip(event.branch_name, 100))}`);
  if (event.run_id) {
    elements.push(
      repo && /^\d+$/.test(event.run_id)
        ? `<${repo}/actions/runs/${event.run_id}|CI run ${event.run_id}>`
        : `CI run ${code(clip(event.run_id, 100))}`,
    );
  }
  elements.push(`Transaction ${code(event.transaction_id)}`);
  const at = Date.parse(event.created_at);
  if (!Number.isNaN(at)) {
    elements.push(
      `<!date^${Math.floor(at / 1000)}^{date_short_pretty} {time}|${escape(event.created_at)}>`,
    );
  }
  return elements;
}

export function buildSlackMessage(event: RunAlertEvent): SlackMessage {
  const { series } = event;
  const [icon, title] = event.kind === "regressed"
    ? [":rotating_light:", "Regression"]
    : [":white_check_mark:", "Recovered"];
  const subject = `${series.model_version} on ${series.dataset_version}`;
  const metrics = [...event.metrics].sort((a, b) =>
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    Math.abs(b.relative_change ?? 0) - Math.abs(a.relative_change ?? 0)
  );

  const seriesLines = [
    `*Model* ${code(series.model_version)} (${escape(series.model_provider)})`,
    [
      `*Dataset* ${code(series.dataset_version)}`,
      `*Prompt* ${code(series.prompt_version)}`,
      `*Environment* ${code(series.environment)}`,
    ].join(" · "),
    ...(event.baseline_model_version && event.baseline_model_version !== series.model_version
      ? [`*Baseline* ${code(event.baseline_model_version)}`]
      : []),
  ];
  const dashboard = linkUrl(event.dashboard_url, URL_MAX);
  const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });

  const blocks: unknown[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: clip(`${icon} ${title}: ${subject}`, HEADER_TEXT_MAX),
        emoji: true,
      },
    },
    section(clip(seriesLines.join("\n"), SECTION_TEXT_MAX)),
    ...packSections(metrics.map((m) => metricLine(m, event.kind))).map(section),
    {
      type: "context",
      elements: contextElements(event).map((text) => ({ type: "mrkdwn", text })),
    },
    ...(dashboard
      ? [{
        type: "actions",
        elements: [{
          type: "button",
          action_id: "open_dashboard",
          text: { type: "plain_text", text: "Open dashboard" },
          url: dashboard,
        }],
      }]
      : []),
  ];

  const summary = metrics.slice(0, 3)
    .map((m) => `${m.metric} ${formatChange(m.relative_change)} (${m.severity})`)
    .join(", ");
  const more = metrics.length > 3 ? ` and ${metrics.length - 3} more` : "";
  const text = clip(
    escape(`${title}: ${subject} (${series.environment}): ${summary}${more}`),
    SECTION_TEXT_MAX,
  );
  return { text, blocks };
}

export type SlackResponseClass =
  | { outcome: "sent" }
  | { outcome: "retry_after"; seconds: number }
  | { outcome: "transient"; reason: string }
  | { outcome: "permanent"; reason: string };

const RETRY_AFTER_DEFAULT_S = 1;
const RETRY_AFTER_MAX_S = 60;

/**
 * Reads an incoming-webhook answer. Slack answers 200 "ok"; its errors (invalid_payload,
 * action_prohibited, no_service, channel_not_found, channel_is_archived, ...) are 4xx with
 * the error code as the body and do not heal by retrying, so they are permanent.
 */
export function classifySlackResponse(res: Response, bodyText: string): SlackResponseClass {
  const { status } = res;
  if (status >= 200 && status < 300) return { outcome: "sent" };
  if (status === 429) {
    const header = res.headers.get("retry-after")?.trim() ?? "";
    const seconds = /^\d+$/.test(header) ? Number(header) : RETRY_AFTER_DEFAULT_S;
    return { outcome: "retry_after", seconds: Math.min(seconds, RETRY_AFTER_MAX_S) };
  }
  const reason = bodyText.trim().slice(0, 300) || `HTTP ${status}`;
  if (status >= 500 || status === 408) {
    return { outcome: "transient", reason: `HTTP ${status}: ${reason}` };
  }
  return { outcome: "permanent", reason };
}

export interface SlackDelivery {
  outcome: "sent" | "transient" | "permanent";
  reason?: string;
  attempts: number;
}

/** Error text can quote the request URL (Deno's fetch errors do); the URL is a secret. */
const redactUrls = (s: string): string => s.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, "<url>");

export async function postToSlack(
  url: string,
  message: SlackMessage,
  deps: {
    fetch?: typeof fetch;
    timeoutMs?: number;
    sleep?: (ms: number) => Promise<void>;
    maxRetryAfterWaits?: number;
  } = {},
): Promise<SlackDelivery> {
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? 5000;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxWaits = deps.maxRetryAfterWaits ?? 2;
  const body = JSON.stringify(message);

  for (let attempts = 1;; attempts++) {
    let result: SlackResponseClass;
    try {
      const res = await doFetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        // A redirect would carry the alert somewhere other than the checked URL.
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
      result = classifySlackResponse(res, await res.text());
    } catch (e) {
      const reason = (e as Error).name === "TimeoutError"
        ? `Timed out after ${timeoutMs} ms`
        : `Network error: ${(e as Error).message}`;
      return { outcome: "transient", reason: redactUrls(reason), attempts };
    }
    switch (result.outcome) {
      case "sent":
        return { outcome: "sent", attempts };
      case "retry_after":
        if (attempts > maxWaits) {
          return {
            outcome: "transient",
            reason: `Rate limited: Retry-After ${result.seconds} s`,
            attempts,
          };
        }
        await sleep(result.seconds * 1000);
        break;
      default:
        return { outcome: result.outcome, reason: redactUrls(result.reason), attempts };
    }
  }
}

/**
 * Allows only https://hooks.slack.com/... (default port, no credentials), or a URL on the
 * same origin as the explicitly configured test sink. Reasons never quote the URL's path,
 * which is where the secret is.
 */
export function validateSlackUrl(
  url: string,
  opts: { allowedTestSink?: string | null },
): { ok: true } | { ok: false; reason: string } {
  const parsed = URL.parse(url);
  if (!parsed) {
    return { ok: false, reason: "Set the Slack webhook URL to a valid URL: it does not parse" };
  }
  if (parsed.username || parsed.password) {
    return { ok: false, reason: "Remove the credentials from the Slack webhook URL" };
  }
  const sink = opts.allowedTestSink ? URL.parse(opts.allowedTestSink) : null;
  if (sink && sink.origin !== "null" && parsed.origin === sink.origin) return { ok: true };
  if (parsed.protocol !== "https:") {
    return { ok: false, reason: `Use an https Slack webhook URL: got ${parsed.protocol}` };
  }
  if (parsed.hostname !== "hooks.slack.com" || parsed.port !== "") {
    return {
      ok: false,
      reason: `Use a Slack webhook URL on hooks.slack.com: got host ${parsed.host}`,
    };
  }
  return { ok: true };
}
