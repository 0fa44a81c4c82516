// Maps an error raised by the SQL API to the HTTP answer. The SQL functions raise stable
// SQLSTATEs (docs/error-codes.md), so the functions never parse messages, and an
// unexpected database error becomes a 500 whose body says nothing about internals, and an
// unavailable database a 503 with Retry-After.

import { problem } from "./http.ts";

interface PgError {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
}

const STATUS: Record<string, [number, string]> = {
  BW001: [400, "invalid_run"],
  BW002: [400, "invalid_run"],
  BW003: [400, "invalid_run"],
  BW004: [400, "invalid_run"],
  BW005: [400, "invalid_run"],
  BW006: [400, "invalid_run"],
  BW007: [400, "invalid_run"],
  BW008: [400, "invalid_run"],
  BW009: [422, "idempotency_key_reused"],
  BW010: [404, "run_not_found"],
  BW011: [409, "baseline_frozen"],
  BW013: [400, "invalid_batch"],
  BW014: [400, "invalid_token_name"],
  BW015: [400, "invalid_functions_url"],
  BW016: [400, "invalid_webhook_secret"],
  BW018: [404, "alert_not_found"],
  BW019: [400, "invalid_query"],
  BW020: [400, "invalid_query"],
  BW021: [400, "invalid_query"],
  BW022: [409, "direction_conflict"],
  BW023: [400, "invalid_policy"],
  BW030: [400, "invalid_run"],
  BW031: [400, "invalid_run"],
  BW032: [400, "invalid_run"],
  "22023": [400, "invalid_parameter"],
  "22P02": [400, "invalid_parameter"],
  // untranslatable_character / unsupported Unicode escape: a NUL in a string.
  "22P05": [400, "invalid_run"],
};

/**
 * The database is down, restarting or unreachable, rather than refusing the request:
 * connection exceptions (08xxx), operator intervention (57P01 admin shutdown, 57P02 crash
 * shutdown, 57P03 cannot connect now), and postgres.js's and the socket's connection codes.
 */
const UNAVAILABLE =
  /^(08...|57P0[1-3]|CONNECTION_(CLOSED|ENDED|DESTROYED)|CONNECT_TIMEOUT|ECONN(REFUSED|RESET|ABORTED)|EPIPE|ETIMEDOUT|EHOSTUNREACH)$/;

/** A problem Response for a database error; unknown errors are logged and answered 500. */
export function sqlProblem(e: unknown, context: string): Response {
  const err = (e ?? {}) as PgError;
  const mapped = err.code ? STATUS[err.code] : undefined;
  if (mapped) {
    const details: Record<string, string> = { sqlstate: err.code! };
    if (err.detail) details.detail = err.detail;
    if (err.hint) details.hint = err.hint;
    return problem(mapped[0], mapped[1], err.message ?? "The request was rejected", details);
  }
  if (err.code === "42883" || err.code === "42P01" || err.code === "3F000") {
    // undefined_function / undefined_table / invalid_schema_name: migrations not applied.
    return problem(
      503,
      "schema_not_applied",
      "Apply the database schema with `supabase db push`: the benchwatch SQL API is missing",
      { sqlstate: err.code },
    );
  }
  if (err.code && UNAVAILABLE.test(err.code)) {
    // Worth a retry: answered 503 with Retry-After, as the CLI and other clients expect.
    console.error(`${context}: database unavailable: ${err.code} ${err.message ?? ""}`);
    return problem(
      503,
      "database_unreachable",
      "Retry in a moment with the same body: the database is unavailable (restarting, failing over or unreachable)",
      { sqlstate: err.code },
      { "retry-after": "1" },
    );
  }
  console.error(`${context}: ${err.code ?? ""} ${err.message ?? String(e)}`);
  return problem(500, "internal_error", "Try again later: the database call failed unexpectedly");
}
