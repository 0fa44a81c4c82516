CREATE OR REPLACE FUNCTION benchwatch_private.evidence (
  p_values            numeric[],
  p_higher            boolean,
  p_reference         numeric,
  p_tolerance         numeric,
  p_noise             numeric,
  p_run_noise         numeric,
  p_reference_noise   numeric,
  p_confirmation_runs integer,
  p_clip_z            numeric,
  p_evidence_z        numeric,
  p_sensitivity       numeric,
  OUT                 each_beyond boolean,
  OUT                 evident boolean
)
  RETURNS record
  LANGUAGE plpgsql
  IMMUTABLE
  PARALLEL SAFE
  SET search_path TO ''
  AS $function$
declare
  v_tol float8 := p_tolerance;
  v_nz float8 := p_noise;
  v_run2 float8 := coalesce(p_run_noise, 0)::float8 ^ 2;
  v_ref2 float8 := coalesce(p_reference_noise, 0)::float8 ^ 2;
  v_cap float8 := p_tolerance + p_clip_z * coalesce(p_noise, 0);
  -- The confirming runs before the newest: beyond tolerance less one noise unit.
  v_tol_prev float8 := p_tolerance - coalesce(p_noise, 0);
  v_b float8;
  v_sum float8 := 0;
  v_mean float8;
  v_se float8;
begin
  each_beyond := pg_catalog.cardinality(p_values) >= p_confirmation_runs;
  evident := false;
  for i in 1 .. pg_catalog.cardinality(p_values) loop
    v_b := case when p_higher then p_reference - p_values[i] else p_values[i] - p_reference end;
    if i <= p_confirmation_runs
       and not (v_b > 0 and v_b > case when i = 1 then v_tol else v_tol_prev end) then
      each_beyond := false;
      return;
    end if;
    v_sum := v_sum + case when v_nz > 0 then least(v_b, v_cap) else v_b end;
    if i >= p_confirmation_runs then
      if v_nz is null then
        evident := true;
        return;
      end if;
      v_mean := v_sum / i;
      v_se := pg_catalog.sqrt(v_run2 / i + v_ref2);
      if v_mean - v_tol > p_evidence_z * v_se and v_mean > p_sensitivity * v_se then
        evident := true;
        return;
      end if;
    end if;
  end loop;
end
$function$;

GRANT EXECUTE
  ON FUNCTION "benchwatch_private"."evidence"(numeric[], boolean, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric)
  TO "postgres", "service_role";

COMMENT ON FUNCTION "benchwatch_private"."evidence"(numeric[], boolean, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric) IS
  'The opening test of assess_runs for one metric of one run: whether the newest value is beyond tolerance and the other last confirmation_runs values beyond zero and beyond tolerance less one noise unit (each_beyond), and whether the clipped mean change of the last j values clears tolerance by evidence_z standard errors and noise by sensitivity (assess_runs passes alarm_z).';

REVOKE ALL ON FUNCTION "benchwatch_private"."evidence"(numeric[], boolean, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric) FROM PUBLIC;
