CREATE TYPE "benchwatch_private"."assess_input" AS (
  "ord"                     integer,
  "model_version"           text,
  "model_provider"          text,
  "dataset_version"         text,
  "prompt_version"          text,
  "environment"             text,
  "transaction_id"          uuid,
  "as_of"                   timestamp WITH time zone,
  "baseline_transaction_id" uuid,
  "baseline_snapshot_id"    uuid,
  "metric"                  text,
  "value"                   numeric,
  "own_stderr"              numeric,
  "direction"               text,
  "relative_threshold"      numeric,
  "absolute_floor"          numeric,
  "baseline_value"          numeric
);

GRANT USAGE ON TYPE "benchwatch_private"."assess_input" TO "postgres";

COMMENT ON TYPE "benchwatch_private"."assess_input" IS 'One metric of one run for assess_runs: the run (ord, series, transaction, time, baseline), the metric''s value and own standard error, its comparison policy and its baseline value.';
