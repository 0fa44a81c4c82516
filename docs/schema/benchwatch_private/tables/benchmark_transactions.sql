CREATE TABLE "benchwatch_private"."benchmark_transactions_default" PARTITION OF "public"."benchmark_transactions" DEFAULT;

ALTER TABLE "benchwatch_private"."benchmark_transactions_default"
  ENABLE ROW LEVEL SECURITY;

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."benchmark_transactions_default" TO "postgres";

COMMENT ON TABLE "benchwatch_private"."benchmark_transactions_default" IS 'Catch-all partition for runs whose month has no partition yet; the partition-maintenance job moves them out.';
