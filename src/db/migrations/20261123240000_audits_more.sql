-- Auditors' request lists (PBC, "provided by client"): each request of a period, the controls it
-- maps to, and whether it is fulfilled (automatically from evidence, or by hand).
create table audit_requests (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  period_id uuid not null references audit_periods (id),
  request_ref text not null check (length(request_ref) between 1 and 100),
  description text not null check (length(description) between 1 and 4000),
  control_refs text[] not null,
  criterion_refs text[] not null,
  control_ids text[] not null,
  due_on date,
  status text not null check (status in ('open', 'fulfilled')),
  fulfilment text check (fulfilment in ('automatic', 'manual')),
  fulfilled_at timestamptz,
  fulfilled_by text,
  evidence_ids uuid[] not null default '{}',
  note text,
  source_line integer not null,
  imported_by text not null,
  imported_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, period_id, request_ref),
  check ((status = 'fulfilled') = (fulfilled_at is not null))
);
create index audit_requests_open on audit_requests (workspace_id, period_id, status);
select assay_enable_workspace_rls('audit_requests');
