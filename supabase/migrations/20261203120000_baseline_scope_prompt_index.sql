-- An index for compare_runs' third baseline case (issue 22's full benchmark run, the deepest
-- snapshot page): a series with no pinned baseline of its own and none of its model's in the scope
-- takes the newest pinned baseline in the scope (dataset_version, environment) with its provider
-- and prompt_version. No index led with those columns, so each such series read every pinned
-- snapshot of its provider and prompt through benchmark_snapshots_one_baseline_per_series (~300 in
-- the benchmark's database) and sorted them: 0.21 ms per series, 22 ms of a 100-series page, which
-- put the deepest full snapshot page at 58 ms of SQL against 21 ms for the first. With this index
-- the probe is one index descent in compare_runs' own order (pinned_at desc, id), and that page
-- takes 11-14 ms. It holds pinned snapshots only (partial), so ingest, which writes unpinned ones,
-- never updates it.
create index benchmark_snapshots_baseline_scope_prompt_idx
  on public.benchmark_snapshots (dataset_version, environment, model_provider, prompt_version, pinned_at desc, id)
  where pinned_at is not null;

comment on index public.benchmark_snapshots_baseline_scope_prompt_idx is
  'compare_runs'' third baseline case: the newest pinned baseline in a series'' scope (dataset_version, environment) with its model_provider and prompt_version, by pinned_at desc, id.';
