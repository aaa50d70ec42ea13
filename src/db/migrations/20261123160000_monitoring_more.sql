-- Monitoring, continued: who revoked an exception and why, custom checks' descriptions and
-- authors, and policy statements linked to the checks that prove them (policy vs practice).

alter table exceptions add column revoked_by text;
alter table exceptions add column revoke_reason text;
-- The next evaluation finds exceptions that expired and have not been announced yet.
create index exceptions_expiry_idx on exceptions (workspace_id, expires_at)
  where revoked_at is null and expiry_notified_at is null;

alter table custom_checks add column description text not null default '';
alter table custom_checks add column created_by text not null default '';

-- A statement a policy makes ("MFA is required for all remote access") and the checks whose
-- results prove or contradict it. policy_id will point into the policy register once it exists.
create table policy_statements (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  policy_id uuid,
  statement text not null check (length(statement) between 1 and 2000),
  check_ids text[] not null default '{}',
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('policy_statements');
create index policy_statements_workspace_idx on policy_statements (workspace_id, created_at);
