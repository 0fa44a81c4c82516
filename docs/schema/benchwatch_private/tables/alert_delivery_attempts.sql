CREATE TABLE "benchwatch_private"."alert_delivery_attempts" (
  "id"           bigint                   NOT NULL DEFAULT nextval('benchwatch_private.alert_delivery_attempts_id_seq'::regclass),
  "alert_id"     uuid                     NOT NULL,
  "event"        text                     NOT NULL,
  "outcome"      text                     NOT NULL,
  "http_status"  integer,
  "error"        text,
  "attempted_at" timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "alert_delivery_attempts_event_valid" CHECK ((event = ANY (ARRAY['opened'::text, 'resolved'::text]))),
  CONSTRAINT "alert_delivery_attempts_outcome_valid" CHECK ((outcome = ANY (ARRAY['sent'::text, 'skipped'::text, 'permanent'::text, 'transient'::text]))),
  CONSTRAINT "alert_delivery_attempts_pkey" PRIMARY KEY (id),
  CONSTRAINT "alert_delivery_attempts_alert_fkey" FOREIGN KEY (alert_id) REFERENCES public.regression_alerts(id) ON DELETE CASCADE
);

ALTER TABLE "benchwatch_private"."alert_delivery_attempts"
  ENABLE ROW LEVEL SECURITY;

ALTER SEQUENCE "benchwatch_private"."alert_delivery_attempts_id_seq" OWNED BY "benchwatch_private"."alert_delivery_attempts"."id";

CREATE INDEX alert_delivery_attempts_alert_id_idx ON benchwatch_private.alert_delivery_attempts USING btree (alert_id, attempted_at);

CREATE POLICY "alert_delivery_attempts_select_service_role" ON "benchwatch_private"."alert_delivery_attempts"
  FOR SELECT
  TO "service_role"
  USING (true);

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "benchwatch_private"."alert_delivery_attempts" TO "postgres";

GRANT SELECT ON TABLE "benchwatch_private"."alert_delivery_attempts" TO "service_role";

COMMENT ON TABLE "benchwatch_private"."alert_delivery_attempts" IS 'One row per attempt to deliver an alert event (opened or resolved) to Slack, with its outcome, HTTP status and error.';
