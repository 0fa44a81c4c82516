CREATE TABLE "benchwatch_private"."run_examples" (
  "transaction_id" uuid               NOT NULL,
  "metric_name"    text               NOT NULL,
  "example_set_id" bigint             NOT NULL,
  "kind"           text               NOT NULL,
  "outcomes"       bit varying,
  "present"        bit varying,
  "scores"         double precision[],
  "n"              integer            NOT NULL,
  "mean"           numeric            NOT NULL,
  CONSTRAINT "run_examples_example_set_id_fkey" FOREIGN KEY (example_set_id) REFERENCES benchwatch_private.example_sets(id),
  CONSTRAINT "run_examples_kind_valid" CHECK ((((kind = 'binary'::text) AND (outcomes IS NOT NULL) AND (scores IS NULL)) OR ((kind = 'graded'::text) AND (scores IS
    NOT NULL) AND (outcomes IS NULL) AND (present IS NULL)))),
  CONSTRAINT "run_examples_pkey" PRIMARY KEY (transaction_id, metric_name)
);

ALTER TABLE "benchwatch_private"."run_examples"
  ENABLE ROW LEVEL SECURITY;

CREATE INDEX run_examples_set_idx ON benchwatch_private.run_examples USING btree (example_set_id);

CREATE POLICY "run_examples_select_service_role" ON "benchwatch_private"."run_examples"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."run_examples" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."run_examples" TO "service_role";

COMMENT ON TABLE "benchwatch_private"."run_examples" IS 'Per-example outcomes of one run and metric, aligned to example_sets.example_ids: a bit per example for binary (0/1) outcomes (present marks the scored ones when not all are), else float8 scores (null where unscored). n and mean are over the scored examples.';
