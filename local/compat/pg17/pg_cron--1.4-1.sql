-- PostgreSQL 17 rehearsal only: pg_cron 1.4's tables and scheduling functions, so the
-- migrations' `create extension pg_cron` and `cron.schedule(...)` apply. Jobs are recorded,
-- never run: the rehearsal checks that the schema applies, not that jobs fire (the
-- PostgreSQL 15 stack runs the real pg_cron).
create schema cron;

create table cron.job (
  jobid bigserial primary key,
  schedule text not null,
  command text not null,
  nodename text not null default 'localhost',
  nodeport integer not null default pg_catalog.inet_server_port(),
  database text not null default pg_catalog.current_database(),
  username text not null default current_user,
  active boolean not null default true,
  jobname text
);
create unique index jobname_username_uniq on cron.job (jobname, username);

create table cron.job_run_details (
  jobid bigint,
  runid bigserial primary key,
  job_pid integer,
  database text,
  username text,
  command text,
  status text,
  return_message text,
  start_time timestamptz,
  end_time timestamptz
);

create function cron.schedule(job_name text, schedule text, command text)
returns bigint
language sql volatile
security definer
set search_path = ''
as $$
  insert into cron.job (jobname, schedule, command, username)
  values (job_name, schedule, command, session_user)
  on conflict (jobname, username)
  do update set schedule = excluded.schedule, command = excluded.command
  returning jobid
$$;

create function cron.schedule(schedule text, command text)
returns bigint
language sql volatile
security definer
set search_path = ''
as $$
  insert into cron.job (schedule, command, username) values (schedule, command, session_user)
  returning jobid
$$;

create function cron.unschedule(job_name text)
returns boolean
language sql volatile
security definer
set search_path = ''
as $$
  with d as (delete from cron.job where jobname = job_name and username = session_user returning 1)
  select exists (select 1 from d)
$$;

create function cron.unschedule(job_id bigint)
returns boolean
language sql volatile
security definer
set search_path = ''
as $$
  with d as (delete from cron.job where jobid = job_id and username = session_user returning 1)
  select exists (select 1 from d)
$$;
