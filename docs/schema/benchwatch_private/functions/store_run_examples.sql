CREATE OR REPLACE FUNCTION benchwatch_private.store_run_examples (
  p_tx_id           uuid,
  p_dataset_version text,
  p_examples        jsonb
)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
declare
  v_ids text[];
  v_slices text[];
  v_hash bytea;
  v_set bigint;
begin
  select pg_catalog.array_agg(e.v ->> 'id' order by (e.v ->> 'id') collate "C"),
         case when pg_catalog.bool_or(e.v ->> 'slice' is not null)
              then pg_catalog.array_agg(e.v ->> 'slice' order by (e.v ->> 'id') collate "C") end
  into v_ids, v_slices
  from pg_catalog.jsonb_array_elements(p_examples) as e(v);

  v_hash := pg_catalog.sha256(pg_catalog.convert_to(
    pg_catalog.jsonb_build_array(p_dataset_version, v_ids, v_slices)::text, 'UTF8'));
  insert into benchwatch_private.example_sets (ids_hash, dataset_version, example_ids, slices)
  values (v_hash, p_dataset_version, v_ids, v_slices)
  on conflict (ids_hash) do nothing
  returning id into v_set;
  if v_set is null then
    select s.id into v_set from benchwatch_private.example_sets s where s.ids_hash = v_hash;
  end if;

  insert into benchwatch_private.run_examples (
    transaction_id, metric_name, example_set_id, kind, outcomes, present, scores, n, mean)
  select p_tx_id, m.metric, v_set,
         case when m.is_binary then 'binary' else 'graded' end,
         case when m.is_binary then m.bits::bit varying end,
         case when m.is_binary and m.n < pg_catalog.cardinality(v_ids) then m.present::bit varying end,
         case when not m.is_binary then m.vals end,
         m.n, m.mean
  from (
    select k.metric,
           pg_catalog.bool_and(x.val in (0, 1)) as is_binary,
           pg_catalog.string_agg(case when x.val = 1 then '1' else '0' end, '' order by x.id collate "C") as bits,
           pg_catalog.string_agg(case when x.val is null then '0' else '1' end, '' order by x.id collate "C") as present,
           pg_catalog.array_agg(x.val order by x.id collate "C") as vals,
           pg_catalog.count(x.val)::integer as n,
           pg_catalog.avg(x.num) as mean
    from (select distinct s.key as metric
          from pg_catalog.jsonb_array_elements(p_examples) as e(v)
          cross join lateral pg_catalog.jsonb_object_keys(e.v -> 'scores') as s(key)) as k
    cross join lateral (
      select e.v ->> 'id' as id, (e.v -> 'scores' ->> k.metric)::float8 as val,
             (e.v -> 'scores' ->> k.metric)::numeric as num
      from pg_catalog.jsonb_array_elements(p_examples) as e(v)
    ) as x
    group by k.metric
  ) as m;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."store_run_examples"(uuid, text, jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."store_run_examples"(uuid, text, jsonb) IS 'Stores a validated run''s examples: the sorted id list (and slices) in example_sets once per distinct list, then one run_examples row per scored metric (a bit string when every score is 0 or 1, else float8 scores), aligned to that list.';

REVOKE ALL ON FUNCTION "benchwatch_private"."store_run_examples"(uuid, text, jsonb) FROM PUBLIC;
