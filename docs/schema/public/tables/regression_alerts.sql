CREATE TABLE "public"."regression_alerts" (
  "id"                         uuid                     NOT NULL DEFAULT gen_random_uuid(),
  "model_version"              text                     NOT NULL,
  "model_provider"             text                     NOT NULL,
  "dataset_version"            text                     NOT NULL,
  "prompt_version"             text                     NOT NULL,
  "environment"                text                     NOT NULL,
  "metric_name"                text                     NOT NULL,
  "status"                     text                     NOT NULL DEFAULT 'open'::text,
  "direction"                  text                     NOT NULL,
  "relative_threshold"         numeric                  NOT NULL,
  "absolute_floor"             numeric                  NOT NULL,
  "baseline_snapshot_id"       uuid,
  "baseline_transaction_id"    uuid,
  "baseline_model_version"     text,
  "baseline_prompt_version"    text,
  "baseline_value"             numeric                  NOT NULL,
  "opened_transaction_id"      uuid                     NOT NULL,
  "opened_value"               numeric                  NOT NULL,
  "opened_relative_change"     numeric,
  "opened_at"                  timestamp with time zone NOT NULL DEFAULT now(),
  "last_transaction_id"        uuid                     NOT NULL,
  "last_value"                 numeric                  NOT NULL,
  "last_relative_change"       numeric,
  "last_seen_at"               timestamp with time zone NOT NULL DEFAULT now(),
  "regressing_run_count"       integer                  NOT NULL DEFAULT 1,
  "resolved_transaction_id"    uuid,
  "resolved_value"             numeric,
  "resolved_at"                timestamp with time zone,
  "opened_delivery_status"     text                     NOT NULL DEFAULT 'pending'::text,
  "opened_delivery_attempts"   integer                  NOT NULL DEFAULT 0,
  "opened_last_error"          text,
  "opened_last_attempt_at"     timestamp with time zone,
  "opened_notified_at"         timestamp with time zone,
  "resolved_delivery_status"   text,
  "resolved_delivery_attempts" integer                  NOT NULL DEFAULT 0,
  "resolved_last_error"        text,
  "resolved_last_attempt_at"   timestamp with time zone,
  "resolved_notified_at"       timestamp with time zone,
  "opened_next_attempt_at"     timestamp with time zone,
  "resolved_next_attempt_at"   timestamp with time zone,
  "opened_claimed_until"       timestamp with time zone,
  "resolved_claimed_until"     timestamp with time zone,
  "acknowledged_at"            timestamp with time zone,
  "acknowledged_by"            text,
  CONSTRAINT "regression_alerts_attempts_nonnegative" CHECK (((opened_delivery_attempts >= 0) AND (resolved_delivery_attempts >= 0))),
  CONSTRAINT "regression_alerts_direction_valid" CHECK ((direction = ANY (ARRAY['higher'::text, 'lower'::text]))),
  CONSTRAINT "regression_alerts_opened_delivery_valid"
    CHECK ((opened_delivery_status = ANY (ARRAY['pending'::text, 'sent'::text, 'skipped'::text, 'failed'::text, 'permanent_failure'::text]))),
  CONSTRAINT "regression_alerts_pkey" PRIMARY KEY (id),
  CONSTRAINT "regression_alerts_resolution_consistent"
    CHECK
    ((((status = 'open'::text) AND (resolved_at IS NULL) AND (resolved_transaction_id IS NULL) AND (resolved_delivery_status IS NULL)) OR ((status = 'resolved'::text) AND
    (resolved_at IS NOT NULL) AND (resolved_transaction_id IS NOT NULL) AND (resolved_delivery_status IS NOT NULL)))),
  CONSTRAINT "regression_alerts_resolved_delivery_valid"
    CHECK
    (((resolved_delivery_status IS NULL) OR (resolved_delivery_status = ANY (ARRAY['pending'::text, 'sent'::text, 'skipped'::text, 'failed'::text, 'permanent_failure'::text])))),
  CONSTRAINT "regression_alerts_status_valid" CHECK ((status = ANY (ARRAY['open'::text, 'resolved'::text])))
);

ALTER TABLE "public"."regression_alerts"
  ENABLE ROW LEVEL SECURITY;

CREATE UNIQUE INDEX regression_alerts_one_open_per_series_metric ON public.regression_alerts
  USING btree (model_version, model_provider, dataset_version, prompt_version, environment, metric_name)
  WHERE (status = 'open'::text);

CREATE INDEX regression_alerts_opened_transaction_idx ON public.regression_alerts USING btree (opened_transaction_id);

CREATE INDEX regression_alerts_opened_undelivered_idx ON public.regression_alerts USING btree (opened_at)
  WHERE (opened_delivery_status = ANY (ARRAY['pending'::text, 'failed'::text]));

CREATE INDEX regression_alerts_resolved_transaction_idx ON public.regression_alerts USING btree (resolved_transaction_id)
  WHERE (resolved_transaction_id IS NOT NULL);

CREATE INDEX regression_alerts_resolved_undelivered_idx ON public.regression_alerts USING btree (resolved_at)
  WHERE (resolved_delivery_status = ANY (ARRAY['pending'::text, 'failed'::text]));

CREATE INDEX regression_alerts_status_opened_at_idx ON public.regression_alerts USING btree (status, opened_at DESC);

CREATE POLICY "regression_alerts_select_anon" ON "public"."regression_alerts"
  FOR SELECT
  TO "anon"
  USING (true);

CREATE POLICY "regression_alerts_select_authenticated" ON "public"."regression_alerts"
  FOR SELECT
  TO "authenticated"
  USING (true);

CREATE POLICY "regression_alerts_select_service_role" ON "public"."regression_alerts"
  FOR SELECT
  TO "service_role"
  USING (true);

CREATE POLICY "regression_alerts_update_service_role" ON "public"."regression_alerts"
  FOR UPDATE
  TO "service_role"
  USING (true)
  WITH CHECK (true);

GRANT SELECT ON TABLE "public"."regression_alerts" TO "anon", "authenticated";

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."regression_alerts" TO "postgres";

GRANT SELECT, UPDATE ON TABLE "public"."regression_alerts" TO "service_role";

COMMENT ON COLUMN "public"."regression_alerts"."acknowledged_at" IS 'When someone acknowledged the alert; null if nobody has.';

COMMENT ON COLUMN "public"."regression_alerts"."acknowledged_by" IS 'Who acknowledged the alert, as they named themselves.';

COMMENT ON COLUMN "public"."regression_alerts"."opened_claimed_until" IS 'A deliverer holds the "opened" event until then; after it, the event may be claimed again.';

COMMENT ON COLUMN "public"."regression_alerts"."opened_delivery_status" IS 'Delivery of the "opened" event: pending, sent, skipped, failed (will retry) or permanent_failure.';

COMMENT ON COLUMN "public"."regression_alerts"."opened_next_attempt_at" IS 'When a failed "opened" delivery may be tried again (exponential backoff); null means now.';

COMMENT ON COLUMN "public"."regression_alerts"."regressing_run_count" IS 'How many runs in a row regressed while this alert was open.';

COMMENT ON COLUMN "public"."regression_alerts"."resolved_claimed_until" IS 'A deliverer holds the "resolved" event until then; after it, the event may be claimed again.';

COMMENT ON COLUMN "public"."regression_alerts"."resolved_delivery_status" IS 'Delivery of the "resolved" event; null while the alert is open.';

COMMENT ON COLUMN "public"."regression_alerts"."resolved_next_attempt_at" IS 'When a failed "resolved" delivery may be tried again (exponential backoff); null means now.';

COMMENT ON TABLE "public"."regression_alerts" IS 'One alert per regressed (series, metric): open until a later run of the series no longer regresses. Opening and resolving are separate Slack deliveries, each with its own delivery state.';
