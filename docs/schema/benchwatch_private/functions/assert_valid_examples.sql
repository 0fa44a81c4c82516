CREATE OR REPLACE FUNCTION benchwatch_private.assert_valid_examples (
  p_examples jsonb,
  p_metrics  jsonb
)
  RETURNS void
  LANGUAGE plpgsql
  STABLE
  SET search_path TO ''
  AS $function$
declare
  v_max integer := (select d.max_examples from benchwatch_private.paired_defaults d);
  v_n integer;
  v_bad record;
begin
  if p_examples is null or pg_catalog.jsonb_typeof(p_examples) = 'null' then
    return;
  end if;
  if pg_catalog.jsonb_typeof(p_examples) <> 'array' then
    raise exception using
      errcode = 'BW030',
      message = 'Cannot record run: examples must be an array of {id, slice, scores} objects',
      detail = pg_catalog.format('got %s', pg_catalog.jsonb_typeof(p_examples));
  end if;
  v_n := pg_catalog.jsonb_array_length(p_examples);
  if v_n < 1 or v_n > v_max then
    raise exception using
      errcode = 'BW030',
      message = pg_catalog.format('Cannot record run: send 1 to %s examples per run', v_max),
      detail = pg_catalog.format('got %s', v_n),
      hint = 'Leave examples out, or record the eval set in several datasets.';
  end if;

  select e.i - 1 as idx, e.v into v_bad
  from pg_catalog.jsonb_array_elements(p_examples) with ordinality as e(v, i)
  where pg_catalog.jsonb_typeof(e.v) <> 'object'
     or pg_catalog.jsonb_typeof(e.v -> 'id') is distinct from 'string'
     or pg_catalog.length(pg_catalog.btrim(e.v ->> 'id')) not between 1 and 200
     or coalesce(pg_catalog.jsonb_typeof(e.v -> 'slice'), 'null') not in ('null', 'string')
     or pg_catalog.length(e.v ->> 'slice') > 200
     or pg_catalog.jsonb_typeof(e.v -> 'scores') is distinct from 'object'
     or e.v -> 'scores' = '{}'::jsonb
     or exists (select 1 from pg_catalog.jsonb_object_keys(e.v) as k(key)
                where k.key not in ('id', 'slice', 'scores'))
     or exists (select 1 from pg_catalog.jsonb_each(e.v -> 'scores') as s(key, value)
                where pg_catalog.jsonb_typeof(s.value) <> 'number')
  order by e.i
  limit 1;
  if found then
    raise exception using
      errcode = 'BW030',
      message = pg_catalog.format(
        'Cannot record run: examples[%s] must be {"id": text of 1 to 200 characters, "slice": optional text, "scores": {metric: number, ...}}',
        v_bad.idx),
      detail = pg_catalog.format('got %s', pg_catalog.left(v_bad.v::text, 200));
  end if;

  select e.v ->> 'id' as id, pg_catalog.count(*) as n into v_bad
  from pg_catalog.jsonb_array_elements(p_examples) as e(v)
  group by e.v ->> 'id'
  having pg_catalog.count(*) > 1
  order by 1
  limit 1;
  if found then
    raise exception using
      errcode = 'BW031',
      message = pg_catalog.format('Cannot record run: example id "%s" appears %s times', v_bad.id, v_bad.n),
      hint = 'Give every example of a run its own id.';
  end if;

  select s.key into v_bad
  from pg_catalog.jsonb_array_elements(p_examples) as e(v)
  cross join lateral pg_catalog.jsonb_object_keys(e.v -> 'scores') as s(key)
  where not (p_metrics ? s.key)
  order by 1
  limit 1;
  if found then
    raise exception using
      errcode = 'BW032',
      message = pg_catalog.format('Cannot record run: examples score metric "%s", which is not in metrics', v_bad.key),
      hint = 'Score examples only on metrics the run reports, or add the metric''s aggregate to metrics.';
  end if;
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."assert_valid_examples"(jsonb, jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."assert_valid_examples"(jsonb, jsonb) IS 'Validates a run''s examples against its metrics: an array of 1 to paired_defaults.max_examples {id, slice?, scores} objects (BW030), unique ids (BW031), score keys that are metrics of the run (BW032). JSON numbers are always finite.';

REVOKE ALL ON FUNCTION "benchwatch_private"."assert_valid_examples"(jsonb, jsonb) FROM PUBLIC;
