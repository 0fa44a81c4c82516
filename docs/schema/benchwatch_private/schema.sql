CREATE SCHEMA "benchwatch_private";

GRANT CREATE, USAGE ON SCHEMA "benchwatch_private" TO "postgres";

GRANT USAGE ON SCHEMA "benchwatch_private" TO "service_role";

COMMENT ON SCHEMA "benchwatch_private" IS 'benchwatch internals: helpers, security definer functions, idempotency records and partitions. Never exposed by the Data API.';
