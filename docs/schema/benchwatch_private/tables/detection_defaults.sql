CREATE TABLE "benchwatch_private"."detection_defaults" (
  "id"                boolean NOT NULL DEFAULT true,
  "sensitivity"       numeric NOT NULL DEFAULT 2,
  "confirmation_runs" integer NOT NULL DEFAULT 2,
  "min_history"       integer NOT NULL DEFAULT 5,
  "history_window"    integer NOT NULL DEFAULT 30,
  "resolve_fraction"  numeric NOT NULL DEFAULT 0.5,
  "reference_runs"    integer NOT NULL DEFAULT 30,
  "evidence_runs"     integer NOT NULL DEFAULT 10,
  "evidence_z"        numeric NOT NULL DEFAULT 1.5,
  "clip_z"            numeric NOT NULL DEFAULT 2,
  "alarm_z"           numeric NOT NULL DEFAULT 3.5,
  "resolve_runs"      integer NOT NULL DEFAULT 4,
  CONSTRAINT "detection_defaults_alarm_z_nonnegative" CHECK ((alarm_z >= (0)::numeric)),
  CONSTRAINT "detection_defaults_clip_z_positive" CHECK ((clip_z > (0)::numeric)),
  CONSTRAINT "detection_defaults_confirmation_runs_valid" CHECK (((confirmation_runs >= 1) AND (confirmation_runs <= 20))),
  CONSTRAINT "detection_defaults_evidence_runs_valid" CHECK (((evidence_runs >= 1) AND (evidence_runs <= 20))),
  CONSTRAINT "detection_defaults_evidence_z_nonnegative" CHECK ((evidence_z >= (0)::numeric)),
  CONSTRAINT "detection_defaults_history_window_valid" CHECK (((history_window >= 3) AND (history_window <= 200))),
  CONSTRAINT "detection_defaults_min_history_valid" CHECK (((min_history >= 1) AND (min_history <= 50))),
  CONSTRAINT "detection_defaults_one_row" CHECK (id),
  CONSTRAINT "detection_defaults_pkey" PRIMARY KEY (id),
  CONSTRAINT "detection_defaults_reference_runs_valid" CHECK (((reference_runs >= 1) AND (reference_runs <= 100))),
  CONSTRAINT "detection_defaults_resolve_fraction_valid" CHECK (((resolve_fraction > (0)::numeric) AND (resolve_fraction <= (1)::numeric))),
  CONSTRAINT "detection_defaults_resolve_runs_positive" CHECK ((resolve_runs >= 1)),
  CONSTRAINT "detection_defaults_sensitivity_nonnegative" CHECK ((sensitivity >= (0)::numeric))
);

ALTER TABLE "benchwatch_private"."detection_defaults"
  ENABLE ROW LEVEL SECURITY;

CREATE TRIGGER detection_defaults_bump_policy_version
  AFTER INSERT OR DELETE OR UPDATE ON benchwatch_private.detection_defaults
  FOR EACH ROW
  EXECUTE FUNCTION benchwatch_private.tg_policies__bump_version();

CREATE TRIGGER detection_defaults_truncate_bump_policy_version
  AFTER TRUNCATE ON benchwatch_private.detection_defaults
  FOR EACH STATEMENT
  EXECUTE FUNCTION benchwatch_private.tg_policies__bump_version();

CREATE POLICY "detection_defaults_select_service_role" ON "benchwatch_private"."detection_defaults"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."detection_defaults" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."detection_defaults" TO "service_role";

COMMENT ON COLUMN "benchwatch_private"."detection_defaults"."alarm_z" IS 'Standard errors by which the mean change of the last runs must clear zero for an alert to open (with evidence_z past tolerance); a metric''s sensitivity applies instead when larger.';

COMMENT ON COLUMN "benchwatch_private"."detection_defaults"."resolve_runs" IS 'Consecutive runs back within resolve_fraction of the tolerance that resolve an open alert (at least the metric''s confirmation_runs, at most evidence_runs).';

COMMENT ON TABLE "benchwatch_private"."detection_defaults" IS 'Alerting defaults for knobs a metric policy leaves null: sensitivity 2, confirmation_runs 2, min_history 5, history_window 30; resolve_fraction 0.5 and resolve_runs 4 (an alert resolves once 4 consecutive runs, and at least confirmation_runs, are back within half the tolerance); reference_runs 30 (the reference level is the median of the baseline and the first 29 in-control runs after it); evidence_runs 10, evidence_z 1.5, clip_z 2, alarm_z 3.5 (an alert opens when the run is beyond tolerance, the other last confirmation_runs runs beyond tolerance less one noise unit, and the mean change of the last j runs, confirmation_runs <= j <= evidence_runs, each run clipped at tolerance + clip_z noise, is beyond tolerance by evidence_z standard errors and beyond zero by alarm_z).';
