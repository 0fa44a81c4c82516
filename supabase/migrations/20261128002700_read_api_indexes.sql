-- Why: `benchwatch check` gates CI on a commit's verdict, so runs are looked up
-- by commit_sha (run_verdicts), in the log and in the archive. An index on the
-- partitioned log propagates to every partition, present and future.
-- Trends read a series' runs by time; benchmark_transactions_series_idx
-- (series columns, created_at desc) already serves that, in either direction.

create index if not exists benchmark_transactions_commit_sha_idx
  on public.benchmark_transactions (commit_sha);
create index if not exists benchmark_transactions_archive_commit_sha_idx
  on public.benchmark_transactions_archive (commit_sha);
