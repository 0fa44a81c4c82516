CREATE TABLE "benchwatch_private"."paired_defaults" (
  "id"                boolean NOT NULL DEFAULT true,
  "q_level"           numeric NOT NULL DEFAULT 0.05,
  "max_examples"      integer NOT NULL DEFAULT 10000,
  "confirmation_runs" integer NOT NULL DEFAULT 2,
  CONSTRAINT "paired_defaults_confirmation_runs_valid" CHECK (((confirmation_runs >= 1) AND (confirmation_runs <= 10))),
  CONSTRAINT "paired_defaults_max_examples_valid" CHECK (((max_examples >= 1) AND (max_examples <= 100000))),
  CONSTRAINT "paired_defaults_one_row" CHECK (id),
  CONSTRAINT "paired_defaults_pkey" PRIMARY KEY (id),
  CONSTRAINT "paired_defaults_q_level_valid" CHECK (((q_level > (0)::numeric) AND (q_level < (1)::numeric)))
);

ALTER TABLE "benchwatch_private"."paired_defaults"
  ENABLE ROW LEVEL SECURITY;

CREATE POLICY "paired_defaults_select_service_role" ON "benchwatch_private"."paired_defaults"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."paired_defaults" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."paired_defaults" TO "service_role";

COMMENT ON TABLE "benchwatch_private"."paired_defaults" IS 'Paired-comparison defaults: q_level 0.05 (a metric with examples opens an alert when its drop is beyond tolerance and one of its paired comparisons, overall or a slice, is worse with a Benjamini-Hochberg q-value below it; comparisons with too few flipped examples to reach it get q = 1), confirmation_runs 2 (that run and the series'' previous run since the baseline run, when there is one, each beyond tolerance and worse), max_examples 10,000 per run.';
