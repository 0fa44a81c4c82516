CREATE SEQUENCE "benchwatch_private"."webhook_requests_id_seq" AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1 NO CYCLE;

GRANT SELECT, UPDATE, USAGE ON SEQUENCE "benchwatch_private"."webhook_requests_id_seq" TO "postgres";
