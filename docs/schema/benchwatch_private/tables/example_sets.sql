CREATE TABLE "benchwatch_private"."example_sets" (
  "id"              bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  "ids_hash"        bytea  NOT NULL,
  "dataset_version" text   NOT NULL,
  "example_ids"     text[] NOT NULL,
  "slices"          text[],
  CONSTRAINT "example_sets_ids_hash_key" UNIQUE (ids_hash),
  CONSTRAINT "example_sets_pkey" PRIMARY KEY (id)
);

ALTER TABLE "benchwatch_private"."example_sets"
  ENABLE ROW LEVEL SECURITY;

CREATE POLICY "example_sets_select_service_role" ON "benchwatch_private"."example_sets"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."example_sets" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."example_sets" TO "service_role";

COMMENT ON TABLE "benchwatch_private"."example_sets" IS 'An eval set''s example ids (sorted, collation C) and their slice labels (aligned; null when no example has one), stored once per distinct list; run_examples rows point here.';
