-- Audit periods: a Type I date or a Type II window, with the scope frozen when it was declared.
create table audit_periods (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  name text not null check (length(name) between 1 and 200),
  report_type text not null check (report_type in ('type1', 'type2')),
  starts_on date not null,
  ends_on date not null,
  categories text[] not null,
  scope_snapshot jsonb not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  check (ends_on >= starts_on),
  check (report_type = 'type2' or starts_on = ends_on),
  unique (workspace_id, name)
);
select assay_enable_workspace_rls('audit_periods');
