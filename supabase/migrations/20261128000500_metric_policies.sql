-- Why: a regression is a change in the bad direction, and the bad direction
-- depends on the metric (f1 should rise, latency_ms should fall). This
-- migration adds `metric_policies`, which says per metric (or per `*` name
-- pattern) which direction is better, its relative threshold and its absolute
-- noise floor, seeds the defaults from the design, and the resolver that falls
-- back to a name rule for metrics nobody listed.

create table public.metric_policies (
  metric text not null,
  direction text not null,
  relative_threshold numeric,
  absolute_floor numeric not null default 0,
  description text,
  updated_at timestamptz not null default now(),
  constraint metric_policies_pkey primary key (metric),
  constraint metric_policies_metric_not_blank check (pg_catalog.btrim(metric) <> ''),
  constraint metric_policies_direction_valid check (direction in ('higher', 'lower')),
  constraint metric_policies_threshold_nonnegative check (relative_threshold is null or relative_threshold >= 0),
  constraint metric_policies_floor_nonnegative check (absolute_floor >= 0)
);

comment on table public.metric_policies is
  'Per-metric regression policy: which direction is better, the relative threshold (null = the caller''s, 5% by default) and an absolute noise floor. metric is an exact name or a pattern with * wildcards.';
comment on column public.metric_policies.metric is 'Exact metric name (e.g. f1) or a pattern where * matches anything (e.g. *_cost). Exact names win, then the longest pattern.';
comment on column public.metric_policies.direction is 'higher: a drop is a regression; lower: a rise is a regression.';
comment on column public.metric_policies.relative_threshold is 'Relative change (0.05 = 5%) a regression must exceed; null uses the caller''s threshold (detect_regression''s p_threshold, 0.05 at ingest).';
comment on column public.metric_policies.absolute_floor is 'A change whose absolute size is not above this is noise and never a regression.';

insert into public.metric_policies (metric, direction, description) values
  ('precision', 'higher', 'Default: higher is better.'),
  ('recall', 'higher', 'Default: higher is better.'),
  ('f1', 'higher', 'Default: higher is better.'),
  ('accuracy', 'higher', 'Default: higher is better.'),
  ('latency_ms', 'lower', 'Default: lower is better.'),
  ('loss', 'lower', 'Default: lower is better.'),
  ('error_rate', 'lower', 'Default: lower is better.'),
  ('*_cost', 'lower', 'Default: any cost is lower-is-better.'),
  ('*_ms', 'lower', 'Default: any duration in milliseconds is lower-is-better.');

-- The name rule for metrics that no policy lists.
create or replace function benchwatch_private.metric_direction_by_name(p_metric text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case
    when pg_catalog.lower(p_metric) ~ '(_ms|_cost|_usd|_seconds|_secs|_sec|loss|error|errors|error_rate|latency|perplexity|duration)$'
      or pg_catalog.lower(p_metric) ~ '^(latency|cost|loss|error|perplexity|duration)'
    then 'lower'
    else 'higher'
  end
$$;

comment on function benchwatch_private.metric_direction_by_name(text) is
  'Name rule for metrics without a policy: names ending _ms, _cost, _seconds, loss, error, latency, ... are lower-is-better; anything else higher-is-better.';

revoke execute on function benchwatch_private.metric_direction_by_name(text) from public, anon, authenticated;
grant execute on function benchwatch_private.metric_direction_by_name(text) to service_role;

-- The effective policy for one metric.
create or replace function benchwatch_private.metric_policy(p_metric text, p_default_threshold numeric)
returns table (direction text, relative_threshold numeric, absolute_floor numeric, source text)
language sql
stable
-- Exactly one row; saying so keeps the planner (and JIT) from costing 1000.
rows 1
set search_path = ''
as $$
  select coalesce(p.direction, benchwatch_private.metric_direction_by_name(p_metric)),
         coalesce(p.relative_threshold, p_default_threshold),
         coalesce(p.absolute_floor, 0),
         coalesce(p.source, 'name_rule')
  from (select 1) as one
  left join lateral (
    select mp.direction,
           mp.relative_threshold,
           mp.absolute_floor,
           case when mp.metric = p_metric then 'policy' else 'policy_pattern' end as source
    from public.metric_policies mp
    where mp.metric = p_metric
       or (pg_catalog.strpos(mp.metric, '*') > 0
           and p_metric like pg_catalog.replace(
                 pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(mp.metric, '\', '\\'), '%', '\%'), '_', '\_'),
                 '*', '%'))
    order by (mp.metric = p_metric) desc, pg_catalog.length(mp.metric) desc, mp.metric
    limit 1
  ) as p on true
$$;

comment on function benchwatch_private.metric_policy(text, numeric) is
  'Effective direction, relative threshold, absolute floor and source (policy, policy_pattern or name_rule) for a metric.';

revoke execute on function benchwatch_private.metric_policy(text, numeric) from public, anon, authenticated;
grant execute on function benchwatch_private.metric_policy(text, numeric) to service_role;

alter table public.metric_policies enable row level security;

revoke all on table public.metric_policies from public, anon, authenticated, service_role;
grant select on table public.metric_policies to anon, authenticated;
grant select, insert, update, delete on table public.metric_policies to service_role;

create policy metric_policies_select_anon on public.metric_policies
  for select to anon using (true);
create policy metric_policies_select_authenticated on public.metric_policies
  for select to authenticated using (true);
create policy metric_policies_select_service_role on public.metric_policies
  for select to service_role using (true);
create policy metric_policies_insert_service_role on public.metric_policies
  for insert to service_role with check (true);
create policy metric_policies_update_service_role on public.metric_policies
  for update to service_role using (true) with check (true);
create policy metric_policies_delete_service_role on public.metric_policies
  for delete to service_role using (true);
