// `npm run bench`: the performance benchmark, against a dedicated, freshly wiped
// `bench` stack. Every figure is measured beside a ceiling taken in the same run:
//   1. ceilings: pgbench one-row INSERT of a comparable jsonb row, and a Deno.serve
//      hello-world under wrk, both at 16 clients;
//   2. single-run ingest end to end through the gateway (wrk, distinct runs);
//   3. batch ingest of historical runs (batches of 1000) vs a raw multi-row INSERT;
//   4. detection cost (ingest latency, detect_regression) at 10k, 1M and 10M rows;
//   5. read API latency at the largest size;
//   6. alert latency from ingest commit to the Slack sink;
//   7. peak RSS of the gateway, the function workers and the PostgreSQL backends;
//   8. the mixed load: the reads of 5 timed again while single-run ingest runs at a paced 58% of
//      the throughput measured in 2 (tools/bench/mixed.ts).
// Writes its results to .local/bench (results.json, profiles.md); with --write-report, a full
// run also rewrites docs/reports/BENCHMARKS.md and docs/reports/bench/. `--quick` is the CI
// smoke: smaller sizes, writes .local/bench/results.quick.json, asserts nothing about speed.
// `--merge-mixed` copies the mixed load of the last full run (.local/bench/results.json) into the
// tracked report, as `--examples --write-report` does for the per-example phase.

import postgres from "postgres";
import { loadConfig, type StackConfig } from "../../local/stack/config.ts";
import { readPid } from "../../local/stack/proc.ts";
import { down, up } from "../../local/stack/stack.ts";
import { wipeStackDir } from "../../local/stack/postgres.ts";
import {
  type Latency,
  latency,
  loadAverage,
  MemorySampler,
  pgbench,
  startHello,
  wrk,
} from "./measure.ts";
import { mixedLoad } from "./mixed.ts";
import { renderMarkdown, targetsOf } from "./report.ts";
import { examplesBench } from "./examples.ts";
import { countRows, GOOD_METRICS, singleRunIngest } from "./single.ts";

/** The tracked report and its data, rewritten only by a full run with --write-report. */
const REPORT = "docs/reports/BENCHMARKS.md";
const REPORT_DIR = "docs/reports/bench";

interface Plan {
  quick: boolean;
  wrkSeconds: number;
  clients: number;
  /** History sizes, rows in benchmark_transactions. */
  sizes: number[];
  series: number;
  seqIngest: number;
  detectSamples: number;
  batchRuns: number;
  batchSize: number;
  alertRuns: number;
  readSamples: number;
  /** Reads per endpoint during the mixed load, and its least duration (s). */
  mixedReadSamples: number;
  mixedMinSeconds: number;
  chunk: number;
  /** Time boxes (seconds): a phase stops sampling when its box is spent. */
  boxSeq: number;
  boxRead: number;
  boxBatch: number;
  boxMixed: number;
  /** History generation stops taking new chunks this many seconds after the start. */
  generationDeadline: number;
}

const FULL: Plan = {
  quick: false,
  wrkSeconds: 15,
  clients: 16,
  sizes: [10_000, 1_000_000, 10_000_000],
  series: 2000,
  seqIngest: 300,
  detectSamples: 100,
  batchRuns: 100_000,
  batchSize: 1000,
  alertRuns: 100,
  readSamples: 100,
  mixedReadSamples: 200,
  mixedMinSeconds: 20,
  chunk: 100_000,
  boxSeq: 30,
  boxRead: 30,
  boxBatch: 90,
  boxMixed: 120,
  generationDeadline: 870,
};

const QUICK: Plan = {
  quick: true,
  wrkSeconds: 2,
  clients: 16,
  sizes: [10_000, 50_000],
  series: 200,
  seqIngest: 30,
  detectSamples: 10,
  batchRuns: 3_000,
  batchSize: 1000,
  alertRuns: 10,
  readSamples: 10,
  mixedReadSamples: 40,
  mixedMinSeconds: 6,
  chunk: 20_000,
  boxSeq: 8,
  boxRead: 6,
  boxBatch: 20,
  boxMixed: 20,
  generationDeadline: 120,
};

const started = performance.now();
function say(msg: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  console.log(`[bench ${t}s] ${msg}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A series of the bulk-generated history: 20 models x 5 datasets x 4 prompts x 5
// environments = 2000 series, numbered s = 100*model + 20*dataset + 5*prompt + env.
function histSeries(s: number) {
  return {
    model_version: `hist-m${String(Math.floor(s / 100)).padStart(2, "0")}`,
    model_provider: "openai",
    dataset_version: `ds-${Math.floor(s / 20) % 5}`,
    prompt_version: `p${Math.floor(s / 5) % 4}`,
    environment: `env-${s % 5}`,
  };
}
const HIST_SQL = (g: string, n: number) => `
  'hist-m' || lpad(((${g} % ${n}) / 100)::text, 2, '0'), 'openai',
  'ds-' || ((${g} % ${n}) / 20 % 5), 'p' || ((${g} % ${n}) / 5 % 4), 'env-' || (${g} % 5)`;

interface Ctx {
  cfg: StackConfig;
  sql: postgres.Sql;
  api: string;
  serviceKey: string;
  anonKey: string;
  plan: Plan;
  tag: string;
}

const retries = { count: 0 };

async function postIngest(
  ctx: Ctx,
  body: unknown,
): Promise<{ ms: number; status: number; json: Record<string, unknown> }> {
  const t = performance.now();
  let res: Response;
  for (let attempt = 1;; attempt++) {
    res = await fetch(`${ctx.api}/functions/v1/ingest`, {
      method: "POST",
      headers: { authorization: `Bearer ${ctx.serviceKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    // A worker restarting (the gateway reloads workers when function code is edited) answers
    // 502/503; ingest is idempotent by run identity, so a retry records nothing twice.
    if ((res.status !== 502 && res.status !== 503) || attempt >= 5) break;
    await res.body?.cancel();
    retries.count++;
    say(`  ingest answered ${res.status} (worker restarting?); retry ${attempt}`);
    await sleep(1000);
  }
  const json = await res.json();
  const ms = performance.now() - t;
  if (res.status !== 201) {
    throw new Error(`ingest answered ${res.status}: ${JSON.stringify(json).slice(0, 500)}`);
  }
  return { ms, status: res.status, json };
}

// ---------------------------------------------------------------------------------------
// 1. Ceilings

const PGBENCH_SCRIPT = `\\set r random(1, 1000000000)
insert into bench_scratch.pgbench_rows (commit_sha, branch_name, model_version, model_provider,
  dataset_version, prompt_version, environment, run_id, triggered_by, metrics)
values ('c' || :r, 'main', 'm' || (:r % 200), 'openai', 'ds-1', 'p1', 'bench', 'r' || :r, 'pgbench',
  '{"f1": 0.895, "precision": 0.9, "recall": 0.89, "accuracy": 0.91, "latency_ms": 412, "analysis_cost": 0.0042}');
`;

// The same-work ceiling for single-run ingest: one transaction per run writing exactly the rows
// a recorded run writes, into copies with the product's indexes: its log row, one observation
// per metric, its identity row (claimed, then its answer stored), and its series' latest
// snapshot (an upsert on one of 200 series). No validation, detection or HTTP. The run number
// :r names its identity row, which is unique: drawn from 1e9, 20,000 runs collide with a
// probability of about 0.2 (a full run's 15 s aborted on a duplicate key), from 1e15 of 2e-7.
const RUN_WRITES_SCRIPT = `\\set r random(1, 1000000000000000)
\\set s random(0, 199)
begin;
with r as materialized (
  select gen_random_uuid() as id, now() as at,
         '{"f1": 0.895, "precision": 0.9, "recall": 0.89, "accuracy": 0.91, "latency_ms": 412, "analysis_cost": 0.0042}'::jsonb as metrics
),
t as (
  insert into bench_scratch.tx_copy (id, commit_sha, branch_name, model_version, model_provider,
    dataset_version, dataset_size, prompt_version, environment, run_id, triggered_by, metrics, created_at)
  select r.id, 'c' || :r, 'main', 'rw-m' || :s, 'openai', 'ds-1', 1000, 'p1', 'bench', 'r' || :r,
         'pgbench', r.metrics, r.at
  from r
),
o as (
  insert into bench_scratch.obs_copy (transaction_id, metric_name, model_version, model_provider,
    dataset_version, prompt_version, environment, created_at, value, dataset_size)
  select r.id, m.key, 'rw-m' || :s, 'openai', 'ds-1', 'p1', 'bench', r.at, m.value::numeric, 1000
  from r, jsonb_each_text(r.metrics) as m
),
i as (
  insert into bench_scratch.id_copy (identity_hash, kind, request_hash, transaction_id)
  select sha256(convert_to('i' || :r, 'UTF8')), 'run_identity', sha256(convert_to('q' || :r, 'UTF8')), r.id
  from r
)
insert into bench_scratch.snap_copy as s (transaction_id, commit_sha, branch_name, model_version,
  model_provider, dataset_version, dataset_size, prompt_version, environment, run_id, triggered_by,
  metrics, created_at)
select r.id, 'c' || :r, 'main', 'rw-m' || :s, 'openai', 'ds-1', 1000, 'p1', 'bench', 'r' || :r,
       'pgbench', r.metrics, r.at
from r
on conflict (model_version, model_provider, dataset_version, prompt_version, environment)
  where (pinned_at is null)
do update set transaction_id = excluded.transaction_id, commit_sha = excluded.commit_sha,
  run_id = excluded.run_id, metrics = excluded.metrics, created_at = excluded.created_at,
  updated_at = now()
where excluded.created_at >= s.created_at;
update bench_scratch.id_copy set response = '{"recorded": true}'
where identity_hash = sha256(convert_to('i' || :r, 'UTF8'));
commit;
`;

async function ceilings(ctx: Ctx) {
  say(`ceiling: pgbench one-row jsonb INSERT, ${ctx.plan.clients} clients`);
  const pg = await pgbench(ctx.cfg.dbPort, PGBENCH_SCRIPT, {
    seconds: ctx.plan.wrkSeconds,
    clients: ctx.plan.clients,
  });
  say(`  pgbench: ${pg.tps} tps, avg ${pg.latency_avg_ms} ms`);
  say(`ceiling: Deno.serve hello-world under wrk, ${ctx.plan.clients} connections`);
  const hello = await startHello();
  let h;
  try {
    await wrk(hello.url, { seconds: 1, connections: ctx.plan.clients });
    h = await wrk(hello.url, { seconds: ctx.plan.wrkSeconds, connections: ctx.plan.clients });
  } finally {
    await hello.stop();
  }
  say(`  hello-world: ${h.rps} req/s, p99 ${h.p99_ms} ms`);
  // The HTTP path's own ceiling: the same load on the health function, through the gateway
  // and a function worker, with one trivial SQL query per request (no write, no detection).
  say(`ceiling: GET health through the gateway (JWT check, worker, one SQL query)`);
  const url = `${ctx.api}/functions/v1/health`;
  const args = ["get", "health", "1", ctx.anonKey];
  await wrk(url, { seconds: 1, connections: ctx.plan.clients, args });
  const gw = await wrk(url, { seconds: ctx.plan.wrkSeconds, connections: ctx.plan.clients, args });
  say(`  health through the gateway: ${gw.rps} req/s, p99 ${gw.p99_ms} ms`);
  say(
    `ceiling: pgbench writing a recorded run's rows, one transaction per run, ${ctx.plan.clients} clients`,
  );
  const rw = await pgbench(ctx.cfg.dbPort, RUN_WRITES_SCRIPT, {
    seconds: ctx.plan.wrkSeconds,
    clients: ctx.plan.clients,
  });
  say(`  run writes: ${rw.tps} runs/s, avg ${rw.latency_avg_ms} ms`);
  return {
    pgbench_insert: pg,
    pgbench_run_writes: rw,
    deno_hello: h,
    gateway_health: { ...gw, ratio_to_pgbench: Math.round((gw.rps / pg.tps) * 1000) / 1000 },
  };
}

// ---------------------------------------------------------------------------------------
// 2. Single-run ingest under wrk

/** The series prefix of single-run ingest; the mixed load sends its runs to them too. */
const SINGLE_PREFIX = (ctx: Ctx) => `wrk${ctx.tag}`;

async function singleIngest(ctx: Ctx, pgTps: number, helloRps: number, runWritesTps: number) {
  const w = await singleRunIngest({
    api: ctx.api,
    serviceKey: ctx.serviceKey,
    sql: ctx.sql,
    prefix: SINGLE_PREFIX(ctx),
    clients: ctx.plan.clients,
    seconds: ctx.plan.wrkSeconds,
    say,
    postBatch: (body) => postIngest(ctx, body),
  });
  return {
    ...w,
    ratio_to_pgbench: Math.round((w.rps / pgTps) * 1000) / 1000,
    ratio_to_run_writes: Math.round((w.rps / runWritesTps) * 1000) / 1000,
    ratio_to_hello: Math.round((w.rps / helloRps) * 10000) / 10000,
  };
}

// ---------------------------------------------------------------------------------------
// 3. Batch ingest

interface BatchRun {
  model_version: string;
  model_provider: string;
  dataset_version: string;
  prompt_version: string;
  environment: string;
  commit_sha: string;
  branch_name: string;
  run_id: string;
  triggered_by: string;
  dataset_size: number;
  duration_seconds: number;
  metrics: Record<string, number>;
  created_at: string;
}

function backfillBatches(ctx: Ctx, stream: number, streams: number): BatchRun[][] {
  const { batchRuns, batchSize } = ctx.plan;
  const yearMs = 365 * 24 * 3600 * 1000;
  const t0 = Date.now() - yearMs - 3600_000;
  const batches: BatchRun[][] = [];
  for (let b = stream; b * batchSize < batchRuns; b += streams) {
    const runs: BatchRun[] = [];
    for (let i = b * batchSize; i < Math.min(batchRuns, (b + 1) * batchSize); i++) {
      // 1000 series; stream k only touches series = k (mod streams), so concurrent batches
      // never lock the same snapshot rows.
      const s = (i * streams + stream) % 1000;
      const j = (i % 13) / 1000;
      runs.push({
        model_version: `bf${ctx.tag}-m${String(Math.floor(s / 100)).padStart(2, "0")}`,
        model_provider: "openai",
        dataset_version: `ds-${Math.floor(s / 20) % 5}`,
        prompt_version: `p${Math.floor(s / 5) % 4}`,
        environment: `env-${s % 5}`,
        commit_sha: `bf-c${i}`,
        branch_name: "main",
        run_id: `bf-r${i}`,
        triggered_by: "backfill",
        dataset_size: 1000,
        duration_seconds: 60 + (i % 50),
        metrics: GOOD_METRICS(j),
        created_at: new Date(t0 + Math.floor((i / batchRuns) * yearMs)).toISOString(),
      });
    }
    batches.push(runs);
  }
  return batches;
}

async function batchIngest(ctx: Ctx) {
  const streams = 2;
  const all = Array.from({ length: streams }, (_, k) => backfillBatches(ctx, k, streams));
  const total = all.flat().reduce((n, b) => n + b.length, 0);
  say(
    `batch ingest: ${total} historical runs in batches of ${ctx.plan.batchSize}, ${streams} clients`,
  );
  let done = 0;
  const t = performance.now();
  const box = t + ctx.plan.boxBatch * 1000;
  const sentBatches: BatchRun[][][] = all.map(() => []);
  await Promise.all(all.map(async (batches, k) => {
    for (const runs of batches) {
      if (performance.now() > box) break;
      await postIngest(ctx, { runs });
      sentBatches[k].push(runs);
      done += runs.length;
      if (done % (ctx.plan.batchSize * 10) === 0) say(`  ${done} / ${total} runs`);
    }
  }));
  const s = (performance.now() - t) / 1000;
  const runsPerS = Math.round(done / s);
  if (done < total) say(`  batch time box spent after ${done} of ${total} runs`);
  say(`  batch ingest: ${runsPerS} runs/s (${s.toFixed(1)} s)`);

  say("  raw multi-row INSERT of the same rows into a scratch copy table");
  await ctx.sql`truncate bench_scratch.tx_copy`;
  const t2 = performance.now();
  await Promise.all(sentBatches.map(async (batches) => {
    for (const runs of batches) {
      await ctx.sql`
        insert into bench_scratch.tx_copy (commit_sha, branch_name, model_version, model_provider,
          dataset_version, dataset_size, prompt_version, environment, run_id, triggered_by,
          metrics, duration_seconds, created_at)
        select commit_sha, branch_name, model_version, model_provider, dataset_version,
               dataset_size, prompt_version, environment, run_id, triggered_by, metrics,
               duration_seconds, created_at
        from jsonb_to_recordset(${ctx.sql.json(runs as unknown as postgres.JSONValue)}) as r(
          commit_sha text, branch_name text, model_version text, model_provider text,
          dataset_version text, dataset_size integer, prompt_version text, environment text,
          run_id text, triggered_by text, metrics jsonb, duration_seconds numeric,
          created_at timestamptz)`;
    }
  }));
  const s2 = (performance.now() - t2) / 1000;
  const rawPerS = Math.round(done / s2);
  say(`  raw INSERT: ${rawPerS} rows/s (${s2.toFixed(1)} s)`);

  // The rows a recorded run writes, inserted raw into copies with the same indexes: its
  // log row, one observation per metric, its identity row (the run itself standing in
  // for its answer). No validation, no detection, no snapshot, no alerts.
  say("  raw multi-row INSERT of the rows a recorded run writes (log, observations, identity)");
  await ctx.sql`truncate bench_scratch.tx_copy, bench_scratch.obs_copy, bench_scratch.id_copy`;
  let rowsWritten = 0;
  const t3 = performance.now();
  await Promise.all(sentBatches.map(async (batches) => {
    for (const runs of batches) {
      const [r] = await ctx.sql`
        with r as materialized (
          select gen_random_uuid() as id, r.*
          from jsonb_to_recordset(${ctx.sql.json(runs as unknown as postgres.JSONValue)}) as r(
            commit_sha text, branch_name text, model_version text, model_provider text,
            dataset_version text, dataset_size integer, prompt_version text, environment text,
            run_id text, triggered_by text, metrics jsonb, duration_seconds numeric,
            created_at timestamptz)
        ),
        t as (
          insert into bench_scratch.tx_copy (id, commit_sha, branch_name, model_version, model_provider,
            dataset_version, dataset_size, prompt_version, environment, run_id, triggered_by, metrics,
            duration_seconds, created_at)
          select id, commit_sha, branch_name, model_version, model_provider, dataset_version,
                 dataset_size, prompt_version, environment, run_id, triggered_by, metrics,
                 duration_seconds, created_at
          from r
          returning 1
        ),
        o as (
          insert into bench_scratch.obs_copy (transaction_id, metric_name, model_version, model_provider,
            dataset_version, prompt_version, environment, created_at, value, dataset_size)
          select r.id, m.key, r.model_version, r.model_provider, r.dataset_version, r.prompt_version,
                 r.environment, r.created_at, m.value::numeric, r.dataset_size
          from r, jsonb_each_text(r.metrics) as m
          returning 1
        ),
        i as (
          insert into bench_scratch.id_copy (identity_hash, kind, request_hash, transaction_id, response)
          select sha256(convert_to(r.id::text, 'UTF8')), 'run_identity',
                 sha256(convert_to(r.run_id, 'UTF8')), r.id, to_jsonb(r)
          from r
          returning 1
        )
        select (select count(*) from t) + (select count(*) from o) + (select count(*) from i) as n`;
      rowsWritten += Number(r.n);
    }
  }));
  const s3 = (performance.now() - t3) / 1000;
  const writesRunsPerS = Math.round(done / s3);
  say(
    `  raw INSERT of what a run writes: ${writesRunsPerS} runs/s, ` +
      `${Math.round(rowsWritten / s3)} rows/s (${s3.toFixed(1)} s)`,
  );
  return {
    runs: done,
    runs_planned: total,
    batch_size: ctx.plan.batchSize,
    clients: streams,
    seconds: Math.round(s * 10) / 10,
    runs_per_s: runsPerS,
    raw_insert: { rows: done, seconds: Math.round(s2 * 10) / 10, rows_per_s: rawPerS },
    ratio_to_raw_insert: Math.round((runsPerS / rawPerS) * 1000) / 1000,
    raw_run_writes: {
      runs: done,
      rows: rowsWritten,
      seconds: Math.round(s3 * 10) / 10,
      runs_per_s: writesRunsPerS,
      rows_per_s: Math.round(rowsWritten / s3),
    },
    ratio_to_raw_run_writes: Math.round((runsPerS / writesRunsPerS) * 1000) / 1000,
  };
}

// ---------------------------------------------------------------------------------------
// 4. History and detection cost

/**
 * Tops benchmark_transactions up to `target` rows of generated history (2 sessions), in time
 * order across the year before now: row g of the largest size lands at fraction g/size of it.
 */
async function growHistory(ctx: Ctx, target: number, nextId: { v: number }) {
  const have = await countRows(ctx.sql);
  const need = Math.max(0, target - have);
  say(`history: ${have} rows, generating ${need} more to reach ${target}`);
  const chunks: [number, number][] = [];
  for (let a = nextId.v; a < nextId.v + need; a += ctx.plan.chunk) {
    chunks.push([a, Math.min(nextId.v + need, a + ctx.plan.chunk) - 1]);
  }
  nextId.v += need;
  let done = 0;
  const t = performance.now();
  const deadline = started + ctx.plan.generationDeadline * 1000;
  const worker = async () => {
    while (chunks.length && performance.now() < deadline) {
      const [a, b] = chunks.shift()!;
      await ctx.sql.begin(async (tx) => {
        // Bulk load only: the commit need not wait for the WAL flush.
        await tx`set local synchronous_commit = off`;
        await tx.unsafe(`
          insert into public.benchmark_transactions (commit_sha, branch_name, model_version,
            model_provider, dataset_version, prompt_version, environment, dataset_size, run_id,
            triggered_by, metrics, duration_seconds, tags, created_at)
          select 'h' || to_hex(g), 'main', ${
          HIST_SQL("g", ctx.plan.series)
        }, 1000, 'hr-' || g, 'history',
                 jsonb_build_object(
                   'f1', round((0.86 + random() * 0.04)::numeric, 4),
                   'precision', round((0.87 + random() * 0.04)::numeric, 4),
                   'recall', round((0.85 + random() * 0.04)::numeric, 4),
                   'accuracy', round((0.88 + random() * 0.04)::numeric, 4),
                   'latency_ms', round((400 + random() * 30)::numeric, 1),
                   'analysis_cost', round((0.004 + random() * 0.0004)::numeric, 5)),
                 60 + g % 100, '{}',
                 now() - interval '1 hour'
                   - interval '364 days' * (1 - g::float8 / ${ctx.plan.sizes.at(-1)})
          from generate_series(${a}::bigint, ${b}::bigint) as g`);
      });
      done += b - a + 1;
      const rate = Math.round(done / ((performance.now() - t) / 1000));
      say(`  ${done} / ${need} rows (${rate} rows/s)`);
    }
  };
  await Promise.all([worker(), worker()]);
  if (chunks.length) {
    say(
      `  generation time box spent: stopped at ${done} of ${need} rows (see docs/reports/BENCHMARKS.md)`,
    );
  }
  if (need > 0) await ctx.sql`analyze public.benchmark_transactions`;
  const rows = await countRows(ctx.sql);
  return {
    target: target,
    rows,
    generated: done,
    seconds: Math.round((performance.now() - t) / 100) / 10,
    rows_per_s: Math.round(done / ((performance.now() - t) / 1000)),
    reached_target: rows >= target,
  };
}

/** One real run per history series through record_run, then pin them all as baselines. */
async function seedHistorySnapshots(ctx: Ctx) {
  say(`history: one real run per series through record_run, then pin ${ctx.plan.series} baselines`);
  await ctx.sql.unsafe(`
    select count(benchwatch_private.record_run(jsonb_build_object(
      'commit_sha', 'hs-' || s, 'model_version', 'hist-m' || lpad((s / 100)::text, 2, '0'),
      'model_provider', 'openai', 'dataset_version', 'ds-' || (s / 20 % 5),
      'prompt_version', 'p' || (s / 5 % 4), 'environment', 'env-' || (s % 5),
      'run_id', 'hs-' || s, 'metrics', '${JSON.stringify(GOOD_METRICS())}'::jsonb), null))
    from generate_series(0, ${ctx.plan.series - 1}) as s`);
  await ctx.sql`update public.benchmark_snapshots set is_baseline = true
                 where pinned_at is null and model_version like 'hist-m%'`;
}

async function detectionAt(ctx: Ctx, size: number) {
  say(`detection at ${await countRows(ctx.sql)} rows (target ${size}): sequential ingests`);
  const ms: number[] = [];
  const box = performance.now() + ctx.plan.boxSeq * 1000;
  for (let i = -10; i < ctx.plan.seqIngest && (i < 20 || performance.now() < box); i++) {
    const s = (i + 10) * 37 % ctx.plan.series;
    const r = await postIngest(ctx, {
      ...histSeries(s),
      commit_sha: `seq-${size}-${i}`,
      run_id: `seq-${ctx.tag}-${size}-${i}`,
      metrics: GOOD_METRICS((i % 7) / 1000),
    });
    if (i >= 0) ms.push(r.ms);
  }
  const ingest = latency(ms);
  say(`  ingest with detection: p50 ${ingest.p50_ms} ms, p95 ${ingest.p95_ms} ms`);

  const dms: number[] = [];
  const models = Math.ceil(ctx.plan.series / 100);
  const dbox = performance.now() + ctx.plan.boxSeq * 1000;
  for (let i = -3; i < ctx.plan.detectSamples && (i < 10 || performance.now() < dbox); i++) {
    const model = `hist-m${String((i + 3) % models).padStart(2, "0")}`;
    const t = performance.now();
    await ctx.sql`select count(*) from public.detect_regression(${model}, 0.05)`;
    if (i >= 0) dms.push(performance.now() - t);
  }
  const detect = latency(dms);
  say(
    `  detect_regression (one model, 100 series): p50 ${detect.p50_ms} ms, p95 ${detect.p95_ms} ms`,
  );
  return { rows: await countRows(ctx.sql), ingest, detect_regression: detect };
}

// ---------------------------------------------------------------------------------------
// 6. Alert latency

async function alertLatency(ctx: Ctx) {
  const n = ctx.plan.alertRuns;
  const prefix = `al${ctx.tag}`;
  const name = (i: number) => `${prefix}-s${String(i).padStart(4, "0")}`;
  say(
    `alert latency: ${n} series with pinned baselines, then regressing runs until each opens its alert`,
  );
  const base = (i: number, metrics: Record<string, number>, kind: string) => ({
    dataset_size: 5000,
    model_version: name(i),
    model_provider: "openai",
    dataset_version: "ds-1",
    prompt_version: "p1",
    environment: "bench",
    commit_sha: `${prefix}-${kind}-${i}`,
    run_id: `${prefix}-${kind}-${i}`,
    metrics,
  });
  await postIngest(ctx, {
    runs: Array.from({ length: n }, (_, i) => base(i, GOOD_METRICS(), "b")),
  });
  await ctx.sql`update public.benchmark_snapshots set is_baseline = true
                 where pinned_at is null and model_version like ${prefix + "-s%"}`;
  // Noise-aware alerting wants a few in-control runs after the baseline before it
  // judges a series, and confirmation runs before it opens an alert; give every series
  // some ordinary history first, one batch per round so each round is a later run.
  for (let k = 0; k < 6; k++) {
    await postIngest(ctx, {
      runs: Array.from(
        { length: n },
        (_, i) => base(i, GOOD_METRICS(((k * 7 + i) % 5 - 2) / 1000), `h${k}`),
      ),
    });
  }
  const sink = `http://127.0.0.1:${ctx.cfg.slackSinkPort}/_sink/messages`;
  await (await fetch(sink, { method: "DELETE" })).body?.cancel();

  // Regressing runs until the run that opens the series' alert (the first one under the
  // guide's rule; the confirming one under noise-aware alerting). That run's commit is
  // where the latency starts.
  const sent: { createdAt: number; answeredAt: number }[] = [];
  let regressingRuns = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 5; k++) {
      const r = await postIngest(
        ctx,
        base(i, { ...GOOD_METRICS(), f1: 0.8, precision: 0.81, recall: 0.79 }, `r${k}`),
      );
      regressingRuns++;
      const opened = r.json.alerts_opened as unknown[] | undefined;
      if (opened && opened.length > 0) {
        sent[i] = { createdAt: Date.parse(String(r.json.created_at)), answeredAt: Date.now() };
        break;
      }
      await sleep(20);
    }
    if (!sent[i]) throw new Error(`series ${name(i)} opened no alert after 5 regressing runs`);
    await sleep(50);
  }
  const deadline = Date.now() + 60_000;
  const received = new Map<number, number>();
  while (Date.now() < deadline && received.size < n) {
    const msgs = await (await fetch(sink)).json() as { received_at: string; body: unknown }[];
    for (const m of msgs) {
      const text = JSON.stringify(m.body);
      const match = text.match(new RegExp(`${prefix}-s(\\d{4})`));
      if (match) {
        const i = Number(match[1]);
        if (!received.has(i)) received.set(i, Date.parse(m.received_at));
      }
    }
    if (received.size < n) await sleep(200);
  }
  const fromCommit: number[] = [];
  const fromResponse: number[] = [];
  for (const [i, at] of received) {
    fromCommit.push(at - sent[i].createdAt);
    fromResponse.push(at - sent[i].answeredAt);
  }
  const l = latency(fromCommit);
  say(`  ${received.size} / ${n} alerts reached the sink; p50 ${l.p50_ms} ms, p95 ${l.p95_ms} ms`);
  return {
    runs: n,
    regressing_runs_sent: regressingRuns,
    delivered: received.size,
    from_transaction_start: l,
    from_ingest_response: latency(fromResponse),
  };
}

// ---------------------------------------------------------------------------------------
// 5. Read API

/**
 * The routine maintenance the bulk generation calls for, done before the reads: generating
 * 10 million rows at ~19k rows/s leaves autovacuum and the checkpointer busy for minutes,
 * and reads measured meanwhile measure that. VACUUM (ANALYZE) of the tables the reads use,
 * then a CHECKPOINT; the time it takes is reported.
 */
async function settle(ctx: Ctx) {
  say("maintenance before the reads: VACUUM (ANALYZE) of the read tables, then CHECKPOINT");
  const t = performance.now();
  for (
    const table of [
      "public.benchmark_transactions",
      "public.benchmark_snapshots",
      "public.regression_alerts",
      "benchwatch_private.metric_observations",
    ]
  ) {
    await ctx.sql.unsafe(`vacuum (analyze) ${table}`);
  }
  // CHECKPOINT needs a superuser (or pg_checkpoint), which postgres is not, as on hosted.
  const admin = postgres(ctx.cfg.adminDbUrl, { max: 1, onnotice: () => {} });
  try {
    await admin`checkpoint`;
  } finally {
    await admin.end();
  }
  const seconds = Math.round((performance.now() - t) / 100) / 10;
  say(`  maintenance took ${seconds} s`);
  return { vacuum_analyze_and_checkpoint_s: seconds };
}

/**
 * The read API as the read phase times it: the endpoints (snapshot first and last page, one-year
 * trend, regressions) and the client (anon key, the whole body read). The mixed load uses both.
 */
async function readEndpoints(ctx: Ctx) {
  const yearAgo = new Date(Date.now() - 365 * 24 * 3600 * 1000).toISOString();
  const now = new Date(Date.now() + 60_000).toISOString();
  const s = histSeries(733 % ctx.plan.series);
  const q = new URLSearchParams({ view: "trend", ...s, metric: "f1", from: yearAgo, to: now });
  const get = async (path: string) => {
    const res = await fetch(`${ctx.api}${path}`, {
      headers: { authorization: `Bearer ${ctx.anonKey}` },
    });
    const body = await res.arrayBuffer();
    if (res.status !== 200) {
      throw new Error(`${path} answered ${res.status}: ${new TextDecoder().decode(body)}`);
    }
    return body;
  };
  const first = JSON.parse(
    new TextDecoder().decode(await get("/functions/v1/benchmarks?view=snapshot")),
  );
  const total: number = first.total;
  const pageSize: number = first.limit;
  // The deepest full page (a partial last page, e.g. 3 of 3,503 series, would time 3 rows).
  const lastOffset = Math.max(0, total - pageSize);
  const endpoints: Record<string, string> = {
    snapshot: `/functions/v1/benchmarks?view=snapshot`,
    snapshot_last_page: `/functions/v1/benchmarks?view=snapshot&offset=${lastOffset}`,
    trend_1y: `/functions/v1/benchmarks?${q}`,
    regressions: `/functions/v1/regressions`,
  };
  return { get, endpoints, total, pageSize };
}

async function readApi(ctx: Ctx) {
  const { get, endpoints, total, pageSize } = await readEndpoints(ctx);
  const out: Record<string, unknown> = { snapshot_series: total, snapshot_page_size: pageSize };
  for (const [name, path] of Object.entries(endpoints)) {
    const ms: number[] = [];
    let bytes = 0;
    const box = performance.now() + ctx.plan.boxRead * 1000;
    for (let i = -3; i < ctx.plan.readSamples && (i < 5 || performance.now() < box); i++) {
      const t = performance.now();
      const body = await get(path);
      if (i >= 0) ms.push(performance.now() - t);
      bytes = body.byteLength;
    }
    const l = { ...latency(ms), bytes };
    out[name] = l;
    say(`  read ${name}: p50 ${l.p50_ms} ms, p95 ${l.p95_ms} ms (${bytes} bytes)`);
  }
  // Every series, page after page of 1000, as the dashboard reads them (not a target).
  const walks: number[] = [];
  let pages = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    let offset: number | null = 0;
    pages = 0;
    while (offset !== null) {
      const page = JSON.parse(new TextDecoder().decode(
        await get(`/functions/v1/benchmarks?view=snapshot&limit=1000&offset=${offset}`),
      ));
      offset = page.next_offset;
      pages++;
    }
    walks.push(performance.now() - t);
  }
  out.snapshot_all_pages = { ...latency(walks), pages };
  say(`  read every series (${total}, ${pages} pages of 1000): p50 ${latency(walks).p50_ms} ms`);
  return out;
}

// ---------------------------------------------------------------------------------------
// 8. Mixed load: the reads again, during paced single-run ingest

async function mixedPhase(ctx: Ctx, singleRunRps: number, unloaded: Record<string, unknown>) {
  const { get, endpoints } = await readEndpoints(ctx);
  return await mixedLoad({
    api: ctx.api,
    serviceKey: ctx.serviceKey,
    // The single-run phase's series (pinned baselines); the runs are new ones (mixed.ts).
    prefix: SINGLE_PREFIX(ctx),
    tag: ctx.tag,
    rows: await countRows(ctx.sql),
    singleRunRps,
    endpoints,
    get,
    unloaded: unloaded as Record<string, Latency | undefined>,
    samples: ctx.plan.mixedReadSamples,
    minSeconds: ctx.plan.mixedMinSeconds,
    boxSeconds: ctx.plan.boxMixed,
    say,
  });
}

// ---------------------------------------------------------------------------------------
// Profiles: EXPLAIN (ANALYZE, BUFFERS) of nested statements through auto_explain.

async function profile(ctx: Ctx, label: string, query: string, minMs = 1): Promise<string> {
  const notices: string[] = [];
  // LOAD 'auto_explain' needs a superuser, which postgres is not (as on hosted): profiles
  // are tooling, so they connect as the cluster's superuser.
  const sql = postgres(ctx.cfg.adminDbUrl, {
    max: 1,
    onnotice: (n) => notices.push(String(n.message)),
  });
  try {
    await sql.unsafe(`load 'auto_explain'`);
    await sql.unsafe(`set auto_explain.log_min_duration = ${minMs}`);
    await sql.unsafe(`set auto_explain.log_analyze = on`);
    await sql.unsafe(`set auto_explain.log_buffers = on`);
    await sql.unsafe(`set auto_explain.log_nested_statements = on`);
    await sql.unsafe(`set auto_explain.log_level = notice`);
    await sql.unsafe(query); // warm
    notices.length = 0;
    const t = performance.now();
    await sql.unsafe(query);
    const ms = performance.now() - t;
    const text = notices.join("\n\n");
    return `## ${label} (${ms.toFixed(1)} ms)\n\n${query}\n\n${
      text.length > 12_000 ? text.slice(0, 12_000) + "\n… (truncated)" : text
    }\n`;
  } finally {
    await sql.end();
  }
}

// ---------------------------------------------------------------------------------------

async function setupDatabase(ctx: Ctx) {
  // Monthly partitions for the past two years, so generated and backfilled history lands in
  // proper partitions (the product's own function; the DEFAULT partition would also work).
  await ctx.sql`select benchwatch_private.create_transaction_partition(
                  (date_trunc('month', now()) - make_interval(months => g))::date)
                from generate_series(1, 24) as g`;
  await ctx.sql.unsafe(`
    create schema if not exists bench_scratch;
    create table bench_scratch.pgbench_rows
      (like public.benchmark_transactions including defaults, primary key (id));
    create table bench_scratch.tx_copy
      (like public.benchmark_transactions including defaults including constraints);
    create index on bench_scratch.tx_copy
      (model_version, model_provider, dataset_version, prompt_version, environment, created_at desc);
    create index on bench_scratch.tx_copy (created_at);
    create index on bench_scratch.tx_copy (commit_sha);
    alter table bench_scratch.tx_copy add primary key (id, created_at);
    create table bench_scratch.obs_copy
      (like benchwatch_private.metric_observations including all);
    create table bench_scratch.id_copy
      (like benchwatch_private.run_identities including all);
    create table bench_scratch.snap_copy
      (like public.benchmark_snapshots including all) with (fillfactor = 70);
    insert into bench_scratch.snap_copy (transaction_id, commit_sha, model_version, model_provider,
      dataset_version, prompt_version, environment, metrics, created_at)
    select gen_random_uuid(), 'seed', 'rw-m' || s, 'openai', 'ds-1', 'p1', 'bench', '{"f1": 0.9}', now()
    from generate_series(0, 199) as s;`);
}

async function machine() {
  const mem = (await Deno.readTextFile("/proc/meminfo")).match(/MemTotal:\s+(\d+)/)?.[1];
  return {
    cpus: navigator.hardwareConcurrency,
    memory_gb: Math.round(Number(mem) / 1024 / 1024),
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
  };
}

export async function run(args: string[]): Promise<number> {
  const plan = args.includes("--quick") ? QUICK : FULL;
  const cfg = loadConfig("bench");
  const writeReport = args.includes("--write-report");
  if (writeReport && plan.quick) {
    console.error(
      `✗ Drop --quick to use --write-report: ${REPORT} is written from a full run`,
    );
    return 2;
  }
  if (args.includes("--render") || args.includes("--merge-mixed")) {
    // Re-render the report from its results.json and NOTES.md, measuring nothing; with
    // --merge-mixed, after taking in the mixed load of the last full run.
    const results = JSON.parse(
      await Deno.readTextFile(`${cfg.repoRoot}/${REPORT_DIR}/results.json`),
    );
    if (args.includes("--merge-mixed")) {
      const from = `${cfg.dir}/results.json`;
      const last = JSON.parse(await Deno.readTextFile(from).catch(() => "{}"));
      if (last.mode !== "full" || !last.mixed_load) {
        console.error(
          `✗ Run a full \`npm run bench\` first: ${from} holds no full run with a mixed load`,
        );
        return 2;
      }
      results.mixed_load = {
        ...last.mixed_load,
        measured_at: last.generated_at,
        run_rows: last.history.at(-1).rows,
        run_load_average: last.machine.load_average_before,
      };
      say(`merged the mixed load of the full run of ${last.generated_at} (${from})`);
    }
    results.targets = targetsOf(results);
    await Deno.writeTextFile(
      `${cfg.repoRoot}/${REPORT_DIR}/results.json`,
      JSON.stringify(results, null, 2) + "\n",
    );
    await Deno.writeTextFile(
      `${cfg.repoRoot}/${REPORT}`,
      renderMarkdown(results, await notes(cfg.repoRoot)),
    );
    say(`rendered ${REPORT} from ${REPORT_DIR}/results.json`);
    return 0;
  }
  if (args.includes("--examples")) return await examplesOnly(cfg, plan, writeReport);
  const loadBefore = await loadAverage();
  say(`${plan.quick ? "quick smoke" : "full benchmark"}; load average ${loadBefore.join(" ")}`);
  say(`wiping ${cfg.dir} and bringing up a fresh bench stack`);
  await down("bench", () => {}).catch(() => {});
  await wipeStackDir(cfg);
  const stack = await up("bench", { say: (s) => say(s.split("\n")[0]) });
  const sql = postgres(cfg.dbUrl, { max: 4, onnotice: () => {} });
  const ctx: Ctx = {
    cfg,
    sql,
    api: cfg.apiUrl,
    serviceKey: stack.keys.serviceRoleKey,
    anonKey: stack.keys.anonKey,
    plan,
    tag: Date.now().toString(36),
  };
  const realDb = await Deno.realPath(`${cfg.dir}/db`);
  const sampler = new MemorySampler(() => {
    let workers: number[] = [];
    try {
      workers = Deno.readTextFileSync(`${cfg.dir}/workers.pids`).split("\n").map(Number)
        .filter((n) => n > 0);
    } catch { /* not yet */ }
    let postmaster: number | undefined;
    try {
      postmaster = Number(Deno.readTextFileSync(`${realDb}/data/postmaster.pid`).split("\n")[0]);
    } catch { /* stopped */ }
    return { gateway: gatewayPid, workers, postmaster };
  });
  const gatewayPid = await readPid(`${cfg.dir}/gateway.pid`);
  sampler.start();

  try {
    await setupDatabase(ctx);
    const ceil = await ceilings(ctx);

    const nextId = { v: 1 };
    const detection = [];
    const history = [];
    history.push(await growHistory(ctx, plan.sizes[0] - plan.series, nextId));
    await seedHistorySnapshots(ctx);
    detection.push(await detectionAt(ctx, plan.sizes[0]));

    const single = await singleIngest(
      ctx,
      ceil.pgbench_insert.tps,
      ceil.deno_hello.rps,
      ceil.pgbench_run_writes.tps,
    );
    const batch = await batchIngest(ctx);

    for (const size of plan.sizes.slice(1)) {
      history.push(await growHistory(ctx, size, nextId));
      detection.push(await detectionAt(ctx, size));
    }

    const alerts = await alertLatency(ctx);
    const examples = await examplesBench({ ...ctx, quick: plan.quick, say });
    const maintenance = await settle(ctx);
    say(`read API at ${await countRows(sql)} rows (anon key, sequential requests)`);
    const reads = { ...await readApi(ctx), maintenance_before: maintenance };
    sampler.sample();
    const mixed = await mixedPhase(ctx, single.rps, reads);
    sampler.sample();

    say("profiles: EXPLAIN (ANALYZE, BUFFERS) of the nested statements (auto_explain)");
    const s = histSeries(733 % ctx.plan.series);
    const profiles = [
      await profile(
        ctx,
        "detect_regression",
        `select count(*) from public.detect_regression('hist-m07', 0.05)`,
      ),
      await profile(
        ctx,
        "current_snapshot_json",
        `select length(benchwatch_private.current_snapshot_json('{}')::text)`,
        5,
      ),
      await profile(
        ctx,
        "metric_trend (1 year)",
        `select length(benchwatch_private.metric_trend('${JSON.stringify(s)}', 'f1',
           now() - interval '365 days', now(), 2000)::text)`,
      ),
      await profile(
        ctx,
        "list_alerts",
        `select length(benchwatch_private.list_alerts('{}')::text)`,
      ),
      await profile(
        ctx,
        "record_run (one run, SQL only)",
        `begin; select benchwatch_private.record_run('${
          JSON.stringify({
            ...histSeries(5),
            commit_sha: "profile",
            run_id: `profile-${ctx.tag}`,
            metrics: GOOD_METRICS(),
          })
        }', null); rollback;`,
        0,
      ),
    ];

    const first = detection[0];
    const last = detection[detection.length - 1];
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const results = {
      generated_at: new Date().toISOString(),
      mode: plan.quick ? "quick" : "full",
      duration_s: Math.round((performance.now() - started) / 1000),
      machine: {
        ...(await machine()),
        load_average_before: loadBefore,
        load_average_after: await loadAverage(),
      },
      plan,
      ceilings: ceil,
      single_ingest: single,
      batch_ingest: batch,
      history,
      detection,
      detection_ratios: {
        from_rows: first.rows,
        to_rows: last.rows,
        ingest_p50: ratio(last.ingest.p50_ms, first.ingest.p50_ms),
        ingest_p95: ratio(last.ingest.p95_ms, first.ingest.p95_ms),
        detect_p50: ratio(last.detect_regression.p50_ms, first.detect_regression.p50_ms),
        detect_p95: ratio(last.detect_regression.p95_ms, first.detect_regression.p95_ms),
      },
      read_api: { rows: last.rows, ...reads },
      mixed_load: mixed,
      alerts,
      examples,
      memory: sampler.summary(),
      ingest_retries_after_502: retries.count,
    };
    const targets = targetsOf(results);
    const full = { ...results, targets };
    const root = cfg.repoRoot;
    const out = writeReport ? `${root}/${REPORT_DIR}` : cfg.dir;
    await Deno.mkdir(out, { recursive: true });
    const jsonPath = `${out}/${plan.quick ? "results.quick.json" : "results.json"}`;
    await Deno.writeTextFile(jsonPath, JSON.stringify(full, null, 2) + "\n");
    const profilesPath = `${out}/${plan.quick ? "profiles.quick.md" : "profiles.md"}`;
    await Deno.writeTextFile(
      profilesPath,
      `# Profiles (${full.mode} run, ${full.generated_at})\n\n` +
        `auto_explain output (ANALYZE, BUFFERS, nested statements) at ${last.rows} rows.\n\n` +
        profiles.map((p) => p.replace(/^(\s*)(Query Text|->)/gm, "$1$2")).join("\n") + "\n",
    );
    const md = renderMarkdown(full, await notes(root));
    if (!writeReport) {
      // Prove the report renders; the tracked report is rewritten only on request.
      if (!md.includes("| ")) throw new Error("the report did not render");
      say(
        `wrote ${jsonPath} and ${profilesPath} (${REPORT} left as it was; --write-report rewrites it)`,
      );
    } else {
      await Deno.writeTextFile(`${root}/${REPORT}`, md);
      say(`wrote ${jsonPath}, ${profilesPath} and ${root}/${REPORT}`);
    }
    for (const t of targets) say(`  ${t.met ? "✓" : "✗"} ${t.what}: ${t.measured}`);
    say(`done in ${full.duration_s} s`);
    return 0;
  } finally {
    sampler.stop();
    await sql.end({ timeout: 5 }).catch(() => {});
    await down("bench", () => {}).catch((e) => say(`could not stop the bench stack: ${e}`));
  }
}

/**
 * `npm run bench -- --examples`: the per-example phase alone, on a fresh bench stack. It prints
 * its figures; with --write-report (and without --quick) they are merged into the report's
 * results.json and the report is re-rendered from it.
 */
async function examplesOnly(cfg: StackConfig, plan: Plan, writeReport: boolean): Promise<number> {
  const path = `${cfg.repoRoot}/${REPORT_DIR}/results.json`;
  const results = JSON.parse(await Deno.readTextFile(path));
  await down("bench", () => {}).catch(() => {});
  await wipeStackDir(cfg);
  const stack = await up("bench", { say: (s) => say(s.split("\n")[0]) });
  const sql = postgres(cfg.dbUrl, { max: 4, onnotice: () => {} });
  try {
    results.examples = await examplesBench({
      sql,
      api: cfg.apiUrl,
      serviceKey: stack.keys.serviceRoleKey,
      quick: plan.quick,
      tag: Date.now().toString(36),
      say,
    });
    results.examples.measured_at = new Date().toISOString();
    results.examples.load_average = await loadAverage();
    say(JSON.stringify(results.examples, null, 2));
    if (writeReport && !plan.quick) {
      await Deno.writeTextFile(path, JSON.stringify(results, null, 2) + "\n");
      await Deno.writeTextFile(
        `${cfg.repoRoot}/${REPORT}`,
        renderMarkdown(results, await notes(cfg.repoRoot)),
      );
      say(`merged the per-example figures into ${REPORT_DIR}/results.json and ${REPORT}`);
    } else {
      say(`${REPORT} left as it was (a full --examples run with --write-report merges these)`);
    }
    return 0;
  } finally {
    await sql.end({ timeout: 5 }).catch(() => {});
    await down("bench", () => {}).catch((e) => say(`could not stop the bench stack: ${e}`));
  }
}

async function notes(root: string): Promise<string> {
  try {
    return await Deno.readTextFile(`${root}/${REPORT_DIR}/NOTES.md`);
  } catch {
    return "";
  }
}
