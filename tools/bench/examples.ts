// Per-example results: what a run with 5,000 binary examples costs to store, to
// ingest and to compare with its baseline, and batch ingest throughput with examples.
// Part of `npm run bench`; `npm run bench -- --examples` measures this phase alone on a fresh
// bench stack and prints it (`-- --examples --write-report` merges it into docs/reports/).

import type postgres from "postgres";

export interface ExamplesCtx {
  sql: postgres.Sql;
  api: string;
  serviceKey: string;
  quick: boolean;
  tag: string;
  say: (s: string) => void;
}

export interface ExamplesResults {
  examples_per_run: number;
  payload_json_bytes: number;
  bytes: {
    run_examples_row: number;
    on_disk_per_run: number;
    on_disk_per_run_at_scale: number;
    paired_results_per_run: number;
    example_set_once: number;
    runs_measured: number;
  };
  single_ingest_http: { runs: number; p50_ms: number; p95_ms: number };
  record_run_sql: { samples: number; p50_ms: number };
  paired_compare_sql: { samples: number; p50_ms: number };
  batch_ingest: {
    examples_per_run: number;
    runs_per_batch: number;
    batches: number;
    runs_per_s: number;
    examples_per_s: number;
  }[];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 100) / 100;
};

function run(ctx: ExamplesCtx, model: string, commit: string, n: number, flip: number) {
  // The same eval set every run; run `flip` loses example k when k % 50 === flip % 50.
  const examples = Array.from({ length: n }, (_, k) => ({
    id: `doc-${String(k).padStart(5, "0")}`,
    slice: ["invoices", "receipts", "contracts", "letters"][k % 4],
    scores: { f1: k % 7 === 0 || k % 50 === flip % 50 ? 0 : 1 },
  }));
  const f1 = examples.reduce((a, e) => a + e.scores.f1, 0) / n;
  return {
    commit_sha: commit,
    model_version: model,
    model_provider: "bench",
    dataset_version: `bench-examples-${n}`,
    prompt_version: "p1",
    environment: "bench",
    dataset_size: n,
    run_id: `${model}-${commit}-${ctx.tag}`,
    metrics: { f1, latency_ms: 400 },
    examples,
  };
}

async function post(ctx: ExamplesCtx, body: unknown): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${ctx.api}/functions/v1/ingest`, {
    method: "POST",
    headers: { authorization: `Bearer ${ctx.serviceKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`ingest answered ${res.status}: ${text.slice(0, 300)}`);
  return performance.now() - t;
}

export async function examplesBench(ctx: ExamplesCtx): Promise<ExamplesResults> {
  const n = 5000;
  const model = `bench-ex-${ctx.tag}`;
  const singles = ctx.quick ? 5 : 30;
  ctx.say(`per-example results: ${singles} runs with ${n} binary examples, one at a time`);
  await post(ctx, run(ctx, model, "base", n, 0));
  await ctx.sql`update public.benchmark_snapshots set is_baseline = true
                where model_version = ${model} and pinned_at is null`;
  const ms: number[] = [];
  for (let i = 1; i <= singles; i++) ms.push(await post(ctx, run(ctx, model, `c${i}`, n, i)));

  const [b] = await ctx.sql<
    { row: number; runs: number; disk: number; paired: number; set: number }[]
  >`
    select avg(pg_column_size(r.*))::int as row, count(*)::int as runs,
           ((pg_total_relation_size('benchwatch_private.run_examples'))::float8 / count(*))::int as disk,
           ((select pg_total_relation_size('benchwatch_private.paired_results'))::float8 / count(*))::int as paired,
           (select pg_total_relation_size('benchwatch_private.example_sets')) as set
    from benchwatch_private.run_examples r`;

  // On disk per run at scale: 2,000 copies of one stored row in a table shaped like
  // run_examples (same columns, key and index), so fixed page and index overhead amortise.
  const copies = 2000;
  const [scale] = await ctx.sql.begin(async (tx) => {
    await tx.unsafe(`create temp table re_copy (like benchwatch_private.run_examples including all)
                     on commit drop`);
    await tx.unsafe(`insert into re_copy
                     select gen_random_uuid(), r.metric_name, r.example_set_id, r.kind, r.outcomes,
                            r.present, r.scores, r.n, r.mean
                     from (select * from benchwatch_private.run_examples r
                           join public.benchmark_transactions t on t.id = r.transaction_id
                           where t.model_version = '${model}' and t.commit_sha = 'c1') as r,
                          generate_series(1, ${copies})`);
    return await tx<{ per: number }[]>`
      select (pg_total_relation_size('re_copy')::float8 / ${copies})::int as per`;
  });

  const sqlSamples = ctx.quick ? 5 : 20;
  const probe = JSON.stringify(run(ctx, model, "probe", n, 3)).replaceAll("'", "''");
  const rr: number[] = [];
  const conn = await ctx.sql.reserve();
  try {
    for (let i = 0; i < sqlSamples; i++) {
      await conn`begin`;
      const t0 = performance.now();
      await conn.unsafe(`select benchwatch_private.record_run('${probe}'::jsonb, null)`);
      rr.push(performance.now() - t0);
      await conn`rollback`;
    }
  } finally {
    conn.release();
  }
  const [ids] = await ctx.sql<{ base: string; cur: string }[]>`
    select (select id from public.benchmark_transactions where model_version = ${model} and commit_sha = 'base') as base,
           (select id from public.benchmark_transactions where model_version = ${model} and commit_sha = 'c1') as cur`;
  const pc: number[] = [];
  for (let i = 0; i < sqlSamples; i++) {
    const t0 = performance.now();
    await ctx
      .sql`select count(*) from benchwatch_private.paired_compare(${ids.cur}, ${ids.base}, 'f1', 'higher')`;
    pc.push(performance.now() - t0);
  }

  const batches: ExamplesResults["batch_ingest"] = [];
  for (const [per, size] of [[5000, 2], [1000, 10]] as const) {
    const count = ctx.quick ? 2 : 10;
    const m = `bench-exb${per}-${ctx.tag}`;
    await post(ctx, run(ctx, m, "base", per, 0));
    await ctx.sql`update public.benchmark_snapshots set is_baseline = true
                  where model_version = ${m} and pinned_at is null`;
    const bodies = Array.from({ length: count }, (_, j) => ({
      runs: Array.from({ length: size }, (_, k) => {
        const r = run(ctx, m, `b${j}-${k}`, per, j * size + k + 1);
        return { ...r, created_at: new Date(Date.now() - 3600_000 + j * size + k).toISOString() };
      }),
    }));
    ctx.say(`  batch ingest: ${count} batches of ${size} runs x ${per} examples`);
    const t0 = performance.now();
    for (const body of bodies) await post(ctx, body);
    const s = (performance.now() - t0) / 1000;
    batches.push({
      examples_per_run: per,
      runs_per_batch: size,
      batches: count,
      runs_per_s: Math.round((count * size / s) * 10) / 10,
      examples_per_s: Math.round(count * size * per / s),
    });
  }

  return {
    examples_per_run: n,
    payload_json_bytes: JSON.stringify(run(ctx, model, "x", n, 1).examples).length,
    bytes: {
      run_examples_row: b.row,
      on_disk_per_run: b.disk,
      on_disk_per_run_at_scale: scale.per,
      paired_results_per_run: b.paired,
      example_set_once: Number(b.set),
      runs_measured: b.runs,
    },
    single_ingest_http: { runs: singles, p50_ms: pct(ms, 0.5), p95_ms: pct(ms, 0.95) },
    record_run_sql: { samples: sqlSamples, p50_ms: pct(rr, 0.5) },
    paired_compare_sql: { samples: sqlSamples, p50_ms: pct(pc, 0.5) },
    batch_ingest: batches,
  };
}

/** The BENCHMARKS.md section. */
export function renderExamples(e: ExamplesResults): string[] {
  const kb = (x: number) => `${(x / 1024).toFixed(1)} KiB`;
  return [
    "",
    `## Per-example results (${
      e.examples_per_run.toLocaleString("en-US")
    } binary examples per run)`,
    "",
    "| what | measured |",
    "| --- | --- |",
    `| examples as sent (JSON) | ${kb(e.payload_json_bytes)} per run |`,
    `| stored per run and metric (\`run_examples\` row: 1 bit per example) | ${e.bytes.run_examples_row} bytes |`,
    `| on disk per run and metric at scale (2,000 such rows: heap, TOAST and primary key) | ${e.bytes.on_disk_per_run_at_scale} bytes |`,
    `| on disk per run (\`run_examples\` with TOAST and index, over only ${e.bytes.runs_measured} runs: page overhead included) | ${e.bytes.on_disk_per_run} bytes |`,
    `| paired results per run (overall + 4 slices, on disk, over the same few runs) | ${e.bytes.paired_results_per_run} bytes |`,
    `| the eval set's ids and slices, once per distinct id list (\`example_sets\`, all sets) | ${
      kb(e.bytes.example_set_once)
    } |`,
    `| ingest of one run, end to end (HTTP, stored and compared with its baseline) | p50 ${e.single_ingest_http.p50_ms} ms, p95 ${e.single_ingest_http.p95_ms} ms (${e.single_ingest_http.runs} runs) |`,
    `| \`record_run\` of one such run, SQL only (rolled back) | p50 ${e.record_run_sql.p50_ms} ms (${e.record_run_sql.samples} samples) |`,
    `| \`paired_compare\` of one metric (overall + 4 slices, exact p-values), SQL only | p50 ${e.paired_compare_sql.p50_ms} ms (${e.paired_compare_sql.samples} samples) |`,
    ...e.batch_ingest.map((b) =>
      `| batch ingest, ${b.runs_per_batch} runs x ${
        b.examples_per_run.toLocaleString("en-US")
      } examples per request (${b.batches} requests) | ${b.runs_per_s} runs/s, ${
        b.examples_per_s.toLocaleString("en-US")
      } examples/s |`
    ),
  ];
}
