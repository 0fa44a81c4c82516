CREATE TABLE "benchwatch_private"."resolved_policies" (
  "metric"             text    NOT NULL,
  "policy_version"     bigint  NOT NULL,
  "direction"          text,
  "relative_threshold" numeric,
  "absolute_floor"     numeric NOT NULL,
  "source"             text    NOT NULL,
  "sensitivity"        numeric NOT NULL,
  "confirmation_runs"  integer NOT NULL,
  "min_history"        integer NOT NULL,
  "history_window"     integer NOT NULL,
  "proportion"         boolean NOT NULL,
  "resolve_fraction"   numeric NOT NULL,
  "reference_runs"     integer NOT NULL,
  "evidence_runs"      integer NOT NULL,
  "evidence_z"         numeric NOT NULL,
  "clip_z"             numeric NOT NULL,
  "alarm_z"            numeric NOT NULL,
  "resolve_runs"       integer NOT NULL,
  "window_size"        integer NOT NULL,
  CONSTRAINT "resolved_policies_pkey" PRIMARY KEY (metric)
);

ALTER TABLE "benchwatch_private"."resolved_policies"
  ENABLE ROW LEVEL SECURITY;

CREATE POLICY "resolved_policies_select_service_role" ON "benchwatch_private"."resolved_policies"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."resolved_policies" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."resolved_policies" TO "service_role";

COMMENT ON COLUMN "benchwatch_private"."resolved_policies"."policy_version" IS 'policy_version.version read in the same statement as the policies this row was resolved from.';

COMMENT ON TABLE "benchwatch_private"."resolved_policies" IS 'Each metric name''s resolved policy at policy_version, so detection reads it by primary key instead of matching metric_policies'' patterns on every run: metric_policy''s direction, relative_threshold (the policy''s own, null when the caller''s threshold applies), absolute_floor and source; metric_detection_policy''s knobs; and, with detection_defaults, evidence_runs = max(evidence_runs, confirmation_runs), alarm_z = max(alarm_z, sensitivity), resolve_runs = min(max(resolve_runs, confirmation_runs), evidence_runs) and window_size = max(history_window, evidence_runs - 1). Written by record_runs (step 3b) for a batch''s metrics without a row of the current version; readers fall back to metric_policy / metric_detection_policy for a metric without one.';
