// benchwatch baseline | tokens | policy | webhook: the maintainer's commands, over the functions.

import { randomBytes } from "node:crypto";
import { Api } from "../api.ts";
import { connection, type ConnectionFlags } from "../config.ts";
import { CliError, EXIT, type ExitCode } from "../errors.ts";

interface SnapshotSeries {
  transaction_id: string;
  series: Record<string, string>;
  created_at: string;
  has_own_baseline: boolean;
  baseline: { model_version: string; transaction_id: string; pinned_at: string } | null;
}

export interface SeriesFlags extends ConnectionFlags {
  transactionId?: string;
  modelVersion?: string;
  modelProvider?: string;
  datasetVersion?: string;
  promptVersion?: string;
  environment?: string;
}

const seriesFilter = (o: SeriesFlags) => ({
  model_version: o.modelVersion,
  model_provider: o.modelProvider,
  dataset_version: o.datasetVersion,
  prompt_version: o.promptVersion,
  environment: o.environment,
});

const label = (s: Record<string, string>) =>
  `${s.model_version} (${s.model_provider}) · ${s.dataset_version} · ${s.prompt_version} · ${s.environment}`;

export async function baselineSet(o: SeriesFlags, log = console.log): Promise<ExitCode> {
  const api = new Api(connection(o, "admin"));
  let tx = o.transactionId;
  if (!tx) {
    if (!o.modelVersion) {
      throw new CliError(
        "Give --transaction-id, or --model-version (and more series flags)",
        EXIT.CONFIG,
      );
    }
    const snap = await api.call<{ series: SnapshotSeries[] }>("benchmarks", {
      query: { view: "snapshot", ...seriesFilter(o) },
    });
    if (snap.series.length === 0) {
      throw new CliError(
        "No series matches: check the flags against `benchwatch baseline list`",
        EXIT.CONFIG,
      );
    }
    if (snap.series.length > 1) {
      throw new CliError(
        `${snap.series.length} series match; narrow it down with --environment, --dataset-version, --prompt-version or --model-provider:\n  ` +
          snap.series.map((s) => label(s.series)).join("\n  "),
        EXIT.CONFIG,
      );
    }
    tx = snap.series[0].transaction_id;
  }
  await api.call("regressions", { body: { action: "pin", transaction_id: tx } });
  log(`✓ Baseline pinned: transaction ${tx}`);
  return EXIT.OK;
}

export async function baselineUnset(o: SeriesFlags, log = console.log): Promise<ExitCode> {
  if (!o.modelVersion || !o.environment) {
    throw new CliError("Give --model-version and --environment", EXIT.CONFIG);
  }
  const api = new Api(connection(o, "admin"));
  const r = await api.call<{ unpinned: number }>("regressions", {
    body: { action: "unpin", ...seriesFilter(o) },
  });
  log(
    r.unpinned
      ? `✓ Unpinned ${r.unpinned} baseline${r.unpinned === 1 ? "" : "s"}`
      : "No pinned baseline matched",
  );
  return EXIT.OK;
}

export async function baselineList(o: SeriesFlags, log = console.log): Promise<ExitCode> {
  const api = new Api(connection(o, "read"));
  const snap = await api.call<{ series: SnapshotSeries[] }>("benchmarks", {
    query: { view: "snapshot", ...seriesFilter(o) },
  });
  if (snap.series.length === 0) {
    log("No series yet: push a run first (benchwatch push --input results.json ...)");
    return EXIT.OK;
  }
  for (const s of snap.series) {
    const b = s.baseline;
    const what = !b
      ? "no baseline"
      : s.has_own_baseline
      ? `own baseline ${b.transaction_id} (pinned ${b.pinned_at})`
      : `judged against ${b.model_version}'s baseline ${b.transaction_id}`;
    log(`${label(s.series)}: ${what}`);
  }
  return EXIT.OK;
}

interface Token {
  id: string;
  name: string;
  token?: string;
  token_prefix: string;
  created_at: string;
  last_used_at?: string | null;
  revoked_at?: string | null;
}

export async function tokensCreate(
  name: string,
  o: ConnectionFlags,
  log = console.log,
): Promise<ExitCode> {
  const api = new Api(connection(o, "admin"), { retryForMs: 0 });
  const t = await api.call<Token>("ingest/tokens", { body: { name } });
  log(
    `✓ Ingest token "${t.name}" created (id ${t.id}). It is shown once; store it as BENCHWATCH_INGEST_TOKEN:`,
  );
  log(t.token!);
  return EXIT.OK;
}

export async function tokensList(o: ConnectionFlags, log = console.log): Promise<ExitCode> {
  const api = new Api(connection(o, "admin"));
  const { tokens } = await api.call<{ tokens: Token[] }>("ingest/tokens");
  if (tokens.length === 0) log("No ingest tokens yet: benchwatch tokens create <name>");
  for (const t of tokens) {
    const state = t.revoked_at
      ? `revoked ${t.revoked_at}`
      : t.last_used_at
      ? `last used ${t.last_used_at}`
      : "never used";
    log(`${t.id}  ${t.token_prefix}…  ${t.name}  (${state})`);
  }
  return EXIT.OK;
}

export async function tokensRevoke(
  id: string,
  o: ConnectionFlags,
  log = console.log,
): Promise<ExitCode> {
  const api = new Api(connection(o, "admin"));
  await api.call("ingest/tokens/" + encodeURIComponent(id), { method: "DELETE" });
  log(`✓ Revoked ingest token ${id}`);
  return EXIT.OK;
}

interface Policy {
  metric: string;
  direction: "higher" | "lower";
  relative_threshold: number | null;
  absolute_floor: number | null;
  description: string | null;
}

export interface PolicySetOptions extends ConnectionFlags {
  direction?: string;
  threshold?: string;
  floor?: string;
}

function nonNegative(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new CliError(`Use a number of 0 or more for ${flag}: got "${v}"`, EXIT.CONFIG);
  }
  return n;
}

const describePolicy = (p: Policy) =>
  `${p.metric}  ${p.direction}-is-better  threshold ${
    p.relative_threshold === null ? "default" : `${Number(p.relative_threshold) * 100}%`
  }  floor ${Number(p.absolute_floor ?? 0)}`;

/** benchwatch policy set METRIC --direction higher|lower [--threshold F] [--floor X] */
export async function policySet(
  metric: string,
  o: PolicySetOptions,
  log = console.log,
): Promise<ExitCode> {
  if (o.direction !== "higher" && o.direction !== "lower") {
    throw new CliError(
      `Use --direction higher or --direction lower (got ${o.direction ?? "none"})`,
      EXIT.CONFIG,
    );
  }
  const body = {
    metric,
    direction: o.direction,
    relative_threshold: nonNegative("--threshold", o.threshold),
    absolute_floor: nonNegative("--floor", o.floor),
  };
  const api = new Api(connection(o, "admin"), { retryForMs: 0 });
  const p = await api.call<Policy>("ingest/policies", { body });
  log(`✓ Policy set: ${describePolicy(p)}`);
  return EXIT.OK;
}

export async function policyList(o: ConnectionFlags, log = console.log): Promise<ExitCode> {
  const api = new Api(connection(o, "admin"));
  const { policies } = await api.call<{ policies: Policy[] }>("ingest/policies");
  if (policies.length === 0) {
    log("No metric policies yet: benchwatch policy set <metric> --direction higher|lower");
  }
  for (const p of policies) log(describePolicy(p));
  return EXIT.OK;
}

export interface WebhookOptions extends ConnectionFlags {
  functionsUrl?: string;
  secret?: string;
}

export async function webhookSetup(o: WebhookOptions, log = console.log): Promise<ExitCode> {
  const conn = connection(o, "admin");
  const api = new Api(conn);
  const functionsUrl = o.functionsUrl ?? `${conn.url}/functions/v1`;
  const secret = o.secret ?? `whsec_${randomBytes(32).toString("base64")}`;
  await api.call("notify-slack/setup", { body: { functions_url: functionsUrl, secret } });
  log(
    `✓ Database webhook configured: notify-slack at ${functionsUrl}/notify-slack, signing secret stored in vault`,
  );
  return EXIT.OK;
}
