// Renders a results.json as docs/reports/BENCHMARKS.md: the figures beside their ceilings, the
// targets, the method and the machine. docs/reports/bench/NOTES.md (hand-written: what was changed, with
// before/after figures, and the analysis of missed targets) is appended verbatim.

import { renderExamples } from "./examples.ts";

// deno-lint-ignore no-explicit-any
type Results = any;

/** The read API's timed endpoints, in the report's order. */
const READS = ["snapshot", "snapshot_last_page", "trend_1y", "regressions"];

/** Done-when 6 of the ingest-cost issue: reads p95 ≤ 50 ms under ≥ 50% single-run ingest. */
export function mixedTarget(r: Results) {
  const mx = r.mixed_load;
  const largest = r.plan.sizes[r.plan.sizes.length - 1];
  const reads = READS.filter((k) => mx.reads[k]);
  const worst = Math.max(...reads.map((k) => mx.reads[k].p95_ms));
  const ratio = mx.ingest.ratio_to_single_run;
  return {
    item: "22.6",
    what: "read API p95 ≤ 50 ms while single-run ingest runs at ≥ 50% of its measured " +
      "throughput (mixed load)",
    measured: `p95 ${reads.map((k) => `${k} ${mx.reads[k].p95_ms} ms`).join(", ")} at ` +
      `${mx.rows.toLocaleString("en-US")} rows; ingest ${mx.ingest.achieved_runs_per_s} runs/s = ` +
      `${(ratio * 100).toFixed(1)}% of ${mx.ingest.measured_single_run_rps} runs/s` +
      (mx.rows >= largest ? "" : " (largest size not reached: not judged)"),
    met: worst <= 50 && ratio >= 0.5 && mx.rows >= largest,
  };
}

/** The benchmark's six targets, judged from the results. */
export function targetsOf(r: Results) {
  const last = r.history[r.history.length - 1];
  const dr = r.detection_ratios;
  const s = r.single_ingest;
  const b = r.batch_ingest;
  const a = r.alerts;
  const largest = r.plan.sizes[r.plan.sizes.length - 1];
  return [
    {
      item: 1,
      what: `history reaches ${largest.toLocaleString("en-US")} rows within the time box`,
      measured: `${last.rows.toLocaleString("en-US")} rows (${last.rows_per_s} rows/s generated)`,
      met: last.reached_target,
    },
    {
      item: 1,
      what: "the whole run under 20 minutes",
      measured: `${r.duration_s} s`,
      met: r.duration_s < 20 * 60,
    },
    {
      item: 2,
      what: "single-run ingest ≥ 50% of the pgbench INSERT ceiling",
      measured: `${(s.ratio_to_pgbench * 100).toFixed(1)}%`,
      met: s.ratio_to_pgbench >= 0.5,
    },
    {
      item: 2,
      what: "single-run ingest p99 ≤ 25 ms at 16 clients",
      measured: `${s.p99_ms} ms`,
      met: s.p99_ms <= 25,
    },
    ...(s.ratio_to_run_writes === undefined ? [] : [
      {
        item: "22.2",
        what: "single-run ingest ≥ 50% of the same-work pgbench ceiling (a recorded run's rows, " +
          "one transaction per run)",
        measured: `${(s.ratio_to_run_writes * 100).toFixed(1)}%`,
        met: s.ratio_to_run_writes >= 0.5,
      },
      {
        item: "22.2",
        what: "single-run ingest p99 ≤ 50 ms at 16 clients",
        measured: `${s.p99_ms} ms`,
        met: s.p99_ms <= 50,
      },
    ]),
    ...(b.ratio_to_raw_run_writes === undefined ? [] : [{
      item: "22.1",
      what: "batch ingest ≥ 50% of the raw INSERT of the rows a recorded run writes",
      measured: `${(b.ratio_to_raw_run_writes * 100).toFixed(1)}%`,
      met: b.ratio_to_raw_run_writes >= 0.5,
    }]),
    {
      item: 3,
      what: "batch ingest ≥ 20,000 runs/s",
      measured: `${b.runs_per_s} runs/s`,
      met: b.runs_per_s >= 20_000,
    },
    {
      item: 4,
      what: `ingest and detect_regression at ${
        largest.toLocaleString("en-US")
      } rows within 1.5× of 10k`,
      measured: `at ${dr.to_rows.toLocaleString("en-US")} rows: ingest p50 ×${dr.ingest_p50}, ` +
        `p95 ×${dr.ingest_p95}; detect p50 ×${dr.detect_p50}, p95 ×${dr.detect_p95}` +
        (last.reached_target ? "" : " (largest size not reached: not judged)"),
      met: last.reached_target &&
        Math.max(dr.ingest_p50, dr.ingest_p95, dr.detect_p50, dr.detect_p95) <= 1.5,
    },
    ...READS.filter((k) => r.read_api[k])
      .map((k) => ({
        item: 5,
        what: `read API ${k} p95 ≤ 50 ms`,
        measured: `${r.read_api[k].p95_ms} ms at ${r.read_api.rows.toLocaleString("en-US")} rows`,
        met: r.read_api[k].p95_ms <= 50 && last.reached_target,
      })),
    {
      item: 6,
      what: "alert p95 ≤ 2 s",
      measured: `${a.from_transaction_start.p95_ms} ms (${a.delivered}/${a.runs})`,
      met: a.delivered === a.runs && a.from_transaction_start.p95_ms <= 2000,
    },
    ...(r.mixed_load ? [mixedTarget(r)] : []),
  ];
}

const n = (x: number) => Number.isFinite(x) ? x.toLocaleString("en-US") : "n/a";

export function renderMarkdown(r: Results, notes: string): string {
  const c = r.ceilings;
  const s = r.single_ingest;
  const b = r.batch_ingest;
  const a = r.alerts;
  const m = r.memory;
  const lines: string[] = [];
  const row = (...cells: (string | number)[]) => lines.push(`| ${cells.join(" | ")} |`);

  lines.push(
    "# Benchmarks",
    "",
    `Generated by \`npm run bench -- --write-report\` on ${r.generated_at} (${r.mode} run, ${r.duration_s} s). ` +
      `Every figure below comes from that one run; [\`bench/results.json\`](bench/results.json) ` +
      "holds them all, and [`bench/profiles.md`](bench/profiles.md) the EXPLAIN (ANALYZE, " +
      "BUFFERS) profiles taken at the end.",
    "",
    `Machine: ${r.machine.cpus} cores, ${r.machine.memory_gb} GiB, Linux ${r.machine.kernel}, ` +
      `Deno ${r.machine.deno}. Load average before: ${r.machine.load_average_before.join(" ")}; ` +
      `after: ${r.machine.load_average_after.join(" ")}. The database, the gateway, the function ` +
      "workers and the load generator all share these cores.",
    "",
    "## Targets",
    "",
  );
  row("#", "target", "measured", "met");
  row("---", "---", "---", "---");
  for (const t of r.targets) row(t.item, t.what, t.measured, t.met ? "yes" : "**no**");

  lines.push("", "## Ceilings, measured in the same run", "");
  row("ceiling", "load", "throughput", "latency");
  row("---", "---", "---", "---");
  row(
    "pgbench: one-row INSERT of a comparable jsonb row (scratch table, fsync on)",
    `${c.pgbench_insert.clients} clients, ${c.pgbench_insert.seconds} s`,
    `${n(c.pgbench_insert.tps)} tps`,
    `avg ${c.pgbench_insert.latency_avg_ms} ms`,
  );
  row(
    "Deno.serve hello-world under wrk",
    `${c.deno_hello.connections} connections, ${c.deno_hello.seconds} s`,
    `${n(c.deno_hello.rps)} req/s`,
    `p50 ${c.deno_hello.p50_ms} / p99 ${c.deno_hello.p99_ms} ms`,
  );
  if (c.pgbench_run_writes) {
    row(
      "pgbench: the rows a recorded run writes (log row, one observation per metric, identity " +
        "claimed then answered, snapshot upsert), one transaction per run, copies with the " +
        "product's indexes",
      `${c.pgbench_run_writes.clients} clients, ${c.pgbench_run_writes.seconds} s`,
      `${n(c.pgbench_run_writes.tps)} runs/s`,
      `avg ${c.pgbench_run_writes.latency_avg_ms} ms`,
    );
  }
  if (c.gateway_health) {
    row(
      "GET health through the gateway (JWT check, function worker, one SQL query; no write)",
      `${c.gateway_health.connections} connections, ${c.gateway_health.seconds} s`,
      `${n(c.gateway_health.rps)} req/s (${c.gateway_health.ratio_to_pgbench}× pgbench)`,
      `p50 ${c.gateway_health.p50_ms} / p99 ${c.gateway_health.p99_ms} ms`,
    );
  }

  lines.push("", "## Ingest", "");
  row("measurement", "load", "throughput", "p50", "p95", "p99", "vs ceiling");
  row("---", "---", "---", "---", "---", "---", "---");
  row(
    "single-run ingest, end to end (wrk → gateway → ingest → record_runs → webhook trigger)",
    `${s.connections} connections, ${s.seconds} s; ${n(s.runs_recorded)} distinct runs recorded, ` +
      `${s.non_2xx} non-2xx`,
    `${n(s.rps)} runs/s`,
    `${s.p50_ms} ms`,
    `${s.p95_ms} ms`,
    `${s.p99_ms} ms`,
    (s.ratio_to_run_writes === undefined
      ? ""
      : `${(s.ratio_to_run_writes * 100).toFixed(1)}% of the same-work pgbench ceiling; `) +
      `${(s.ratio_to_pgbench * 100).toFixed(1)}% of pgbench INSERT; ` +
      `${(s.ratio_to_hello * 100).toFixed(2)}% of hello-world`,
  );
  row(
    `batch ingest: ${n(b.runs)} of ${n(b.runs_planned)} planned historical runs ` +
      `(${b.runs < b.runs_planned ? "time box spent" : "all"}), batches of ${b.batch_size}`,
    `${b.clients} clients, ${b.seconds} s`,
    `${n(b.runs_per_s)} runs/s`,
    "",
    "",
    "",
    `${(b.ratio_to_raw_insert * 100).toFixed(1)}% of a raw multi-row INSERT of the same rows ` +
      `(${n(b.raw_insert.rows_per_s)} rows/s)` +
      (b.raw_run_writes
        ? `; ${(b.ratio_to_raw_run_writes * 100).toFixed(1)}% of a raw INSERT of the rows a ` +
          `recorded run writes (log, one observation per metric, identity: ` +
          `${n(b.raw_run_writes.runs_per_s)} runs/s)`
        : ""),
  );

  lines.push("", "## Detection cost against history size", "");
  row(
    "rows in benchmark_transactions",
    "ingest with detection p50",
    "p95",
    "detect_regression p50",
    "p95",
  );
  row("---", "---", "---", "---", "---");
  for (const d of r.detection) {
    row(
      n(d.rows),
      `${d.ingest.p50_ms} ms`,
      `${d.ingest.p95_ms} ms`,
      `${d.detect_regression.p50_ms} ms`,
      `${d.detect_regression.p95_ms} ms`,
    );
  }
  const dr = r.detection_ratios;
  row(
    `ratio ${n(dr.to_rows)} / ${n(dr.from_rows)}`,
    `×${dr.ingest_p50}`,
    `×${dr.ingest_p95}`,
    `×${dr.detect_p50}`,
    `×${dr.detect_p95}`,
  );
  lines.push(
    "",
    "History generation (INSERT … SELECT generate_series into the partitioned table, " +
      "every index and constraint in place, 2 sessions, `synchronous_commit = off` for the " +
      "bulk load only):",
    "",
  );
  for (const h of r.history) {
    lines.push(
      `- target ${n(h.target)}: ${n(h.generated)} rows generated in ${h.seconds} s ` +
        `(${n(h.rows_per_s)} rows/s) → ${n(h.rows)} rows` +
        (h.reached_target ? "" : " (**generation time box spent before the target**)"),
    );
  }

  lines.push("", `## Read API at ${n(r.read_api.rows)} rows (HTTP, anon key, sequential)`, "");
  if (r.read_api.maintenance_before) {
    lines.push(
      "Measured after the maintenance the generation calls for: `VACUUM (ANALYZE)` of the " +
        "tables the reads use and a `CHECKPOINT` " +
        `(${r.read_api.maintenance_before.vacuum_analyze_and_checkpoint_s} s).`,
      "",
    );
  }
  row("endpoint", "p50", "p95", "p99", "response size");
  row("---", "---", "---", "---", "---");
  const names: Record<string, string> = {
    snapshot: `current snapshot, first page (\`benchmarks?view=snapshot\`, ${
      r.read_api.snapshot_page_size ?? "all"
    } of ${n(r.read_api.snapshot_series ?? 0)} series)`,
    snapshot_last_page: "current snapshot, deepest full page (`&offset=` total − 100)",
    trend_1y: "one-year trend of one series (`benchmarks?view=trend`)",
    regressions: "regressions list (`regressions`)",
  };
  for (const k of READS) {
    const v = r.read_api[k];
    if (!v) continue;
    row(names[k], `${v.p50_ms} ms`, `${v.p95_ms} ms`, `${v.p99_ms} ms`, `${n(v.bytes)} B`);
  }
  const all = r.read_api.snapshot_all_pages;
  if (all) {
    lines.push(
      "",
      `Every series, page after page of 1000 as the dashboard reads them (${all.pages} pages, ` +
        `not a target): p50 ${all.p50_ms} ms, p95 ${all.p95_ms} ms.`,
    );
  }

  if (r.mixed_load) lines.push(...renderMixed(r.mixed_load, names));

  lines.push("", "## Alert latency", "");
  row("from", "runs", "delivered", "p50", "p95", "max");
  row("---", "---", "---", "---", "---", "---");
  row(
    "run's transaction start (created_at) → Slack sink received_at",
    a.runs,
    a.delivered,
    `${a.from_transaction_start.p50_ms} ms`,
    `${a.from_transaction_start.p95_ms} ms`,
    `${a.from_transaction_start.max_ms} ms`,
  );
  row(
    "ingest response received → Slack sink received_at",
    a.runs,
    a.delivered,
    `${a.from_ingest_response.p50_ms} ms`,
    `${a.from_ingest_response.p95_ms} ms`,
    `${a.from_ingest_response.max_ms} ms`,
  );

  if (r.examples) {
    lines.push(...renderExamples(r.examples));
    if (r.examples.measured_at) {
      lines.push(
        "",
        `Measured on ${r.examples.measured_at} by \`npm run bench -- --examples\` on a fresh bench ` +
          `stack (load average ${r.examples.load_average.join(" ")}), merged into this report.`,
      );
    }
  }

  lines.push("", "## Memory (peak over the whole run, sampled every 0.5 s)", "");
  row("process", "peak RSS (VmHWM)", "peak private (RssAnon)");
  row("---", "---", "---");
  row("gateway", `${m.gateway_peak_rss_mb} MB`, "");
  for (const [k, v] of Object.entries(m.workers) as [string, Record<string, number>][]) {
    row(`function worker \`${k}\``, `${v.peak_rss_mb} MB`, `${v.peak_rss_anon_mb} MB`);
  }
  row(
    `PostgreSQL backend, largest (${m.postgres.backends_seen} backends seen)`,
    `${m.postgres.max_backend_peak_rss_mb} MB (includes shared buffers touched)`,
    `${m.postgres.max_backend_peak_rss_anon_mb} MB`,
  );
  row("PostgreSQL, all backends together", "", `${m.postgres.max_total_rss_anon_mb} MB`);

  lines.push(
    "",
    "## Method",
    "",
    "- `npm run bench` wipes `.local/bench`, brings up the dedicated `bench` stack (db 24352, " +
      "API 24351, sink 24353), stops it at the end and writes its results to `.local/bench`; " +
      "`npm run bench -- --write-report` also rewrites this report and `bench/`. " +
      "`npm run bench -- --quick` runs every step at small sizes.",
    "- Load: `wrk` with 2 threads (`tools/bench/wrk.lua`); in ingest mode each request " +
      "POSTs a distinct run (run_id and commit_sha from a per-thread counter) to one of 200 " +
      "series with pinned baselines, metrics within noise (detection runs, no alert). A 2 s " +
      "warm-up precedes the measured run. Latency percentiles are wrk's.",
    "- pgbench: `pgbench -n -c 16 -j 2` with a custom script inserting one row of the same " +
      "shape (the same columns and a 6-metric jsonb) into a scratch copy of " +
      "benchmark_transactions.",
    "- Batch ingest: historical runs (created_at spread over the past year, 1000 series) " +
      "POSTed to `ingest` in batches of 1000 by 2 clients, each client on its own half of the " +
      "series. The raw comparison inserts the same JSON batches with " +
      "`INSERT … SELECT FROM jsonb_to_recordset` into a scratch table with the same indexes.",
    "- History: 2000 series (20 models × 5 datasets × 4 prompts × 5 environments), runs spread " +
      "over the past year in time order (as history accumulates), generated in SQL into the " +
      "partitioned table with all indexes, constraints and triggers, by 2 sessions with " +
      "`synchronous_commit = off`; the bench stack's PostgreSQL has shared_buffers 2GB and " +
      "max_wal_size 8GB (the dev and test stacks 256MB and the default); then one real run per series through `record_run` and every " +
      "series' baseline pinned (the setup guide's UPDATE). Detection latency is sequential " +
      "single-run ingests over HTTP; `detect_regression` is timed from the client for one " +
      "model (100 series).",
    "- Alerts: one series per alert, baseline pinned, then six ordinary runs per series (the " +
      "noise-aware rules want in-control history first), then regressing runs for each series " +
      "in turn until the run whose answer lists `alerts_opened` (the confirming run under " +
      "noise-aware alerting). The latency runs from that run's `created_at` (its " +
      "transaction's start, so an upper bound on time since commit) to the Slack sink's " +
      "`received_at`.",
    ...(r.mixed_load
      ? [
        `- Mixed load: right after the reads, single-run ingest is paced open loop at ` +
        `${Math.round(r.mixed_load.share_planned * 100)}% of the single-run throughput measured ` +
        `earlier in the same run (run n starts at n / rate, at most ` +
        `${r.mixed_load.max_in_flight} pending), each ` +
        "request a new run of the same 200 series, sent from a worker thread through the CLI's " +
        `API client with retries off; after ${r.mixed_load.warmup_s} s of it, the read endpoints ` +
        "are timed again with the read phase's client, in turn, one request at a time. The " +
        "achieved rate counts the 201 answers while the reads ran.",
      ]
      : []),
    "- Memory: `/proc/<pid>/status` of the gateway, the pids in `workers.pids` and every " +
      "child of the postmaster, sampled every 0.5 s.",
    "",
  );
  if (notes.trim()) lines.push(notes.trim(), "");
  return lines.join("\n");
}

function renderMixed(mx: Results, names: Record<string, string>): string[] {
  const i = mx.ingest;
  const lines = [
    "",
    `## Reads during single-run ingest (mixed load) at ${n(mx.rows)} rows`,
    "",
    `Single-run ingest paced at ${i.target_runs_per_s} runs/s (${
      Math.round(mx.share_planned * 100)
    }% of the ` +
    `${i.measured_single_run_rps} runs/s single-run ingest measured by wrk earlier in the same run; open loop, at most ` +
    `${mx.max_in_flight} in flight), each request a new run; it achieved ` +
    `**${i.achieved_runs_per_s} runs/s = ${(i.ratio_to_single_run * 100).toFixed(1)}%** of the ` +
    `measured throughput over the ${mx.reads_seconds} s the reads took (after ${mx.warmup_s} s of ` +
    `ingest alone). Ingest latency meanwhile: p50 ${i.latency.p50_ms} ms, p95 ` +
    `${i.latency.p95_ms} ms, **p99 ${i.latency.p99_ms} ms** (from the schedule: p99 ` +
    `${i.latency_from_schedule.p99_ms} ms); ${n(i.sent)} runs sent, ${i.failed} failed` +
    (i.failures.length ? ` (${i.failures.join("; ")})` : "") +
    `. ` +
    (mx.generator_cpu_cores === undefined
      ? ""
      : `The load generator (this benchmark's process: the reads' client and the ingest worker) used ${
        Math.round(mx.generator_cpu_cores * 100)
      }% of one core meanwhile. `) +
    `Load average ${mx.load_average_before.join(" ")} before the phase, ` +
    `${mx.load_average_after.join(" ")} after.`,
    "",
  ];
  if (mx.measured_at) {
    lines.push(
      `Measured on ${mx.measured_at} by a full \`npm run bench\` (${
        n(mx.run_rows)
      } rows, load average ${mx.run_load_average.join(" ")} before it) and merged into this ` +
        "report with `--merge-mixed`: the throughput it is paced against and the reads without " +
        "load beside it are that run's, not the figures above.",
      "",
    );
  }
  const out: string[] = [];
  const row = (...cells: (string | number)[]) => out.push(`| ${cells.join(" | ")} |`);
  row("endpoint", "reads", "p50", "p95", "p99", "p95 without load (same run)");
  row("---", "---", "---", "---", "---", "---");
  // The read phase's names, but the series count: the mixed load may come from another run.
  const label = (k: string) =>
    k === "snapshot" ? "current snapshot, first page (`benchmarks?view=snapshot`)" : names[k];
  for (const k of READS) {
    const v = mx.reads[k];
    if (!v) continue;
    row(
      label(k),
      v.n,
      `${v.p50_ms} ms`,
      `${v.p95_ms} ms`,
      `${v.p99_ms} ms`,
      v.unloaded_p95_ms === undefined ? "n/a" : `${v.unloaded_p95_ms} ms`,
    );
  }
  return [...lines, ...out];
}
