-- Why: a recorded run added about 32 index entries (docs/reports/bench/NOTES.md, "Per-statement
-- profile of a recorded run": 6 for its log row, 3 for each of its 6 observations, 6 for the
-- snapshot upsert, 2-4 for its identity). Every index on the tables a run writes must be used by
-- a query; these four are not, or are served as well by another index:
--
-- - benchmark_transactions_id_idx (id): every lookup by id (claim_alert_events, pin_run,
--   run_verdicts) is served by the primary key (id, created_at), whose leading column is id.
-- - benchmark_transactions_run_id_idx (run_id): no query filters or joins on run_id (run
--   identity is the SHA-256 in run_identities).
-- - benchmark_snapshots_transaction_id_idx (transaction_id): no query looks a snapshot up by
--   its run. With it gone, the latest-snapshot upsert changes no indexed column, so with free
--   room on the page (fillfactor 70) it is a HOT update: no index entry at all, where it added
--   one to each of the table's six indexes.
-- - metric_observations_in_control_idx: the reference query (assess_runs: the first
--   reference_runs - 1 in-control runs after the baseline) reads the same key range through
--   metric_observations_series_idx (same columns, scanned backward) and filters the rare
--   out-of-control rows; the other detection reads already use that index.
--
-- Queries, and so answers, are unchanged: only which index serves them.

drop index public.benchmark_transactions_id_idx;
drop index public.benchmark_transactions_run_id_idx;
drop index public.benchmark_snapshots_transaction_id_idx;
drop index benchwatch_private.metric_observations_in_control_idx;

alter table public.benchmark_snapshots set (fillfactor = 70);
