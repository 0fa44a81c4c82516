-- Why: the ingest Edge Function accepts a batch of up to 1000 runs, all or
-- nothing. `benchwatch_private.ingest_runs` records them with record_run, in
-- order, inside the caller's one transaction, so a bad run anywhere leaves
-- nothing behind and the error names the run's index. The Idempotency-Key of
-- a batch is split per run ('<key>#<index>'), so a replayed batch returns every
-- run's first answer and concurrent duplicates still write each run once
-- (record_run claims identities with INSERT ... ON CONFLICT, which waits for
-- the first transaction and then replays its stored answer). A blank key is
-- no key, as in record_run. Each answer is record_run's, plus the snapshot_id
-- of the run's series (the ingest answer names it).

-- record_run's answer does not name the series' snapshot; the ingest answer does.
create or replace function benchwatch_private.with_snapshot_id(p_response jsonb)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select case
    when p_response ? 'snapshot_id' then p_response
    else p_response || pg_catalog.jsonb_build_object('snapshot_id', (
      select s.id
      from public.benchmark_snapshots s
      where s.pinned_at is null
        and s.model_version = p_response -> 'series' ->> 'model_version'
        and s.model_provider = p_response -> 'series' ->> 'model_provider'
        and s.dataset_version = p_response -> 'series' ->> 'dataset_version'
        and s.prompt_version = p_response -> 'series' ->> 'prompt_version'
        and s.environment = p_response -> 'series' ->> 'environment'))
  end
$$;

comment on function benchwatch_private.with_snapshot_id(jsonb) is
  'Adds snapshot_id (the id of the series'' latest snapshot row) to a record_run answer.';

revoke execute on function benchwatch_private.with_snapshot_id(jsonb) from public, anon, authenticated;
grant execute on function benchwatch_private.with_snapshot_id(jsonb) to service_role;

create or replace function benchwatch_private.ingest_runs(p_runs jsonb, p_idempotency_key text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_count integer;
  v_index integer := 0;
  v_answer jsonb;
  v_results jsonb[] := '{}'::jsonb[];
  v_state text;
  v_message text;
  v_detail text;
  v_hint text;
begin
  if p_runs is null or pg_catalog.jsonb_typeof(p_runs) <> 'array' then
    raise exception using
      errcode = 'BW013',
      message = 'Cannot record runs: the body must be a JSON array of runs',
      detail = pg_catalog.format('got %s', coalesce(pg_catalog.jsonb_typeof(p_runs), 'null'));
  end if;

  v_count := pg_catalog.jsonb_array_length(p_runs);
  if v_count = 0 then
    raise exception using
      errcode = 'BW013',
      message = 'Cannot record runs: the batch is empty',
      hint = 'Send between 1 and 1000 runs.';
  end if;
  if v_count > 1000 then
    raise exception using
      errcode = 'BW013',
      message = 'Cannot record runs: a batch holds at most 1000 runs',
      detail = pg_catalog.format('got %s runs', v_count),
      hint = 'Split the batch into several requests.';
  end if;

  -- One run: no subtransaction, and its error is record_run's own.
  if v_count = 1 then
    v_answer := benchwatch_private.record_run(p_runs -> 0, p_idempotency_key);
    return pg_catalog.jsonb_build_object('runs', pg_catalog.jsonb_build_array(
      benchwatch_private.with_snapshot_id(v_answer)));
  end if;

  -- One exception block around the whole loop (a subtransaction per run would be
  -- costly); any error aborts the caller's transaction, so nothing is stored.
  begin
    while v_index < v_count loop
      v_answer := benchwatch_private.record_run(
        p_runs -> v_index,
        nullif(pg_catalog.btrim(p_idempotency_key), '') || '#' || v_index::text);
      -- A statement of its own, so its snapshot sees what record_run wrote.
      v_results := v_results || benchwatch_private.with_snapshot_id(v_answer);
      v_index := v_index + 1;
    end loop;
  exception
    when others then
      get stacked diagnostics
        v_state = returned_sqlstate,
        v_message = message_text,
        v_detail = pg_exception_detail,
        v_hint = pg_exception_hint;
      v_message := pg_catalog.format('runs[%s]: %s', v_index, v_message);
      -- RAISE refuses null options and would send empty ones, so pass only what exists.
      if v_detail <> '' and v_hint <> '' then
        raise exception using errcode = v_state, message = v_message, detail = v_detail, hint = v_hint;
      elsif v_detail <> '' then
        raise exception using errcode = v_state, message = v_message, detail = v_detail;
      elsif v_hint <> '' then
        raise exception using errcode = v_state, message = v_message, hint = v_hint;
      else
        raise exception using errcode = v_state, message = v_message;
      end if;
  end;

  return pg_catalog.jsonb_build_object('runs', pg_catalog.to_jsonb(v_results));
end
$$;

comment on function benchwatch_private.ingest_runs(jsonb, text) is
  'Batch ingest: records a JSON array of 1 to 1000 runs with record_run, all or nothing, and returns {"runs": [verdict + snapshot_id, ...]} in input order. A batch''s Idempotency-Key becomes <key>#<index> per run; errors keep their SQLSTATE and, in a batch, name the run as runs[<index>].';

revoke execute on function benchwatch_private.ingest_runs(jsonb, text) from public, anon, authenticated;
grant execute on function benchwatch_private.ingest_runs(jsonb, text) to service_role;
