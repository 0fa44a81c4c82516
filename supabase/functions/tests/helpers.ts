// Helpers for the HTTP-level tests: call a function through the gateway with a given
// credential, reach the test database, steer the local Slack sink, make unique series.

import postgres from "postgres";
import { SignJWT } from "jose";
import { functionsUrl, stackEnv } from "./env.ts";

/**
 * Who a test calls as: the legacy JWT keys (anon, service_role) in Authorization; the new
 * keys (publishable, secret) as supabase-js sends them, in both apikey and Authorization;
 * `{ apikey }` in that header alone, as Supabase's docs advise for the new keys.
 */
export type Credential =
  | "none"
  | "anon"
  | "service_role"
  | "publishable"
  | "secret"
  | "authenticated"
  | { bearer: string }
  | { apikey: string };

export function bearerOf(cred: Credential): string | null {
  if (cred === "none") return null;
  if (cred === "anon") return stackEnv("SUPABASE_ANON_KEY");
  if (cred === "service_role") return stackEnv("SUPABASE_SERVICE_ROLE_KEY");
  if (cred === "publishable") return stackEnv("SUPABASE_PUBLISHABLE_KEY");
  if (cred === "secret") return stackEnv("SUPABASE_SECRET_KEY");
  if (cred === "authenticated") throw new Error("Use userJwt() for an authenticated user");
  return "bearer" in cred ? cred.bearer : null;
}

/** The headers a credential travels in. */
export function credentialHeaders(cred: Credential): Record<string, string> {
  if (typeof cred === "object" && "apikey" in cred) return { apikey: cred.apikey };
  const key = bearerOf(cred);
  if (!key) return {};
  return cred === "publishable" || cred === "secret"
    ? { authorization: `Bearer ${key}`, apikey: key }
    : { authorization: `Bearer ${key}` };
}

/** A real user JWT, signed with the project's secret, as Supabase Auth would issue. */
export async function userJwt(): Promise<string> {
  return await new SignJWT({ role: "authenticated", sub: crypto.randomUUID() })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(stackEnv("BENCHWATCH_JWT_SECRET")));
}

export interface CallOptions {
  method?: string;
  as?: Credential;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

export async function call(
  fn: string,
  opts: CallOptions = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {
    ...credentialHeaders(opts.as ?? "service_role"),
    ...opts.headers,
  };
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const qs = opts.query ? `?${new URLSearchParams(opts.query)}` : "";
  const res = await fetch(`${functionsUrl()}/${fn}${qs}`, {
    method: opts.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

let client: postgres.Sql | undefined;
export function db(): postgres.Sql {
  client ??= postgres(stackEnv("SUPABASE_DB_URL"), { max: 4, onnotice: () => {} });
  return client;
}
export async function closeDb(): Promise<void> {
  await client?.end();
  client = undefined;
}

/** A series name no other test uses. */
export function uniq(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** The setup guide's Step 5 run, on a series of the caller's choosing. */
export function guideRun(
  model: string,
  overrides: Record<string, postgres.JSONValue> = {},
): Record<string, postgres.JSONValue> {
  return {
    model_version: model,
    dataset_version: "test-set-v1",
    prompt_version: "test-prompt-v1",
    model_provider: "openai",
    environment: "local",
    commit_sha: "abc123",
    metrics: { precision: 0.91, recall: 0.88, f1: 0.895, latency_ms: 412, analysis_cost: 0.0042 },
    ...overrides,
  };
}

/** The guide's Test 3 lower-performing run. */
export function regressedRun(
  model: string,
  overrides: Record<string, postgres.JSONValue> = {},
): Record<string, postgres.JSONValue> {
  return guideRun(model, {
    commit_sha: "abc124",
    branch_name: "develop",
    run_id: "test-run-2",
    triggered_by: "test-user",
    dataset_size: 100,
    duration_seconds: 30,
    tags: ["test"],
    notes: "Test regression detection",
    metrics: { precision: 0.85, recall: 0.82, f1: 0.835, latency_ms: 420, analysis_cost: 0.0043 },
    ...overrides,
  });
}

export async function countRuns(model: string): Promise<number> {
  const [r] =
    await db()`select count(*)::int as n from public.benchmark_transactions where model_version = ${model}`;
  return r.n;
}

// The local Slack sink.
const sinkUrl = () => stackEnv("BENCHWATCH_SLACK_SINK_URL");

export interface SinkMessage {
  received_at: string;
  body: { text: string; blocks: unknown[] };
  answered: string;
}

export async function sinkMessages(mentioning: string): Promise<SinkMessage[]> {
  const all: SinkMessage[] = await (await fetch(`${sinkUrl()}/_sink/messages`)).json();
  return all.filter((m) => JSON.stringify(m.body).includes(mentioning));
}

export async function setSink(
  mode: "ok" | "error_500" | "timeout" | "rate_limited" | "no_service",
  opts: { times?: number; retry_after?: number } = {},
): Promise<void> {
  const res = await fetch(`${sinkUrl()}/_sink/behaviour`, {
    method: "POST",
    body: JSON.stringify({ mode, ...opts }),
  });
  if (!res.ok) throw new Error(`sink refused mode ${mode}: ${await res.text()}`);
  await res.body?.cancel();
}

/** Pins the series' latest run as its baseline through the API, as the CLI does. */
export async function pinRun(transactionId: string): Promise<void> {
  const res = await call("regressions", { body: { action: "pin", transaction_id: transactionId } });
  if (res.status !== 200) throw new Error(`pin failed: ${res.status} ${JSON.stringify(res.body)}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The immediate alert policy: every run beyond tolerance is out of control, one run confirms
 * an opening (no noise or evidence test), one run back within tolerance resolves. Tests of the
 * read APIs and of delivery need an alert from the guide's single regressing run, which the
 * default noise-aware policy rightly leaves alone (dataset_size 100: within noise; one run:
 * unconfirmed). The policy itself is pinned down by pgTAP 20-noise-aware-detection.
 */
export async function useImmediateAlertPolicy(): Promise<void> {
  await db()`update benchwatch_private.detection_defaults
             set sensitivity = 0, confirmation_runs = 1, min_history = 1, resolve_fraction = 1,
                 evidence_z = 0, alarm_z = 0, resolve_runs = 1`;
}

/** Puts every detection default back: the one row again, with the columns' defaults. */
export async function restoreDefaultAlertPolicy(): Promise<void> {
  await db().begin(async (tx) => {
    await tx`delete from benchwatch_private.detection_defaults`;
    await tx`insert into benchwatch_private.detection_defaults default values`;
  });
}

/** Runs fn under the immediate alert policy and restores the defaults afterwards. */
export async function withImmediateAlertPolicy<T>(fn: () => Promise<T>): Promise<T> {
  await useImmediateAlertPolicy();
  try {
    return await fn();
  } finally {
    await restoreDefaultAlertPolicy();
    // The restore reopens the connection; a test must not leave it open for the next one
    // (Deno 2.1's leak sanitizer fails the test that later closes it).
    await closeDb();
  }
}
