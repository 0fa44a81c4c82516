// Talks to the benchwatch Edge Functions through supabase-js's functions client
// (@supabase/functions-js, what `supabase.functions` is), with the same headers as any
// Supabase client. The full createClient is not used: on Node 20 it insists on a WebSocket
// implementation for realtime, which a CLI never opens.
// Network errors, 5xx and 429 answers are retried for a time budget (push's --retry-for,
// default 2 minutes: long enough to ride out a database restart, failover or pooler blip), with
// exponential backoff and jitter, never sooner than a Retry-After header asks. The server
// identifies runs by their content, so a retry after a lost answer never records a run
// twice. Every other failure becomes a CliError that says what to do (the setup guide's
// troubleshooting).

import {
  FunctionsClient,
  FunctionsFetchError,
  FunctionsHttpError,
  FunctionsRelayError,
} from "@supabase/functions-js";
import type { Connection } from "./config.ts";
import { CliError, EXIT } from "./errors.ts";

export interface ApiOptions {
  /** How long one call keeps retrying after its first failure, in ms (default 8 s; push: 2 minutes). */
  retryForMs?: number;
  /** First backoff in ms; it doubles each retry, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
  /** Called before each wait: why, how long until the next try, and how much budget is left. */
  onRetry?: (wait: RetryWait) => void;
  /** For the jitter; Math.random unless a test pins it. */
  random?: () => number;
}

export interface RetryWait {
  attempt: number;
  reason: string;
  waitMs: number;
  remainingMs: number;
}

/** push's default --retry-for: a database restart, failover or pooler blip takes longer than seconds. */
export const DEFAULT_RETRY_FOR_MS = 120_000;

/** "90s", "2m", "1m30s", "500ms", "1h", or a bare number of seconds; null if it is none. */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = t;
  while (rest) {
    const m = rest.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)/);
    if (!m) return null;
    total += Number(m[1]) * unit[m[2]];
    rest = rest.slice(m[0].length);
  }
  return t ? total : null;
}

/** Retry-After: delta-seconds or an HTTP date (RFC 9110 10.2.3), in ms from now. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface CallOptions {
  method?: "GET" | "POST" | "DELETE";
  body?: unknown;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
}

interface Problem {
  error?: string;
  code?: string | number;
  message?: string;
  details?: { issues?: { path: string; message: string }[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Api {
  private readonly functions: FunctionsClient;
  constructor(readonly conn: Connection, private readonly opts: ApiOptions = {}) {
    this.functions = new FunctionsClient(`${conn.url}/functions/v1`, {
      headers: { Authorization: `Bearer ${conn.key}`, apikey: conn.key },
    });
  }

  async call<T>(fn: string, opts: CallOptions = {}): Promise<T> {
    const query = Object.entries(opts.query ?? {}).filter(([, v]) => v !== undefined) as [
      string,
      string,
    ][];
    const name = query.length ? `${fn}?${new URLSearchParams(query)}` : fn;
    const budget = this.opts.retryForMs ?? 8_000;
    const base = this.opts.backoffMs ?? 500;
    const cap = this.opts.maxBackoffMs ?? 10_000;
    const random = this.opts.random ?? Math.random;
    let deadline: number | undefined;
    for (let attempt = 0;; attempt++) {
      const { data, error } = await this.functions.invoke(name, {
        method: opts.method ?? (opts.body === undefined ? "GET" : "POST"),
        body: opts.body as Record<string, unknown> | undefined,
        headers: opts.headers,
        timeout: this.opts.timeoutMs ?? 30_000,
      });
      if (!error) return data as T;
      const failure = await this.classify(fn, error);
      if (!failure.retry || budget <= 0) throw failure.error;
      const now = Date.now();
      deadline ??= now + budget;
      const remainingMs = deadline - now;
      // Half the backoff fixed, half random ("equal jitter"), so clients that failed
      // together do not come back together.
      const backoff = Math.min(cap, base * 2 ** attempt);
      const waitMs = Math.max(backoff / 2 + random() * backoff / 2, failure.retryAfterMs ?? 0);
      // A Retry-After that ends past the budget cannot be honoured within it: give up now.
      if (remainingMs <= 0 || (failure.retryAfterMs ?? 0) > remainingMs) {
        throw new CliError(
          `${failure.error.message}\n  Gave up after retrying for ${
            Math.round(budget / 1000)
          } s (--retry-for ${Math.round(budget / 1000)}s)`,
          failure.error.exitCode,
        );
      }
      this.opts.onRetry?.({
        attempt: attempt + 1,
        reason: failure.reason,
        waitMs: Math.min(waitMs, remainingMs),
        remainingMs,
      });
      await sleep(Math.min(waitMs, remainingMs));
    }
  }

  private async classify(
    fn: string,
    error: unknown,
  ): Promise<{ retry: boolean; reason: string; error: CliError; retryAfterMs?: number }> {
    const url = this.conn.url;
    if (
      error instanceof FunctionsFetchError ||
      !(error instanceof FunctionsHttpError || error instanceof FunctionsRelayError)
    ) {
      const cause = (error as {
        context?: {
          message?: string;
          cause?: { code?: string; message?: string; errors?: { code?: string }[] };
        };
      }).context;
      const reason = cause?.cause?.code ?? cause?.cause?.errors?.[0]?.code ??
        cause?.cause?.message ??
        cause?.message ?? String(error);
      return {
        retry: true,
        reason: `Supabase unreachable (${reason})`,
        error: new CliError(
          `Could not connect to Supabase at ${url} (${reason})\n` +
            "  Check:\n" +
            "  1. SUPABASE_URL is set correctly: echo $SUPABASE_URL\n" +
            "  2. The Supabase project is running (check its dashboard)\n" +
            "  3. The URL has the https:// prefix\n" +
            "  4. The URL has no trailing slash\n" +
            "  5. This machine can reach it (network, proxy, firewall)",
          EXIT.REMOTE,
        ),
      };
    }
    const res = error.context as Response;
    let body: Problem = {};
    try {
      body = await res.json();
    } catch { /* not JSON */ }
    const status = res.status;
    const msg = body.message ?? res.statusText;
    if (status === 404 && (body.code === "NOT_FOUND" || /function was not found/i.test(msg))) {
      return {
        retry: false,
        reason: msg,
        error: new CliError(
          `The ${fn} function is not deployed to ${url}: deploy the functions with \`supabase functions deploy\``,
          EXIT.REMOTE,
        ),
      };
    }
    if (body.error === "schema_not_applied") {
      return {
        retry: false,
        reason: msg,
        error: new CliError(
          "The database schema is not applied (function upsert_benchmark_result does not exist): " +
            "run `supabase db push` (or `supabase db push --db-url <url>`)",
          EXIT.REMOTE,
        ),
      };
    }
    if (body.error === "read_only_key") {
      return {
        retry: false,
        reason: msg,
        error: new CliError(
          "Permission denied: this is the publishable / anon (read-only) key. Set " +
            "SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY (or BENCHWATCH_INGEST_TOKEN) in " +
            "your CI secrets",
          EXIT.CONFIG,
        ),
      };
    }
    if (status === 401 || status === 403) {
      return {
        retry: false,
        reason: msg,
        error: new CliError(
          `Permission denied (${status}): ${msg}. Check that the key belongs to this project ` +
            "(SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY for writes, " +
            "SUPABASE_PUBLISHABLE_KEY or SUPABASE_ANON_KEY for reads)",
          EXIT.CONFIG,
        ),
      };
    }
    if (status >= 500 || status === 429) {
      return {
        retry: true,
        reason: body.error === "database_unreachable"
          ? "database unavailable"
          : status === 429
          ? "rate limited (429)"
          : `Supabase answered ${status}`,
        error: new CliError(`Supabase answered ${status} from ${fn}: ${msg}`, EXIT.REMOTE),
        retryAfterMs: retryAfterMs(res.headers.get("retry-after")),
      };
    }
    const issues = body.details?.issues?.map((i) => `  ${i.path || "(body)"}: ${i.message}`).join(
      "\n",
    );
    return {
      retry: false,
      reason: msg,
      error: new CliError(
        `${fn} rejected the request (${status} ${body.error ?? ""}): ${msg}${
          issues ? `\n${issues}` : ""
        }`,
        status === 404 ? EXIT.REMOTE : EXIT.CONFIG,
      ),
    };
  }
}
