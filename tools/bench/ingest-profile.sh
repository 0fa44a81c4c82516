#!/usr/bin/env bash
# Where a recorded run's SQL goes, per statement (docs/reports/bench/NOTES.md, "Per-statement
# profile of a recorded run"): on the history bench/detection-cost.sh builds (500 series of 31
# runs, 6 metrics, baselines pinned; built first if missing), 200 single record_run calls and
# one ingest_runs of a 1000-run batch (500 series x 2 runs), each in its own transaction rolled
# back. For each it prints pg_stat_statements (nested statements, planning included) per run,
# track_functions' self time per run, and the rows and index insertions per run from
# pg_stat_xact_all_tables (a row inserted or updated without HOT adds one entry to every index
# of its table or partition). Needs a cluster with shared_preload_libraries including
# pg_stat_statements, pg_stat_statements.track = all, pg_stat_statements.track_planning = on,
# track_functions = all, and a superuser URL (to reset the statistics): a throwaway one, such
# as the test stack's after `npm test -- <a pgTAP file>` (see the NOTES for the restart).
#
#   bash tools/bench/ingest-profile.sh <superuser-db-url>
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -lt 1 ]; then
  echo "usage: bash tools/bench/ingest-profile.sh <superuser-db-url>" >&2
  exit 2
fi
db=$1
if [ "$(psql "$db" -X -At -c "show pg_stat_statements.track_planning" 2>/dev/null)" != on ]; then
  echo "pg_stat_statements with track_planning is not loaded on that cluster: see the usage above" >&2
  exit 2
fi
psql "$db" -X -q -c "create extension if not exists pg_stat_statements" >/dev/null
if [ "$(psql "$db" -X -At -c "select count(*) from public.benchmark_transactions where model_version = 'dc-m1'")" = 0 ]; then
  bash tools/bench/detection-cost.sh "$db" HEAD HEAD 1 >/dev/null
fi
gen() { # $1: t; $2: first series; $3: last series (the runs of bench/detection-cost.sh)
  echo "select jsonb_agg(jsonb_build_object('commit_sha', 'dc-' || $1, 'model_version', 'dc-m' || s,
    'model_provider', 'openai', 'dataset_version', 'ds-dc', 'prompt_version', 'p1', 'environment', 'ci',
    'dataset_size', 1000, 'created_at', timestamptz '2026-06-01 00:00:00+00' + $1 * interval '1 hour',
    'metrics', jsonb_build_object('f1', 0.90 + (s * 7 + $1 * 13) % 9 / 1000.0 - 0.004,
      'precision', 0.88 + (s * 5 + $1 * 11) % 9 / 1000.0 - 0.004, 'recall', 0.86 + (s * 3 + $1 * 7) % 9 / 1000.0 - 0.004,
      'accuracy', 0.91 + (s + $1 * 5) % 9 / 1000.0 - 0.004, 'latency_ms', 400 + (s * 5 + $1 * 3) % 21 - 10,
      'analysis_cost', 0.0042 + (s + $1) % 5 / 100000.0)) order by s)
    from generate_series($2, $3) as s"
}
report() { # $1: runs in the measured call
  cat <<SQL
\\echo '### statements (pg_stat_statements, nested; ms per run; top 25 by plan + exec)'
select round(((s.total_plan_time + s.total_exec_time) / $1)::numeric, 3) as ms_per_run,
       round((s.total_plan_time / $1)::numeric, 3) as plan_ms, round((s.total_exec_time / $1)::numeric, 3) as exec_ms,
       s.calls, s.plans, s.toplevel,
       left(regexp_replace(s.query, '\\s+', ' ', 'g'), 110) as statement
from pg_stat_statements s
where s.query not like '%pg_stat%' and s.query not like 'savepoint%' and s.query not like 'rollback%'
order by s.total_plan_time + s.total_exec_time desc limit 25;
\\echo '### functions (track_functions; ms per run)'
select f.schemaname || '.' || f.funcname as function, f.calls,
       round((f.total_time / $1)::numeric, 3) as total_ms, round((f.self_time / $1)::numeric, 3) as self_ms
from pg_stat_xact_user_functions f order by f.total_time desc limit 20;
\\echo '### rows and index insertions per run (pg_stat_xact_all_tables)'
with t as (
  select s.relid, s.schemaname || '.' || s.relname as rel, s.n_tup_ins as ins, s.n_tup_upd as upd, s.n_tup_hot_upd as hot,
         (select count(*) from pg_index i where i.indrelid = s.relid) as indexes
  from pg_stat_xact_all_tables s
  where s.n_tup_ins + s.n_tup_upd > 0 and s.schemaname not in ('pg_catalog', 'pg_toast', 'pg_temp_1')
    and s.relname not like 'pg_%'
)
select rel, indexes, round(ins::numeric / $1, 2) as inserted, round(upd::numeric / $1, 2) as updated,
       round(hot::numeric / $1, 2) as hot_updated,
       round(((ins + upd - hot) * indexes)::numeric / $1, 2) as index_insertions
from t
union all
select 'total', null, null, null, null, round(sum((ins + upd - hot) * indexes)::numeric / $1, 2) from t
order by 1;
SQL
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo "\\set ON_ERROR_STOP on"
  echo "\\pset footer off"
  echo "set client_min_messages = warning;"
  echo "create temp table ip_batch as select (($(gen 31 1 500)) || ($(gen 32 1 500))) as b;"
  echo "create temp table ip_single as select r from jsonb_array_elements(($(gen 31 1 200))) as r;"
  echo "\\echo '## warm-up (one single and one batch, rolled back)'"
  echo "begin; select count(benchwatch_private.record_run(r)) from ip_single; rollback;"
  echo "select pg_stat_force_next_flush();"
  echo "begin; select count(*) from jsonb_array_elements(benchwatch_private.ingest_runs((select b from ip_batch)) -> 'runs'); rollback;"
  echo "select pg_stat_force_next_flush();"
  echo "\\echo '## single record_run: 200 calls, 6 metrics, 31 runs of history'"
  echo "begin;"
  echo "select pg_stat_statements_reset() is null;"
  echo "\\timing on"
  echo "select count(benchwatch_private.record_run(r)) from ip_single;"
  echo "\\timing off"
  report 200
  echo "rollback;"
  echo "select pg_stat_force_next_flush();"
  echo "\\echo '## ingest_runs of a 1000-run batch (500 series x 2 runs)'"
  echo "begin;"
  echo "select pg_stat_statements_reset() is null;"
  echo "\\timing on"
  echo "select count(*) from jsonb_array_elements(benchwatch_private.ingest_runs((select b from ip_batch)) -> 'runs');"
  echo "\\timing off"
  report 1000
  echo "rollback;"
  echo "select pg_stat_force_next_flush();"
} >"$tmp/profile.sql"
psql "$db" -X -q -f "$tmp/profile.sql"
