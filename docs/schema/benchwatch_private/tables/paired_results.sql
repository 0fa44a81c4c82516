CREATE TABLE "benchwatch_private"."paired_results" (
  "transaction_id"          uuid             NOT NULL,
  "baseline_transaction_id" uuid             NOT NULL,
  "metric_name"             text             NOT NULL,
  "slice"                   text,
  "kind"                    text             NOT NULL,
  "direction"               text             NOT NULL,
  "n_both"                  integer          NOT NULL,
  "worse"                   integer          NOT NULL,
  "better"                  integer          NOT NULL,
  "mean_diff"               numeric,
  "ci_low"                  numeric,
  "ci_high"                 numeric,
  "p_value"                 double precision NOT NULL,
  "q_value"                 double precision NOT NULL,
  "beyond_tolerance"        boolean,
  "id"                      bigint           GENERATED ALWAYS AS IDENTITY NOT NULL,
  CONSTRAINT "paired_results_key" UNIQUE NULLS NOT DISTINCT (transaction_id, metric_name, slice),
  CONSTRAINT "paired_results_pkey" PRIMARY KEY (id)
);

ALTER TABLE "benchwatch_private"."paired_results"
  ENABLE ROW LEVEL SECURITY;

CREATE POLICY "paired_results_select_service_role" ON "benchwatch_private"."paired_results"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."paired_results" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."paired_results" TO "service_role";

COMMENT ON TABLE "benchwatch_private"."paired_results" IS 'A run''s paired comparison with its baseline run, per metric and slice (null = all examples): n_both examples scored in both, worse / better by the metric''s direction, mean difference (run - baseline) with a 95% Wald interval, the exact two-sided p-value (McNemar for binary outcomes, sign test for graded) and the Benjamini-Hochberg q-value over all of the run''s rows.';
