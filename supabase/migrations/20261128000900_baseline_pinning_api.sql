-- Why: the setup guide pins a baseline with an UPDATE of benchmark_snapshots;
-- the CLI and the maintainer also need to pin a specific recorded run (not
-- only the latest one) and to unpin. These two functions do that through the
-- same rows and triggers as the guide's UPDATE, so the rules (frozen metrics,
-- at most one baseline per series, a second pin replaces the first) hold
-- whichever way a baseline is pinned.

-- Security definer so service_role can pin without an INSERT grant on
-- benchmark_snapshots (rows there are otherwise written only by record_run).
create or replace function benchwatch_private.pin_run(p_transaction_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_run public.benchmark_transactions%rowtype;
  v_snapshot_id uuid;
begin
  select t.* into v_run
  from public.benchmark_transactions t
  where t.id = p_transaction_id
  order by t.created_at desc
  limit 1;

  if v_run.id is null then
    raise exception using
      errcode = 'BW010',
      message = 'Cannot pin baseline: no run with this id',
      detail = pg_catalog.format('transaction id %s', coalesce(p_transaction_id::text, 'null')),
      hint = 'Pass the uuid that upsert_benchmark_result returned; archived runs cannot be pinned.';
  end if;

  insert into public.benchmark_snapshots (
    transaction_id, commit_sha, branch_name, model_version, model_provider, dataset_version,
    dataset_size, prompt_version, environment, run_id, triggered_by, metrics, duration_seconds,
    tags, notes, created_at, is_active, is_baseline, updated_at)
  values (
    v_run.id, v_run.commit_sha, v_run.branch_name, v_run.model_version, v_run.model_provider,
    v_run.dataset_version, v_run.dataset_size, v_run.prompt_version, v_run.environment, v_run.run_id,
    v_run.triggered_by, v_run.metrics, v_run.duration_seconds, v_run.tags, v_run.notes,
    v_run.created_at, true, true, pg_catalog.now())
  returning id into v_snapshot_id;

  return v_snapshot_id;
end
$$;

comment on function benchwatch_private.pin_run(uuid) is
  'Inserts a frozen baseline row for the recorded run p_transaction_id (the pin trigger replaces any earlier baseline of the series).';

revoke execute on function benchwatch_private.pin_run(uuid) from public, anon, authenticated;
grant execute on function benchwatch_private.pin_run(uuid) to service_role;

create or replace function public.pin_baseline(p_transaction_id uuid)
returns uuid
language sql
volatile
security invoker
set search_path = ''
as $$
  select benchwatch_private.pin_run(p_transaction_id)
$$;

comment on function public.pin_baseline(uuid) is
  'Pins the recorded run p_transaction_id as the pinned baseline of its series (replacing any earlier one) and returns the baseline snapshot id.';

revoke execute on function public.pin_baseline(uuid) from public, anon, authenticated;
grant execute on function public.pin_baseline(uuid) to service_role;

create or replace function public.unpin_baseline(
  p_model_version text,
  p_environment text,
  p_dataset_version text default null,
  p_model_provider text default null,
  p_prompt_version text default null
)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_count integer;
begin
  delete from public.benchmark_snapshots s
  where s.pinned_at is not null
    and s.model_version = p_model_version
    and s.environment = p_environment
    and (p_dataset_version is null or s.dataset_version = p_dataset_version)
    and (p_model_provider is null or s.model_provider = p_model_provider)
    and (p_prompt_version is null or s.prompt_version = p_prompt_version);
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

comment on function public.unpin_baseline(text, text, text, text, text) is
  'Unpins the baselines of a model_version in an environment (optionally narrowed by dataset, provider and prompt); returns how many were unpinned. The series keep their latest rows.';

revoke execute on function public.unpin_baseline(text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.unpin_baseline(text, text, text, text, text) to service_role;
