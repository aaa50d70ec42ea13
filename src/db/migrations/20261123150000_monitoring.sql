-- Monitoring: check results, findings, tasks, exceptions, per-check settings and each control's
-- status timeline.

-- Per-workspace settings of a check (enabled, thresholds, grace period). Absent = defaults.
create table check_settings (
  workspace_id uuid not null references workspaces (id),
  check_id text not null,
  enabled boolean not null default true,
  settings jsonb not null default '{}'::jsonb,
  updated_at timestamptz not null default now(),
  primary key (workspace_id, check_id)
);
select assay_enable_workspace_rls('check_settings');

-- Custom checks: CEL expressions over the facts, added per workspace without deploying code.
create table custom_checks (
  workspace_id uuid not null references workspaces (id),
  check_id text not null check (check_id ~ '^custom\.[a-z0-9_.-]+$'),
  title text not null,
  subject_kind text not null,
  expression text not null,
  severity text not null,
  criteria text[] not null,
  control_ids text[] not null default '{}',
  created_at timestamptz not null default now(),
  primary key (workspace_id, check_id)
);
select assay_enable_workspace_rls('custom_checks');

-- One evaluation of one check for one subject.
create table check_results (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references workspaces (id),
  run_id uuid not null,
  check_id text not null,
  subject_key text not null,
  subject jsonb not null,
  status text not null check (status in ('pass', 'fail', 'not_applicable', 'no_data')),
  detail text not null,
  facts jsonb not null default '{}'::jsonb,
  as_of timestamptz not null,
  evaluated_at timestamptz not null default now(),
  evidence_id text
);
select assay_enable_workspace_rls('check_results');
create index check_results_lookup_idx on check_results (workspace_id, check_id, subject_key, as_of);

create table check_runs (
  id uuid primary key,
  workspace_id uuid not null references workspaces (id),
  trigger text not null,
  as_of timestamptz not null,
  check_ids text[] not null,
  results integer not null default 0,
  failures integer not null default 0,
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
select assay_enable_workspace_rls('check_runs');

create table findings (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  check_id text not null,
  subject_key text not null,
  subject jsonb not null,
  control_ids text[] not null,
  criteria text[] not null,
  severity text not null check (severity in ('low', 'medium', 'high', 'critical')),
  status text not null check (status in ('open', 'closed', 'suppressed')),
  detail text not null,
  opened_at timestamptz not null,
  closed_at timestamptz,
  deadline timestamptz not null,
  owner text,
  evidence_ids text[] not null default '{}',
  closing_evidence_id text,
  exception_id uuid,
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('findings');
-- One live (open or suppressed) finding per check and subject.
create unique index findings_live_idx on findings (workspace_id, check_id, subject_key) where status <> 'closed';
create index findings_status_idx on findings (workspace_id, status, opened_at);

create table tasks (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  kind text not null,
  title text not null,
  finding_id uuid references findings (id),
  assignee text,
  status text not null check (status in ('open', 'done', 'cancelled')),
  due_at timestamptz,
  created_at timestamptz not null default now(),
  completed_at timestamptz,
  details jsonb not null default '{}'::jsonb
);
select assay_enable_workspace_rls('tasks');
create index tasks_status_idx on tasks (workspace_id, status, due_at);

-- Documented, approved, time-limited acceptance of a known deviation.
create table exceptions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  check_id text not null,
  subject_key text not null,
  justification text not null,
  approver text not null,
  approved_at timestamptz not null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  created_by text not null,
  evidence_id text,
  expiry_notified_at timestamptz,
  created_at timestamptz not null default now(),
  check (expires_at > approved_at)
);
select assay_enable_workspace_rls('exceptions');
create index exceptions_lookup_idx on exceptions (workspace_id, check_id, subject_key);

-- Each control's status as intervals: [valid_from, valid_to), valid_to null = current.
create table control_status_intervals (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references workspaces (id),
  control_id uuid not null references controls (id),
  status text not null check (status in ('passing', 'failing', 'at_risk', 'no_data', 'not_evaluated')),
  valid_from timestamptz not null,
  valid_to timestamptz,
  run_id uuid,
  reason text not null default ''
);
select assay_enable_workspace_rls('control_status_intervals');
create index control_status_intervals_idx on control_status_intervals (workspace_id, control_id, valid_from);
