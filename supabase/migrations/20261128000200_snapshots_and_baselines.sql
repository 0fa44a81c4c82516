-- Snapshots and baselines: the latest state of every series and the baselines runs are
-- compared with.
--
-- * `public.benchmark_snapshots`: one row per series (model_version, model_provider,
--   dataset_version, prompt_version, environment) pointing at its newest run, plus pinned
--   baselines. A pinned baseline's metrics are frozen: later runs of the series never
--   overwrite it (the classify and pin triggers keep that true for direct SQL as well as for
--   the setup guide's `update benchmark_snapshots set is_baseline = true`). Its pages are
--   filled to 70% and no index covers a column the latest-snapshot upsert changes (nothing
--   looks a snapshot up by its run), so that update is a HOT update: no index entry at all.
-- * `public.v_latest_benchmarks`: the latest active snapshot per series.
-- * Pinning: `pin_baseline` / `unpin_baseline` (the CLI's `baseline pin`), over `pin_run`.

-- Tables --------------------------------------------------------------------------------------

CREATE TABLE "public"."benchmark_snapshots" (
  "id"               uuid                     NOT NULL DEFAULT gen_random_uuid(),
  "transaction_id"   uuid                     NOT NULL,
  "commit_sha"       text                     NOT NULL,
  "branch_name"      text,
  "model_version"    text                     NOT NULL,
  "model_provider"   text                     NOT NULL,
  "dataset_version"  text                     NOT NULL,
  "dataset_size"     integer,
  "prompt_version"   text                     NOT NULL,
  "environment"      text                     NOT NULL,
  "run_id"           text,
  "triggered_by"     text,
  "metrics"          jsonb                    NOT NULL,
  "duration_seconds" numeric,
  "tags"             text[]                   NOT NULL DEFAULT '{}'::text[],
  "notes"            text,
  "created_at"       timestamp with time zone NOT NULL,
  "is_active"        boolean                  NOT NULL DEFAULT true,
  "is_baseline"      boolean                  NOT NULL DEFAULT false,
  "pinned_at"        timestamp with time zone,
  "updated_at"       timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "benchmark_snapshots_one_baseline_per_series" EXCLUDE USING btree (model_version WITH =, model_provider WITH =, dataset_version WITH =, prompt_version
    WITH =, environment WITH =) WHERE ((pinned_at IS NOT NULL)) DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT "benchmark_snapshots_pkey" PRIMARY KEY (id),
  CONSTRAINT "benchmark_snapshots_metrics_valid" CHECK (benchwatch_private.metrics_are_valid(metrics))
) WITH (fillfactor = 70);

ALTER TABLE "public"."benchmark_snapshots"
  ENABLE ROW LEVEL SECURITY;

CREATE INDEX benchmark_snapshots_baseline_scope_idx ON public.benchmark_snapshots USING btree (dataset_version, environment, pinned_at DESC)
  WHERE (pinned_at IS NOT NULL);

CREATE UNIQUE INDEX benchmark_snapshots_latest_series_key ON public.benchmark_snapshots USING btree (model_version, model_provider, dataset_version, prompt_version, environment)
  WHERE (pinned_at IS NULL);

CREATE INDEX benchmark_snapshots_page_order_idx ON public.benchmark_snapshots USING btree (model_version, dataset_version, environment, model_provider, prompt_version) INCLUDE (id)
  WHERE ((pinned_at IS NULL) AND is_active);

COMMENT ON COLUMN "public"."benchmark_snapshots"."created_at" IS 'When the run shown here was recorded.';

COMMENT ON COLUMN "public"."benchmark_snapshots"."is_active" IS 'False hides the series from v_latest_benchmarks and detect_regression.';

COMMENT ON COLUMN "public"."benchmark_snapshots"."is_baseline" IS 'True on a pinned baseline row. Set it on a latest row to pin that run; clear it on a baseline row to unpin.';

COMMENT ON COLUMN "public"."benchmark_snapshots"."pinned_at" IS 'When the baseline was pinned; null on latest rows.';

COMMENT ON COLUMN "public"."benchmark_snapshots"."transaction_id" IS 'The run (benchmark_transactions.id) this row shows; a soft reference, because archival moves old runs.';

COMMENT ON TABLE "public"."benchmark_snapshots" IS 'Latest run per series (pinned_at is null) plus at most one frozen pinned baseline per series (is_baseline = true).';

-- Functions -----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION benchwatch_private.tg_benchmark_snapshots__classify()
  RETURNS TRIGGER
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
begin
  if tg_op = 'INSERT' then
    new.pinned_at := case when new.is_baseline then coalesce(new.pinned_at, pg_catalog.now()) end;
    return new;
  end if;

  if old.pinned_at is not null then
    -- A pinned baseline is frozen: only is_active may change, and is_baseline
    -- may be cleared to unpin it.
    if (new.transaction_id, new.commit_sha, new.branch_name, new.model_version, new.model_provider,
        new.dataset_version, new.dataset_size, new.prompt_version, new.environment, new.run_id,
        new.triggered_by, new.metrics, new.duration_seconds, new.tags, new.notes, new.created_at)
       is distinct from
       (old.transaction_id, old.commit_sha, old.branch_name, old.model_version, old.model_provider,
        old.dataset_version, old.dataset_size, old.prompt_version, old.environment, old.run_id,
        old.triggered_by, old.metrics, old.duration_seconds, old.tags, old.notes, old.created_at)
    then
      raise exception using
        errcode = 'BW011',
        message = 'Cannot change a pinned baseline: its metrics and series are frozen',
        detail = pg_catalog.format('baseline snapshot %s of model_version %s', old.id, old.model_version),
        hint = 'Unpin it (set is_baseline = false, or unpin_baseline()) and pin another run.';
    end if;
    new.pinned_at := old.pinned_at;
    return new;
  end if;

  -- A latest row: setting is_baseline pins it (the AFTER trigger does the rest).
  new.pinned_at := case when new.is_baseline then pg_catalog.now() end;
  return new;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__classify"() IS 'Trigger function: sets pinned_at when a row is pinned, and rejects changes to a pinned baseline (BW011).';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__classify"() FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.tg_benchmark_snapshots__pin()
  RETURNS TRIGGER
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
begin
  if tg_op = 'UPDATE' and old.pinned_at is not null and old.is_baseline = new.is_baseline then
    -- A baseline row touched without a pin change (e.g. is_active) needs nothing.
    return null;
  end if;

  if not new.is_baseline then
    -- Unpin: the series keeps its latest row; the baseline row goes.
    delete from public.benchmark_snapshots where id = new.id;
    return null;
  end if;

  -- A second pin replaces the first.
  delete from public.benchmark_snapshots s
  where s.pinned_at is not null
    and s.id <> new.id
    and s.model_version = new.model_version
    and s.model_provider = new.model_provider
    and s.dataset_version = new.dataset_version
    and s.prompt_version = new.prompt_version
    and s.environment = new.environment;

  if tg_op = 'UPDATE' and old.pinned_at is null then
    -- The pinned row was the series' latest row: put a latest row back.
    insert into public.benchmark_snapshots (
      transaction_id, commit_sha, branch_name, model_version, model_provider, dataset_version,
      dataset_size, prompt_version, environment, run_id, triggered_by, metrics, duration_seconds,
      tags, notes, created_at, is_active, is_baseline, updated_at)
    values (
      new.transaction_id, new.commit_sha, new.branch_name, new.model_version, new.model_provider,
      new.dataset_version, new.dataset_size, new.prompt_version, new.environment, new.run_id,
      new.triggered_by, new.metrics, new.duration_seconds, new.tags, new.notes, new.created_at,
      old.is_active, false, pg_catalog.now());
  end if;
  return null;
end
$function$;

COMMENT ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__pin"() IS 'Trigger function: completes a pin (restores the latest row, replaces the previous baseline) or an unpin (removes the baseline row).';

REVOKE ALL ON FUNCTION "benchwatch_private"."tg_benchmark_snapshots__pin"() FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE OR REPLACE FUNCTION benchwatch_private.pin_run (
  p_transaction_id uuid
)
  RETURNS uuid
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "benchwatch_private"."pin_run"(uuid) IS 'Inserts a frozen baseline row for the recorded run p_transaction_id (the pin trigger replaces any earlier baseline of the series).';

REVOKE ALL ON FUNCTION "benchwatch_private"."pin_run"(uuid) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "benchwatch_private"."pin_run"(uuid) TO "service_role";

CREATE OR REPLACE FUNCTION public.pin_baseline (
  p_transaction_id uuid
)
  RETURNS uuid
  LANGUAGE sql
  SET search_path TO ''
  AS $function$
  select benchwatch_private.pin_run(p_transaction_id)
$function$;

COMMENT ON FUNCTION "public"."pin_baseline"(uuid) IS 'Pins the recorded run p_transaction_id as the pinned baseline of its series (replacing any earlier one) and returns the baseline snapshot id.';

REVOKE ALL ON FUNCTION "public"."pin_baseline"(uuid) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "public"."pin_baseline"(uuid) TO "service_role";

CREATE OR REPLACE FUNCTION public.unpin_baseline (
  p_model_version   text,
  p_environment     text,
  p_dataset_version text DEFAULT NULL::text,
  p_model_provider  text DEFAULT NULL::text,
  p_prompt_version  text DEFAULT NULL::text
)
  RETURNS integer
  LANGUAGE plpgsql
  SET search_path TO ''
  AS $function$
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
$function$;

COMMENT ON FUNCTION "public"."unpin_baseline"(text, text, text, text, text) IS 'Unpins the baselines of a model_version in an environment (optionally narrowed by dataset, provider and prompt); returns how many were unpinned. The series keep their latest rows.';

REVOKE ALL ON FUNCTION "public"."unpin_baseline"(text, text, text, text, text) FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT EXECUTE ON FUNCTION "public"."unpin_baseline"(text, text, text, text, text) TO "service_role";

-- Triggers, row level security policies and grants --------------------------------------------

REVOKE ALL ON TABLE "public"."benchmark_snapshots" FROM PUBLIC, "anon", "authenticated", "service_role";

CREATE TRIGGER benchmark_snapshots_classify
  BEFORE INSERT OR UPDATE ON public.benchmark_snapshots
  FOR EACH ROW
  EXECUTE FUNCTION benchwatch_private.tg_benchmark_snapshots__classify();

CREATE TRIGGER benchmark_snapshots_pin
  AFTER INSERT OR UPDATE ON public.benchmark_snapshots
  FOR EACH ROW
  WHEN ((new.pinned_at IS NOT NULL))
  EXECUTE FUNCTION benchwatch_private.tg_benchmark_snapshots__pin();

CREATE POLICY "benchmark_snapshots_delete_service_role" ON "public"."benchmark_snapshots"
  FOR DELETE
  TO "service_role"
  USING (true);

CREATE POLICY "benchmark_snapshots_select_anon" ON "public"."benchmark_snapshots"
  FOR SELECT
  TO "anon"
  USING (true);

CREATE POLICY "benchmark_snapshots_select_authenticated" ON "public"."benchmark_snapshots"
  FOR SELECT
  TO "authenticated"
  USING (true);

CREATE POLICY "benchmark_snapshots_select_service_role" ON "public"."benchmark_snapshots"
  FOR SELECT
  TO "service_role"
  USING (true);

CREATE POLICY "benchmark_snapshots_update_service_role" ON "public"."benchmark_snapshots"
  FOR UPDATE
  TO "service_role"
  USING (true)
  WITH CHECK (true);

GRANT SELECT ON TABLE "public"."benchmark_snapshots" TO "anon", "authenticated";

GRANT DELETE, SELECT, UPDATE ON TABLE "public"."benchmark_snapshots" TO "service_role";

-- Views ---------------------------------------------------------------------------------------

CREATE VIEW "public"."v_latest_benchmarks" WITH (security_invoker=true) AS  SELECT s.id,
    s.transaction_id,
    s.commit_sha,
    s.branch_name,
    s.model_version,
    s.model_provider,
    s.dataset_version,
    s.dataset_size,
    s.prompt_version,
    s.environment,
    s.run_id,
    s.triggered_by,
    s.metrics,
    s.duration_seconds,
    s.tags,
    s.notes,
    s.created_at,
    s.updated_at,
    s.is_active,
    s.is_baseline,
    (EXISTS ( SELECT 1
           FROM public.benchmark_snapshots b
          WHERE ((b.pinned_at IS NOT NULL) AND (b.model_version = s.model_version) AND (b.model_provider = s.model_provider) AND (b.dataset_version = s.dataset_version) AND (b.prompt_version = s.prompt_version) AND (b.environment = s.environment)))) AS has_pinned_baseline
   FROM public.benchmark_snapshots s
  WHERE ((s.pinned_at IS NULL) AND s.is_active);

COMMENT ON VIEW "public"."v_latest_benchmarks" IS 'Latest active run per series (model_version, model_provider, dataset_version, prompt_version, environment), with whether the series has a pinned baseline.';

REVOKE ALL ON TABLE "public"."v_latest_benchmarks" FROM PUBLIC, "anon", "authenticated", "service_role";

GRANT SELECT ON TABLE "public"."v_latest_benchmarks" TO "anon", "authenticated";

GRANT SELECT ON TABLE "public"."v_latest_benchmarks" TO "service_role";
