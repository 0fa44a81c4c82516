CREATE OR REPLACE FUNCTION benchwatch_private.own_stderr (
  p_value        numeric,
  p_proportion   boolean,
  p_dataset_size integer,
  p_stderr       numeric,
  p_trials       numeric[]
)
  RETURNS numeric
  LANGUAGE plpgsql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
declare
  v_binomial numeric := case when p_proportion and p_dataset_size > 0 and p_value between 0 and 1
                             then pg_catalog.sqrt(p_value * (1 - p_value) / p_dataset_size) end;
begin
  if p_trials is null or coalesce(pg_catalog.cardinality(p_trials), 0) < 2 then
    return greatest(v_binomial, p_stderr);
  end if;
  return greatest(v_binomial, p_stderr,
    (select pg_catalog.stddev_samp(t) / pg_catalog.sqrt(pg_catalog.count(*))
     from pg_catalog.unnest(p_trials) as t));
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."own_stderr"(numeric, boolean, integer, numeric, numeric[]) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."own_stderr"(numeric, boolean, integer, numeric, numeric[]) IS 'A run''s own standard error for one metric: the largest of sqrt(p(1-p)/dataset_size) (proportion metrics), the reported metric_stderr, and sd/sqrt(k) of metric_trials.';

REVOKE ALL ON FUNCTION "benchwatch_private"."own_stderr"(numeric, boolean, integer, numeric, numeric[]) FROM PUBLIC;
