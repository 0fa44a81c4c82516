CREATE TABLE "public"."metric_policies" (
  "metric"             text                     NOT NULL,
  "direction"          text                     NOT NULL,
  "relative_threshold" numeric,
  "absolute_floor"     numeric                  NOT NULL DEFAULT 0,
  "description"        text,
  "updated_at"         timestamp with time zone NOT NULL DEFAULT now(),
  "sensitivity"        numeric,
  "confirmation_runs"  integer,
  "min_history"        integer,
  "history_window"     integer,
  "proportion"         boolean,
  CONSTRAINT "metric_policies_confirmation_runs_valid" CHECK (((confirmation_runs IS NULL) OR ((confirmation_runs >= 1) AND (confirmation_runs <= 20)))),
  CONSTRAINT "metric_policies_direction_valid" CHECK ((direction = ANY (ARRAY['higher'::text, 'lower'::text]))),
  CONSTRAINT "metric_policies_floor_nonnegative" CHECK ((absolute_floor >= (0)::numeric)),
  CONSTRAINT "metric_policies_history_window_valid" CHECK (((history_window IS NULL) OR ((history_window >= 3) AND (history_window <= 200)))),
  CONSTRAINT "metric_policies_metric_not_blank" CHECK ((btrim(metric) <> ''::text)),
  CONSTRAINT "metric_policies_min_history_valid" CHECK (((min_history IS NULL) OR ((min_history >= 1) AND (min_history <= 50)))),
  CONSTRAINT "metric_policies_pkey" PRIMARY KEY (metric),
  CONSTRAINT "metric_policies_sensitivity_nonnegative" CHECK (((sensitivity IS NULL) OR (sensitivity >= (0)::numeric))),
  CONSTRAINT "metric_policies_threshold_nonnegative" CHECK (((relative_threshold IS NULL) OR (relative_threshold >= (0)::numeric)))
);

ALTER TABLE "public"."metric_policies"
  ENABLE ROW LEVEL SECURITY;

CREATE TRIGGER metric_policies_bump_policy_version
  AFTER INSERT OR DELETE OR UPDATE ON public.metric_policies
  FOR EACH ROW
  EXECUTE FUNCTION benchwatch_private.tg_policies__bump_version();

CREATE TRIGGER metric_policies_truncate_bump_policy_version
  AFTER TRUNCATE ON public.metric_policies
  FOR EACH STATEMENT
  EXECUTE FUNCTION benchwatch_private.tg_policies__bump_version();

CREATE POLICY "metric_policies_delete_service_role" ON "public"."metric_policies"
  FOR DELETE
  TO "service_role"
  USING (true);

CREATE POLICY "metric_policies_insert_service_role" ON "public"."metric_policies"
  FOR INSERT
  TO "service_role"
  WITH CHECK (true);

CREATE POLICY "metric_policies_select_anon" ON "public"."metric_policies"
  FOR SELECT
  TO "anon"
  USING (true);

CREATE POLICY "metric_policies_select_authenticated" ON "public"."metric_policies"
  FOR SELECT
  TO "authenticated"
  USING (true);

CREATE POLICY "metric_policies_select_service_role" ON "public"."metric_policies"
  FOR SELECT
  TO "service_role"
  USING (true);

CREATE POLICY "metric_policies_update_service_role" ON "public"."metric_policies"
  FOR UPDATE
  TO "service_role"
  USING (true)
  WITH CHECK (true);

GRANT SELECT ON TABLE "public"."metric_policies" TO "anon", "authenticated";

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."metric_policies" TO "postgres";

GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE "public"."metric_policies" TO "service_role";

COMMENT ON COLUMN "public"."metric_policies"."absolute_floor" IS 'A change whose absolute size is not above this is noise and never a regression.';

COMMENT ON COLUMN "public"."metric_policies"."confirmation_runs" IS 'Alerting: consecutive out-of-control runs that open an alert, and consecutive runs back within half the tolerance that resolve it (null = 2).';

COMMENT ON COLUMN "public"."metric_policies"."direction" IS 'higher: a drop is a regression; lower: a rise is a regression.';

COMMENT ON COLUMN "public"."metric_policies"."history_window" IS 'Alerting: how many recent in-control runs the series'' noise is estimated from (null = 30).';

COMMENT ON COLUMN "public"."metric_policies"."metric" IS 'Exact metric name (e.g. f1) or a pattern where * matches anything (e.g. *_cost). Exact names win, then the longest pattern.';

COMMENT ON COLUMN "public"."metric_policies"."min_history" IS 'Alerting: runs of in-control history (the pinned baseline counts as one) before the series can alert or its own noise is estimated (null = 5).';

COMMENT ON COLUMN "public"."metric_policies"."proportion" IS 'True for metrics that are a proportion of dataset_size examples (sampling error sqrt(p(1-p)/n)); null = false.';

COMMENT ON COLUMN "public"."metric_policies"."relative_threshold" IS 'Relative change (0.05 = 5%) a regression must exceed; null uses the caller''s threshold (detect_regression''s p_threshold, 0.05 at ingest).';

COMMENT ON COLUMN "public"."metric_policies"."sensitivity" IS 'Alerting: how many noise standard errors the change must exceed (null = 2).';

COMMENT ON TABLE "public"."metric_policies" IS 'Per-metric regression policy: which direction is better, the relative threshold (null = the caller''s, 5% by default) and an absolute noise floor. metric is an exact name or a pattern with * wildcards.';
