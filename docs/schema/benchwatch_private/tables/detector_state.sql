CREATE TABLE "benchwatch_private"."detector_state" (
  "model_version"           text                     NOT NULL,
  "model_provider"          text                     NOT NULL,
  "dataset_version"         text                     NOT NULL,
  "prompt_version"          text                     NOT NULL,
  "environment"             text                     NOT NULL,
  "metric_name"             text                     NOT NULL,
  "window_size"             integer                  NOT NULL,
  "reference_runs"          integer                  NOT NULL,
  "last_created_at"         timestamp with time zone NOT NULL,
  "last_seq"                bigint                   NOT NULL,
  "last_transaction_ids"    uuid[]                   NOT NULL,
  "window_values"           numeric[]                NOT NULL,
  "window_back_in_control"  boolean[]                NOT NULL,
  "baseline_transaction_id" uuid,
  "baseline_created_at"     timestamp with time zone,
  "baseline_stderr"         numeric,
  "reference_values"        numeric[]                NOT NULL,
  CONSTRAINT "detector_state_pkey" PRIMARY KEY (model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
);

ALTER TABLE "benchwatch_private"."detector_state"
  ENABLE ROW LEVEL SECURITY;

ALTER TABLE "benchwatch_private"."detector_state"
  SET (fillfactor=50);

CREATE POLICY "detector_state_select_service_role" ON "benchwatch_private"."detector_state"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."detector_state" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."detector_state" TO "service_role";

COMMENT ON COLUMN "benchwatch_private"."detector_state"."baseline_created_at" IS 'created_at of that baseline.';

COMMENT ON COLUMN "benchwatch_private"."detector_state"."baseline_stderr" IS 'own_stderr of the baseline''s observation of this metric.';

COMMENT ON COLUMN "benchwatch_private"."detector_state"."baseline_transaction_id" IS 'The transaction of the series'' own pinned baseline (benchmark_snapshots), null without one.';

COMMENT ON COLUMN "benchwatch_private"."detector_state"."last_created_at" IS 'created_at of the newest observation (by created_at, then seq).';

COMMENT ON COLUMN "benchwatch_private"."detector_state"."last_seq" IS 'seq of the newest observation.';

COMMENT ON COLUMN "benchwatch_private"."detector_state"."last_transaction_ids" IS 'The transactions of every observation at last_created_at: a run at that same time is assessed from the state only if it is not one of them.';

COMMENT ON COLUMN "benchwatch_private"."detector_state"."reference_runs" IS 'reference_runs of the policy when the row was written: reference_values holds at most reference_runs - 1 values.';

COMMENT ON COLUMN "benchwatch_private"."detector_state"."reference_values" IS 'The first reference_runs - 1 in-control values after the baseline (created_at >= the baseline''s, not the baseline''s own), oldest first; with the baseline''s value they are the reference runs. Empty without a baseline; frozen once full.';

COMMENT ON COLUMN "benchwatch_private"."detector_state"."window_back_in_control" IS 'back_in_control of the same observations, in the same order.';

COMMENT ON COLUMN "benchwatch_private"."detector_state"."window_size" IS 'max(history_window, evidence_runs - 1) of the metric''s policy when the row was written: the length of window_values once the series has that many runs.';

COMMENT ON COLUMN "benchwatch_private"."detector_state"."window_values" IS 'The last window_size values, newest first (created_at desc, seq desc).';

COMMENT ON TABLE "benchwatch_private"."detector_state" IS 'The alert rule''s state per series and metric, so that detecting a new run reads one row instead of the series'' history: what metric_observations would give assess_runs for a run newer than every observation of the series and metric. Kept by record_runs in the run''s transaction and by the baseline pin triggers; rebuild_detector_state recomputes it from metric_observations, which stays the definition of truth (docs/detection.md, "Bounded cost"). Fillfactor 50 leaves room for HOT updates.';
