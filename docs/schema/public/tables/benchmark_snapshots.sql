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
);

ALTER TABLE "public"."benchmark_snapshots"
  ENABLE ROW LEVEL SECURITY;

ALTER TABLE "public"."benchmark_snapshots"
  SET (fillfactor=70);

CREATE INDEX benchmark_snapshots_baseline_scope_idx ON public.benchmark_snapshots USING btree (dataset_version, environment, pinned_at DESC)
  WHERE (pinned_at IS NOT NULL);

CREATE INDEX benchmark_snapshots_baseline_scope_prompt_idx ON public.benchmark_snapshots
  USING btree (dataset_version, environment, model_provider, prompt_version, pinned_at DESC, id)
  WHERE (pinned_at IS NOT NULL);

CREATE UNIQUE INDEX benchmark_snapshots_latest_series_key ON public.benchmark_snapshots USING btree (model_version, model_provider, dataset_version, prompt_version, environment)
  WHERE (pinned_at IS NULL);

CREATE INDEX benchmark_snapshots_page_order_idx ON public.benchmark_snapshots USING btree (model_version, dataset_version, environment, model_provider, prompt_version) INCLUDE (id)
  WHERE ((pinned_at IS NULL) AND is_active);

CREATE TRIGGER benchmark_snapshots_classify
  BEFORE INSERT OR UPDATE ON public.benchmark_snapshots
  FOR EACH ROW
  EXECUTE FUNCTION benchwatch_private.tg_benchmark_snapshots__classify();

CREATE TRIGGER benchmark_snapshots_pin_detector_state
  AFTER INSERT OR UPDATE ON public.benchmark_snapshots
  FOR EACH ROW
  WHEN ((new.pinned_at IS NOT NULL))
  EXECUTE FUNCTION benchwatch_private.tg_benchmark_snapshots__detector_state();

CREATE TRIGGER benchmark_snapshots_pin
  AFTER INSERT OR UPDATE ON public.benchmark_snapshots
  FOR EACH ROW
  WHEN ((new.pinned_at IS NOT NULL))
  EXECUTE FUNCTION benchwatch_private.tg_benchmark_snapshots__pin();

CREATE TRIGGER benchmark_snapshots_unpin_detector_state
  AFTER DELETE ON public.benchmark_snapshots
  FOR EACH ROW
  WHEN ((old.pinned_at IS NOT NULL))
  EXECUTE FUNCTION benchwatch_private.tg_benchmark_snapshots__detector_state();

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

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."benchmark_snapshots" TO "postgres";

GRANT DELETE, SELECT, UPDATE ON TABLE "public"."benchmark_snapshots" TO "service_role";

COMMENT ON COLUMN "public"."benchmark_snapshots"."created_at" IS 'When the run shown here was recorded.';

COMMENT ON COLUMN "public"."benchmark_snapshots"."is_active" IS 'False hides the series from v_latest_benchmarks and detect_regression.';

COMMENT ON COLUMN "public"."benchmark_snapshots"."is_baseline" IS 'True on a pinned baseline row. Set it on a latest row to pin that run; clear it on a baseline row to unpin.';

COMMENT ON COLUMN "public"."benchmark_snapshots"."pinned_at" IS 'When the baseline was pinned; null on latest rows.';

COMMENT ON COLUMN "public"."benchmark_snapshots"."transaction_id" IS 'The run (benchmark_transactions.id) this row shows; a soft reference, because archival moves old runs.';

COMMENT ON INDEX "public"."benchmark_snapshots_baseline_scope_prompt_idx" IS 'compare_runs'' third baseline case: the newest pinned baseline in a series'' scope (dataset_version, environment) with its model_provider and prompt_version, by pinned_at desc, id.';

COMMENT ON TABLE "public"."benchmark_snapshots" IS 'Latest run per series (pinned_at is null) plus at most one frozen pinned baseline per series (is_baseline = true).';
