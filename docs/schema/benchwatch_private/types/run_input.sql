CREATE TYPE "benchwatch_private"."run_input" AS (
  "ord"              integer,
  "round"            integer,
  "tx_id"            uuid,
  "identity_hash"    bytea,
  "identity_kind"    text,
  "request_hash"     bytea,
  "commit_sha"       text,
  "branch_name"      text,
  "model_version"    text,
  "model_provider"   text,
  "dataset_version"  text,
  "dataset_size"     integer,
  "prompt_version"   text,
  "environment"      text,
  "run_id"           text,
  "triggered_by"     text,
  "metrics"          jsonb,
  "duration_seconds" numeric,
  "tags"             text[],
  "notes"            text,
  "created_at"       timestamp WITH time zone,
  "metric_stderr"    jsonb,
  "metric_trials"    jsonb
);

GRANT USAGE ON TYPE "benchwatch_private"."run_input" TO "postgres";

COMMENT ON TYPE "benchwatch_private"."run_input" IS 'One run of a batch, validated by parse_run: its position (ord), its round in record_runs, the transaction id it gets if new, its identity and request hashes, and its fields.';
