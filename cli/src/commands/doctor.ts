// benchwatch doctor: the setup guide's checklist, checked against the live project.
// Each line is ✓, ! (a warning: the project works, but something is still to do, such as
// recording the first run) or ✗ (a failure); every ! and ✗ says what to do. Only failures
// make it exit non-zero, so a freshly deployed, still empty project passes.

import { checkUrl, keyKind, loadEnv } from "../config.ts";
import { EXIT, type ExitCode } from "../errors.ts";

interface Check {
  ok: boolean;
  text: string;
  fix?: string;
  /** A check that does not hold but does not make the project unusable. */
  warn?: boolean;
}

/** A JSON object from a response body, or an empty one for anything else. */
type Json = Record<string, unknown>;
function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Json : {};
}

const FUNCTIONS = ["ingest", "regressions", "benchmarks", "notify-slack"];

async function get(
  url: string,
  key: string,
): Promise<{ status: number; body: Json } | { error: string }> {
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${key}`, apikey: key },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let body: Json = {};
    try {
      body = obj(JSON.parse(text));
    } catch { /* not JSON */ }
    return { status: res.status, body };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { error: err.cause?.code ?? err.message };
  }
}

export async function doctor(flags: { url?: string }, log = console.log): Promise<ExitCode> {
  const env = loadEnv();
  const checks: Check[] = [];
  const say = (c: Check) => {
    checks.push(c);
    const mark = c.ok ? "✓" : c.warn ? "!" : "✗";
    log(`${mark} ${c.text}${c.ok || !c.fix ? "" : `\n    ${c.warn ? "next" : "fix"}: ${c.fix}`}`);
  };

  let url: string;
  try {
    url = checkUrl(flags.url ?? env.SUPABASE_URL);
    say({ ok: true, text: `SUPABASE_URL is well formed: ${url}` });
  } catch (e) {
    say({ ok: false, text: "SUPABASE_URL is not usable", fix: (e as Error).message });
    return EXIT.REMOTE;
  }
  // Either kind of key: the new sb_secret_ / sb_publishable_ keys first, else the legacy JWTs.
  const serviceName = env.SUPABASE_SECRET_KEY ? "SUPABASE_SECRET_KEY" : "SUPABASE_SERVICE_ROLE_KEY";
  const anonName = env.SUPABASE_PUBLISHABLE_KEY ? "SUPABASE_PUBLISHABLE_KEY" : "SUPABASE_ANON_KEY";
  const service = env[serviceName];
  const anon = env[anonName];
  say(
    service
      ? {
        ok: keyKind(service) !== "anon",
        text: `${serviceName} is set (for CI pushes)`,
        fix: "it holds a read-only key: copy a secret key from Project Settings → API Keys",
      }
      : {
        ok: false,
        text:
          "SUPABASE_SECRET_KEY (or SUPABASE_SERVICE_ROLE_KEY) is not set (CI needs it, or BENCHWATCH_INGEST_TOKEN)",
        fix: "export SUPABASE_SECRET_KEY=sb_secret_... (a GitHub secret in CI)",
      },
  );
  say(
    anon
      ? {
        ok: keyKind(anon) === "anon",
        text: `${anonName} is set (for the dashboard)`,
        fix: "it is not a read-only key: copy the publishable key from Project Settings → API Keys",
      }
      : {
        ok: false,
        text:
          "SUPABASE_PUBLISHABLE_KEY (or SUPABASE_ANON_KEY) is not set (the dashboard reads with it)",
        fix: "export SUPABASE_PUBLISHABLE_KEY=sb_publishable_...",
      },
  );
  const key = service ?? anon;
  if (!key) return EXIT.REMOTE;

  const health = await get(`${url}/functions/v1/health`, anon ?? key);
  if ("error" in health) {
    say({
      ok: false,
      text: `Could not connect to Supabase at ${url} (${health.error})`,
      fix: "check the URL, that the project is running, and the network",
    });
    return EXIT.REMOTE;
  }
  say({
    ok: health.status !== 404 || health.body.code !== "NOT_FOUND",
    text: "Supabase is reachable",
    fix: "deploy the functions: supabase functions deploy",
  });
  const schema = obj(health.body.schema);
  say({
    ok: schema.benchmark_transactions === true && schema.benchmark_snapshots === true,
    text: "Tables benchmark_transactions and benchmark_snapshots exist",
    fix: "apply the schema: supabase db push",
  });

  const missing: string[] = [];
  for (const fn of FUNCTIONS) {
    const r = await get(`${url}/functions/v1/${fn}`, anon ?? key);
    if ("error" in r || (r.status === 404 && r.body.code === "NOT_FOUND")) missing.push(fn);
  }
  say({
    ok: missing.length === 0,
    text: missing.length
      ? `Functions not deployed: ${missing.join(", ")}`
      : `Functions deployed: ${FUNCTIONS.join(", ")}`,
    fix: "supabase functions deploy",
  });

  if (service && keyKind(service) === "service_role") {
    const st = await get(`${url}/functions/v1/notify-slack/status`, service);
    const s: Json = "error" in st ? {} : st.body;
    say({
      ok: s.functions_url_set === true && s.secret_set === true,
      text: s.secret_set
        ? "Webhook secret is set in vault"
        : "Webhook secret is not set: Slack alerts wait undelivered",
      fix: "benchwatch webhook setup",
    });
    say({
      ok: s.slack_configured === true,
      text: s.slack_configured
        ? "Slack is configured"
        : "Slack is not configured: alerts are recorded as skipped",
      fix: "supabase secrets set SLACK_WEBHOOK_URL=https://hooks.slack.com/services/...",
    });
  } else {
    say({
      ok: false,
      text:
        "Webhook and Slack not checked (they need SUPABASE_SECRET_KEY or SUPABASE_SERVICE_ROLE_KEY)",
      fix: "export SUPABASE_SECRET_KEY=sb_secret_...",
    });
  }

  const snap = await get(`${url}/functions/v1/benchmarks?view=snapshot`, anon ?? key);
  const list = "error" in snap ? [] : snap.body.series;
  const series = Array.isArray(list) ? list.map(obj) : [];
  const pinned = series.some((s) => s.has_own_baseline === true);
  // An empty project, or one with no baseline yet, is set up correctly: it only has work
  // ahead of it. Those are warnings, not failures.
  say({
    ok: pinned,
    warn: true,
    text: series.length
      ? `${series.length} series recorded; a baseline is ${pinned ? "" : "not "}pinned`
      : "No runs recorded yet",
    fix: series.length
      ? "benchwatch baseline set --model-version <model> --environment production"
      : "benchwatch push --input results.json --environment local --commit-sha $(git rev-parse HEAD)",
  });

  // Metrics with no direction: no policy covers them (exact name or * pattern, seeded ones
  // included), no run declared one and the name rule does not know the name. Their verdict is
  // direction_unknown: they are recorded but never regress and never alert. A warning.
  if (series.length) {
    const unknown = [
      ...new Set(
        series.flatMap((s) =>
          Array.isArray(s.metrics)
            ? s.metrics.map(obj).filter((m) => m.direction === null).map((m) => String(m.metric))
            : []
        ),
      ),
    ].sort();
    const shown = unknown.slice(0, 10).join(", ") +
      (unknown.length > 10 ? ` and ${unknown.length - 10} more` : "");
    say({
      ok: unknown.length === 0,
      warn: true,
      text: unknown.length
        ? `${unknown.length} metric${unknown.length === 1 ? " has" : "s have"} no direction ` +
          `(direction_unknown: never a regression, never an alert): ${shown}`
        : "Every recorded metric has a direction",
      fix: unknown.length
        ? `benchwatch policy set ${unknown[0]} --direction higher|lower (or push --direction ${
          unknown[0]
        }=higher|lower)`
        : undefined,
    });
  }

  const failed = checks.filter((c) => !c.ok && !c.warn).length;
  const warned = checks.filter((c) => !c.ok && c.warn).length;
  const warnings = warned ? ` (${warned} warning${warned === 1 ? "" : "s"})` : "";
  log(
    failed
      ? `\n${failed} check${failed === 1 ? "" : "s"} failed${warnings}`
      : `\nAll checks passed${warnings}`,
  );
  return failed ? EXIT.REMOTE : EXIT.OK;
}
