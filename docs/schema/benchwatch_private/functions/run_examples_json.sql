CREATE OR REPLACE FUNCTION benchwatch_private.run_examples_json (
  p_transaction_id uuid,
  p_filters        jsonb
)
  RETURNS jsonb
  LANGUAGE plpgsql
  STABLE
  SET search_path TO ''
  AS $function$
declare
  v_metric text := nullif(p_filters ->> 'metric', '');
  v_slice text := p_filters ->> 'slice';
  v_change text := coalesce(nullif(p_filters ->> 'change', ''), 'all');
  v_limit integer := coalesce((p_filters ->> 'limit')::integer, 200);
  v_offset integer := coalesce((p_filters ->> 'offset')::integer, 0);
  v_run public.benchmark_transactions;
  v_base uuid;
  v_flipped jsonb;
  v_total integer;
begin
  if v_change not in ('all', 'worse', 'better') or v_limit not between 1 and 1000 or v_offset < 0 then
    raise exception using
      errcode = 'BW020',
      message = 'Cannot read examples: change must be all, worse or better; limit 1 to 1000; offset not negative';
  end if;
  select t.* into v_run from public.benchmark_transactions t where t.id = p_transaction_id;
  if not found then
    return null;
  end if;
  select pr.baseline_transaction_id into v_base
  from benchwatch_private.paired_results pr
  where pr.transaction_id = p_transaction_id
  limit 1;

  with flips as (
    select pr.metric_name, c.example_id, c.slice, b.value as baseline_value, c.value as current_value,
           case when (case when pr.direction = 'lower' then b.value - c.value else c.value - b.value end) < 0
                then 'worse' else 'better' end as change
    from benchwatch_private.paired_results pr
    cross join lateral benchwatch_private.example_values(pr.transaction_id, pr.metric_name) as c
    join benchwatch_private.example_values(pr.baseline_transaction_id, pr.metric_name) as b
      on b.example_id = c.example_id
    where pr.transaction_id = p_transaction_id and pr.slice is null
      and (v_metric is null or pr.metric_name = v_metric)
      and (v_slice is null or coalesce(c.slice, '') = v_slice)
      and c.value <> b.value
  ),
  picked as (
    select f.* from flips f where v_change = 'all' or f.change = v_change
  )
  select (select pg_catalog.count(*)::integer from picked),
         coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                     'metric_name', p.metric_name, 'example_id', p.example_id, 'slice', p.slice,
                     'baseline_value', p.baseline_value, 'current_value', p.current_value,
                     'change', p.change) order by p.change desc, p.metric_name, p.slice, p.example_id)
                   from (select x.* from picked x
                         order by x.change desc, x.metric_name, x.slice, x.example_id
                         limit v_limit offset v_offset) as p), '[]'::jsonb)
  into v_total, v_flipped;

  return pg_catalog.jsonb_build_object(
    'transaction_id', v_run.id,
    'created_at', v_run.created_at,
    'commit_sha', v_run.commit_sha,
    'series', pg_catalog.jsonb_build_object(
      'model_version', v_run.model_version, 'model_provider', v_run.model_provider,
      'dataset_version', v_run.dataset_version, 'prompt_version', v_run.prompt_version,
      'environment', v_run.environment),
    'baseline_transaction_id', v_base,
    'q_level', (select d.q_level from benchwatch_private.paired_defaults d),
    'paired', coalesce(benchwatch_private.paired_json(p_transaction_id), '[]'::jsonb),
    'flipped', v_flipped,
    'total_flipped', v_total,
    'limit', v_limit,
    'offset', v_offset);
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."run_examples_json"(uuid, jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."run_examples_json"(uuid, jsonb) IS 'The Examples view of a run against its baseline (GET /benchmarks?view=examples): its paired rows per metric and slice (q-values) and the examples that flipped, filtered by metric, slice ('''' = unlabelled) and change (all, worse, better), limit (200) and offset; null when no run has that id. BW020 on a bad filter.';

REVOKE ALL ON FUNCTION "benchwatch_private"."run_examples_json"(uuid, jsonb) FROM PUBLIC;
