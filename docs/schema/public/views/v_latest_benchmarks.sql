CREATE VIEW "public"."v_latest_benchmarks" WITH (security_invoker=true) AS  SELECT s.id,
    s.transaction_id,
    s.commit_sha,
    s.branch_name,
    s.model_version,
    s.model_provider,
    s.dataset_version,
    s.dataset_size,
    s.prompt_version,
    s.environment,
    s.run_id,
    s.triggered_by,
    s.metrics,
    s.duration_seconds,
    s.tags,
    s.notes,
    s.created_at,
    s.updated_at,
    s.is_active,
    s.is_baseline,
    (EXISTS ( SELECT 1
           FROM public.benchmark_snapshots b
          WHERE ((b.pinned_at IS NOT NULL) AND (b.model_version = s.model_version) AND (b.model_provider = s.model_provider) AND (b.dataset_version = s.dataset_version) AND (b.prompt_version = s.prompt_version) AND (b.environment = s.environment)))) AS has_pinned_baseline
   FROM public.benchmark_snapshots s
  WHERE ((s.pinned_at IS NULL) AND s.is_active);

GRANT SELECT ON TABLE "public"."v_latest_benchmarks" TO "anon", "authenticated";

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."v_latest_benchmarks" TO "postgres";

GRANT SELECT ON TABLE "public"."v_latest_benchmarks" TO "service_role";

COMMENT ON VIEW "public"."v_latest_benchmarks" IS 'Latest active run per series (model_version, model_provider, dataset_version, prompt_version, environment), with whether the series has a pinned baseline.';
