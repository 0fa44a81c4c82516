CREATE OR REPLACE FUNCTION benchwatch_private.paired_answer (
  p_answer jsonb
)
  RETURNS jsonb
  LANGUAGE plpgsql
  STABLE
  SET search_path TO ''
  AS $function$
declare
  v_paired jsonb := benchwatch_private.paired_json((p_answer ->> 'transaction_id')::uuid);
begin
  if v_paired is null then
    return p_answer;
  end if;
  return p_answer || pg_catalog.jsonb_build_object('paired', v_paired);
end
$function$;

GRANT EXECUTE ON FUNCTION "benchwatch_private"."paired_answer"(jsonb) TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."paired_answer"(jsonb) IS 'A run''s answer with its paired comparison added as "paired" (paired_json), unchanged when it has none.';

REVOKE ALL ON FUNCTION "benchwatch_private"."paired_answer"(jsonb) FROM PUBLIC;
