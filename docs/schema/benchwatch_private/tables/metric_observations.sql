CREATE TABLE "benchwatch_private"."metric_observations" (
  "transaction_id"  uuid                     NOT NULL,
  "metric_name"     text                     NOT NULL,
  "seq"             bigint                   GENERATED ALWAYS AS IDENTITY NOT NULL,
  "model_version"   text                     NOT NULL,
  "model_provider"  text                     NOT NULL,
  "dataset_version" text                     NOT NULL,
  "prompt_version"  text                     NOT NULL,
  "environment"     text                     NOT NULL,
  "created_at"      timestamp with time zone NOT NULL,
  "value"           numeric                  NOT NULL,
  "dataset_size"    integer,
  "reported_stderr" numeric,
  "trials"          numeric[],
  "own_stderr"      numeric,
  "reference_value" numeric,
  "noise"           numeric,
  "z"               numeric,
  "out_of_control"  boolean                  NOT NULL DEFAULT false,
  "back_in_control" boolean                  NOT NULL DEFAULT true,
  CONSTRAINT "metric_observations_pkey" PRIMARY KEY (transaction_id, metric_name)
);

ALTER TABLE "benchwatch_private"."metric_observations"
  ENABLE ROW LEVEL SECURITY;

CREATE INDEX metric_observations_series_idx ON benchwatch_private.metric_observations
  USING btree (model_version, model_provider, dataset_version, prompt_version, environment, metric_name, created_at DESC, seq DESC);

CREATE POLICY "metric_observations_select_service_role" ON "benchwatch_private"."metric_observations"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."metric_observations" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."metric_observations" TO "service_role";

COMMENT ON COLUMN "benchwatch_private"."metric_observations"."own_stderr" IS 'The run''s own standard error: the largest of sqrt(p(1-p)/dataset_size) for proportion metrics, metric_stderr, and sd/sqrt(k) of metric_trials.';

COMMENT ON TABLE "benchwatch_private"."metric_observations" IS 'One row per recorded run and metric: the value, what the run said about its own sampling error (dataset_size, metric_stderr, metric_trials), and the alerting verdict (out_of_control, back_in_control) that later runs read.';
