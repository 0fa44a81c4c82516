SELECT cron.schedule_in_database('archive-benchmarks', '30 2 * * *', 'select public.archive_benchmarks()', 'postgres', NULL, true);

SELECT cron.schedule_in_database('maintain-benchmark-partitions', '15 0 * * *', 'select benchwatch_private.maintain_transaction_partitions(3)', 'postgres', NULL, true);

SELECT cron.schedule_in_database('refresh-daily-stats', '0 1 * * *', 'REFRESH MATERIALIZED VIEW CONCURRENTLY public.mv_daily_stats', 'postgres', NULL, true);

SELECT cron.schedule_in_database('sweep-alert-deliveries', '* * * * *', 'select benchwatch_private.sweep_alert_deliveries()', 'postgres', NULL, true);
