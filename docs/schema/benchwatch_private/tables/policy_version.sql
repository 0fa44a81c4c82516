CREATE TABLE "benchwatch_private"."policy_version" (
  "id"      boolean NOT NULL DEFAULT true,
  "version" bigint  NOT NULL DEFAULT 1,
  CONSTRAINT "policy_version_one_row" CHECK (id),
  CONSTRAINT "policy_version_pkey" PRIMARY KEY (id)
);

ALTER TABLE "benchwatch_private"."policy_version"
  ENABLE ROW LEVEL SECURITY;

CREATE POLICY "policy_version_select_service_role" ON "benchwatch_private"."policy_version"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."policy_version" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."policy_version" TO "service_role";

COMMENT ON TABLE "benchwatch_private"."policy_version" IS 'One row: the version of metric_policies and detection_defaults together, bumped by triggers on every change to either. A resolved_policies row of another version is not read.';
