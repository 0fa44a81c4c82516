// Talks to the benchwatch Edge Functions through supabase-js's functions client
// (@supabase/functions-js, what `supabase.functions` is), with the same headers as any
// Supabase client. The full createClient is not used: on Node 20 it insists on a WebSocket
// implementation for realtime, which a CLI never opens.
// Network errors and 5xx answers are retried with backoff; callers that write pass an
// Idempotency-Key, so a retry after a lost answer never records a run twice. Every other
// failure becomes a CliError that says what to do (the setup guide's troubleshooting).

import {
  FunctionsClient,
  FunctionsFetchError,
  FunctionsHttpError,
  FunctionsRelayError,
} from "@supabase/functions-js";
import type { Connection } from "./config.ts";
import { CliError, EXIT } from "./errors.ts";

export interface ApiOptions {
  retries?: number;
  /** First backoff in ms; it doubles each retry. */
  backoffMs?: number;
  timeoutMs?: number;
  onRetry?: (attempt: number, reason: string) => void;
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
    const retries = this.opts.retries ?? 4;
    let delay = this.opts.backoffMs ?? 500;
    for (let attempt = 0;; attempt++) {
      const { data, error } = await this.functions.invoke(name, {
        method: opts.method ?? (opts.body === undefined ? "GET" : "POST"),
        body: opts.body as Record<string, unknown> | undefined,
        headers: opts.headers,
        timeout: this.opts.timeoutMs ?? 30_000,
      });
      if (!error) return data as T;
      const failure = await this.classify(fn, error);
      if (failure.retry && attempt < retries) {
        this.opts.onRetry?.(attempt + 1, failure.reason);
        await sleep(delay);
        delay *= 2;
        continue;
      }
      throw failure.error;
    }
  }

  private async classify(
    fn: string,
    error: unknown,
  ): Promise<{ retry: boolean; reason: string; error: CliError }> {
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
        reason,
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
        reason: `HTTP ${status}`,
        error: new CliError(`Supabase answered ${status} from ${fn}: ${msg}`, EXIT.REMOTE),
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
