// JSON responses and the problem body every function answers errors with:
// `{ error, message, details }`, where `error` is a stable machine-readable code and
// `message` says what to do.

export interface Problem {
  error: string;
  message: string;
  details?: unknown;
}

export const corsHeaders: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type, idempotency-key",
  "access-control-allow-methods": "GET, POST, OPTIONS",
};

export function json(status: number, body: unknown, headers: HeadersInit = {}): Response {
  return jsonText(status, JSON.stringify(body), headers);
}

/** A JSON document already serialised (by PostgreSQL), sent as it is. */
export function jsonText(status: number, text: string, headers: HeadersInit = {}): Response {
  return new Response(text, {
    status,
    headers: { ...corsHeaders, "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function problem(
  status: number,
  error: string,
  message: string,
  details?: unknown,
  headers: HeadersInit = {},
): Response {
  const body: Problem = details === undefined ? { error, message } : { error, message, details };
  return json(status, body, headers);
}

/** Answers CORS preflight requests; returns null for every other method. */
export function preflight(req: Request): Response | null {
  return req.method === "OPTIONS"
    ? new Response(null, { status: 204, headers: corsHeaders })
    : null;
}
