#!/usr/bin/env bash
# Detection cost per run of two versions of the alert rule, interleaved on one database
# (docs/reports/BENCHMARKS.md, the detection rows): SQL ms per run of ingest_runs of a 1000-run batch (500
# series x 2 runs, 6 metrics, 30 runs of history each, baselines pinned) and of a single
# record_run (200 calls). Each version's benchwatch_private.evidence, assess_runs, record_runs,
# compare_runs and (since issue 22, which keeps the detector state there) record_observations
# are taken from docs/schema/ at a git revision and swapped in before every repetition; the
# order alternates; each repetition is rolled back. The history (500 series 'dc-m1' ..
# 'dc-m500' of 31 runs) is committed once and analyzed first, as a real database's would be
# (inside one uncommitted transaction the planner sees empty tables): benchmark_transactions
# is append-only, so point this at a throwaway database, e.g. the test stack, and remove
# .local/test afterwards (npm run local:down -- --profile test; rm -rf .local/test).
#
#   bash tools/bench/detection-cost.sh <db-url> <old-rev> <new-rev> [repetitions, default 8]
#   e.g. bash tools/bench/detection-cost.sh "$(grep ^SUPABASE_DB_URL= .local/test/env | cut -d= -f2-)" 93953e8 HEAD
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -lt 3 ]; then
  echo "usage: bash tools/bench/detection-cost.sh <db-url> <old-rev> <new-rev> [repetitions]" >&2
  exit 2
fi
db=$1 old=$2 new=$3 reps=${4:-8}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for v in old new; do
  rev=${!v}
  for f in evidence assess_runs record_runs compare_runs; do
    git show "$rev:docs/schema/benchwatch_private/functions/$f.sql" >>"$dir/$v.sql" ||
      { echo "no docs/schema/benchwatch_private/functions/$f.sql at $rev" >&2; exit 2; }
  done
  # Since issue 22, record_runs' step 7 is a function of its own (absent at older revisions).
  git show "$rev:docs/schema/benchwatch_private/functions/record_observations.sql" >>"$dir/$v.sql" 2>/dev/null || true
done
run() { # $1: t; $2: first series; $3: last series
  echo "select jsonb_agg(jsonb_build_object('commit_sha', 'dc-' || $1, 'model_version', 'dc-m' || s,
    'model_provider', 'openai', 'dataset_version', 'ds-dc', 'prompt_version', 'p1', 'environment', 'ci',
    'dataset_size', 1000, 'created_at', timestamptz '2026-06-01 00:00:00+00' + $1 * interval '1 hour',
    'metrics', jsonb_build_object('f1', 0.90 + (s * 7 + $1 * 13) % 9 / 1000.0 - 0.004,
      'precision', 0.88 + (s * 5 + $1 * 11) % 9 / 1000.0 - 0.004, 'recall', 0.86 + (s * 3 + $1 * 7) % 9 / 1000.0 - 0.004,
      'accuracy', 0.91 + (s + $1 * 5) % 9 / 1000.0 - 0.004, 'latency_ms', 400 + (s * 5 + $1 * 3) % 21 - 10,
      'analysis_cost', 0.0042 + (s + $1) % 5 / 100000.0)) order by s)
    from generate_series($2, $3) as s"
}
if [ "$(psql "$db" -X -At -c "select count(*) from public.benchmark_transactions where model_version = 'dc-m1'")" = 0 ]; then
  {
    echo "\\set ON_ERROR_STOP on"
    echo "set client_min_messages = warning;"
    echo "select count(*) from jsonb_array_elements(benchwatch_private.ingest_runs(($(run 0 1 500))) -> 'runs');"
    echo "select count(public.pin_baseline(t.id)) from benchmark_transactions t where t.model_version like 'dc-m%' and t.commit_sha = 'dc-0';"
    echo "analyze public.benchmark_transactions, public.benchmark_snapshots, public.regression_alerts, benchwatch_private.metric_observations, benchwatch_private.detector_state, benchwatch_private.run_identities;"
    for t in $(seq 1 30); do
      echo "select count(*) from jsonb_array_elements(benchwatch_private.ingest_runs(($(run "$t" 1 500))) -> 'runs');"
    done
    echo "analyze public.benchmark_transactions, public.benchmark_snapshots, public.regression_alerts, benchwatch_private.metric_observations, benchwatch_private.detector_state, benchwatch_private.run_identities;"
  } >"$dir/setup.sql"
  psql "$db" -X -q -f "$dir/setup.sql" >/dev/null
fi
{
  echo "\\set ON_ERROR_STOP on"
  echo "begin;"
  echo "set local client_min_messages = warning;"
  echo "create temp table dc_batch as select (($(run 31 1 500)) || ($(run 32 1 500))) as b;"
  echo "create temp table dc_single as select r from jsonb_array_elements(($(run 31 1 200))) as r;"
  echo "\\timing on"
  for i in $(seq 1 "$reps"); do
    if [ $((i % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
    for v in $order; do
      for what in batch single; do
        echo "savepoint dc;"
        echo "\\timing off"
        echo "\\i $dir/$v.sql"
        echo "\\echo MEASURE $v $what"
        echo "\\timing on"
        if [ "$what" = batch ]; then
          echo "select count(*) from jsonb_array_elements(benchwatch_private.ingest_runs((select b from dc_batch)) -> 'runs');"
        else
          echo "select count(benchwatch_private.record_run(r)) from dc_single;"
        fi
        echo "rollback to savepoint dc;"
      done
    done
  done
  echo "rollback;"
} >"$dir/bench.sql"
psql "$db" -X -q -f "$dir/bench.sql" >"$dir/out.txt" 2>&1 || { cat "$dir/out.txt" >&2; exit 1; }
python3 - "$dir/out.txt" <<'PY'
import statistics, sys
ms, key = {}, None
for line in open(sys.argv[1]):
    if line.startswith("MEASURE"):
        key = " ".join(line.split()[1:3])
    elif line.startswith("Time:") and key:
        ms.setdefault(key, []).append(float(line.split()[1]))
        key = None
for k in sorted(ms):
    per = 1000 if k.endswith("batch") else 200
    v = [x / per for x in ms[k]]
    print(f"{k}: median {statistics.median(v):.2f} ms of SQL per run (min {min(v):.2f}, max {max(v):.2f}; {len(v)} repetitions)")
PY
