-- Platform security: people and their sign-in factors, sessions, sign-in throttling, workspace
-- memberships with roles, API tokens, per-workspace SSO (OpenID Connect) and MFA policy.

-- Sign-ins and people are platform events: they belong to no single workspace. Rows without a
-- workspace stay invisible inside every workspace transaction (the RLS policy compares ids).
alter table audit_trail alter column workspace_id drop not null;

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null check (length(email) between 3 and 254 and email = lower(email)),
  display_name text not null default '' check (length(display_name) <= 200),
  password_hash text,
  password_changed_at timestamptz,
  platform_admin boolean not null default false,
  totp_secret text,
  totp_pending_secret text,
  totp_enabled_at timestamptz,
  totp_last_step bigint,
  disabled_at timestamptz,
  created_at timestamptz not null default now()
);
create unique index users_email_idx on users (email);
-- Workspace transactions list members by name: they may read who a person is, never their
-- password hash or second-factor seed.
grant select (id, email, display_name, created_at, disabled_at) on users to assay_app;

create table user_recovery_codes (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  code_hash text not null unique,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index user_recovery_codes_user_idx on user_recovery_codes (user_id);

create table user_identities (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  issuer text not null,
  subject text not null,
  created_at timestamptz not null default now(),
  unique (issuer, subject)
);

create table sessions (
  id uuid primary key default gen_random_uuid(),
  token_hash text not null unique,
  csrf_hash text not null,
  user_id uuid not null references users (id) on delete cascade,
  stage text not null check (stage in ('mfa', 'full')),
  mfa boolean not null,
  sso_workspace_id uuid references workspaces (id),
  ip text not null,
  user_agent text not null,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null,
  expires_at timestamptz not null,
  revoked_at timestamptz
);
create index sessions_user_idx on sessions (user_id);

-- Failed sign-ins per account and per client address, for lockout and throttling.
create table auth_throttle (
  key text primary key,
  failures integer not null,
  window_started_at timestamptz not null,
  locked_until timestamptz
);

create table memberships (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  user_id uuid not null references users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'compliance_manager', 'control_owner', 'reviewer', 'employee', 'auditor')),
  client_workspace_ids uuid[] not null default '{}',
  audit_period_start text check (audit_period_start ~ '^\d{4}-\d{2}-\d{2}$'),
  audit_period_end text check (audit_period_end ~ '^\d{4}-\d{2}-\d{2}$'),
  expires_at timestamptz,
  created_by text not null,
  created_at timestamptz not null default now(),
  unique (workspace_id, user_id),
  -- An auditor sees one audit period, for a limited time.
  check (role <> 'auditor' or (audit_period_start is not null and audit_period_end is not null and expires_at is not null)),
  check (audit_period_start is null or audit_period_start <= audit_period_end)
);
select assay_enable_workspace_rls('memberships');
create index memberships_user_idx on memberships (user_id);

create table api_tokens (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  name text not null check (length(name) between 1 and 100),
  secret_hash text not null unique,
  permissions text[] not null,
  created_by_type text not null,
  created_by_id text not null,
  created_by_user_id uuid references users (id),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  last_used_at timestamptz
);
select assay_enable_workspace_rls('api_tokens');
create index api_tokens_workspace_idx on api_tokens (workspace_id);

create table oidc_connections (
  workspace_id uuid primary key references workspaces (id),
  issuer text not null,
  client_id text not null,
  client_secret text not null,
  jit_role text check (jit_role in ('control_owner', 'reviewer', 'employee')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('oidc_connections');

create table workspace_security_policies (
  workspace_id uuid primary key references workspaces (id),
  require_mfa boolean not null,
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('workspace_security_policies');
