-- Background work: a durable job queue claimed with FOR UPDATE SKIP LOCKED by any number of
-- workers, and the scheduler's per-workspace schedules. Both belong to a workspace (row-level
-- security for workspace transactions, which enqueue alongside the change that caused the job);
-- claims run with platform privileges across workspaces.

create table jobs (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references workspaces (id),
  kind text not null check (kind ~ '^[a-z][a-z0-9_]*$'),
  payload jsonb not null default '{}'::jsonb,
  status text not null default 'pending' check (status in ('pending', 'running', 'done', 'failed')),
  -- Not before this instant (backoff after a failure, digest windows).
  run_at timestamptz not null default now(),
  attempts integer not null default 0,
  max_attempts integer not null default 5 check (max_attempts >= 1),
  -- The worker holding the job and until when: a lease that lapses (the worker died) makes the
  -- job claimable again.
  locked_by text,
  locked_until timestamptz,
  last_error text,
  -- At most one pending job per key and workspace: a burst of changes coalesces into one job.
  dedupe_key text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
select assay_enable_workspace_rls('jobs');
create unique index jobs_pending_dedupe_idx on jobs (workspace_id, dedupe_key)
  where status = 'pending' and dedupe_key is not null;
create index jobs_due_idx on jobs (run_at, id) where status = 'pending';
create index jobs_lease_idx on jobs (locked_until) where status = 'running';
create index jobs_finished_idx on jobs (finished_at) where status in ('done', 'failed');

-- When each recurring piece of work is next due, per workspace. Advancing a schedule and
-- enqueueing its job happen in one transaction, so a restart neither loses nor repeats a run and
-- two schedulers never enqueue the same run.
create table schedules (
  workspace_id uuid not null references workspaces (id),
  name text not null,
  next_run_at timestamptz not null,
  last_run_at timestamptz,
  last_job_id bigint,
  primary key (workspace_id, name)
);
select assay_enable_workspace_rls('schedules');
