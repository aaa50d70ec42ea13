-- Ingest: normalised events, the identity graph (people, identities, their observations and
-- entitlement changes) and import batches.

-- Every accepted event, once: (workspace, source, source_key) is unique, so replays are no-ops.
create table events (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references workspaces (id),
  source text not null,
  source_key text not null,
  system text not null,
  time timestamptz not null,
  class_uid integer not null,
  activity_id integer not null,
  type_uid bigint not null,
  action text not null,
  outcome text not null,
  actor_identity_id uuid,
  target_identity_id uuid,
  person_id uuid,
  repository text,
  -- The normalised event (OCSF-shaped) without the raw payload.
  data jsonb not null,
  -- The vendor's record as received; its hash is also kept in the evidence ledger.
  raw jsonb,
  batch_id uuid,
  received_at timestamptz not null default now(),
  unique (workspace_id, source, source_key)
);
select assay_enable_workspace_rls('events');
create index events_workspace_time_idx on events (workspace_id, time);
create index events_workspace_class_idx on events (workspace_id, class_uid, time);
create index events_actor_idx on events (workspace_id, actor_identity_id, time);
create index events_target_idx on events (workspace_id, target_identity_id, time);

-- People, as HR states them (the root of the identity graph).
create table people (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  employee_id text not null,
  source text not null,
  name text not null,
  email text not null,
  aliases text[] not null default '{}',
  title text,
  department text,
  manager_email text,
  employment_type text,
  start_date date,
  end_date date,
  status text not null check (status in ('active', 'terminated', 'on_leave')),
  observed_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, employee_id)
);
select assay_enable_workspace_rls('people');
create index people_email_idx on people (workspace_id, email);

-- Accounts in systems, human or not. Linked to a person automatically by email/alias or by hand.
create table identities (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  system text not null,
  external_id text not null,
  user_name text,
  email text,
  display_name text,
  principal_type text not null default 'user',
  status text not null default 'active' check (status in ('active', 'suspended', 'deprovisioned')),
  status_at timestamptz,
  person_id uuid references people (id),
  link_method text check (link_method in ('email', 'alias', 'manual')),
  link_locked boolean not null default false,
  non_human boolean not null default false,
  owner text,
  purpose text,
  first_seen_at timestamptz not null,
  last_seen_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, system, external_id)
);
select assay_enable_workspace_rls('identities');
create index identities_email_idx on identities (workspace_id, email);
create index identities_person_idx on identities (workspace_id, person_id);

-- Snapshots of an identity (credential reports, directory pulls): what was true at observed_at.
create table identity_observations (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references workspaces (id),
  identity_id uuid not null references identities (id),
  source text not null,
  observed_at timestamptz not null,
  status text not null,
  mfa_enabled boolean,
  password_enabled boolean,
  last_login_at timestamptz,
  password_last_used_at timestamptz,
  data jsonb not null,
  batch_id uuid,
  unique (workspace_id, identity_id, source, observed_at)
);
select assay_enable_workspace_rls('identity_observations');

-- Grants and revocations of entitlements; the entitlements held at T are the latest change per
-- (identity, name) at or before T that granted.
create table entitlement_changes (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references workspaces (id),
  identity_id uuid not null references identities (id),
  system text not null,
  name text not null,
  kind text not null,
  privileged boolean not null,
  granted boolean not null,
  at timestamptz not null,
  event_id bigint references events (id),
  source text not null,
  source_key text not null,
  unique (workspace_id, source, source_key)
);
select assay_enable_workspace_rls('entitlement_changes');
create index entitlement_changes_identity_idx on entitlement_changes (workspace_id, identity_id, name, at);

-- One row per import (file or upload): what was read, stored, skipped as replays, rejected.
create table import_batches (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  kind text not null,
  file_name text not null,
  status text not null check (status in ('running', 'committed', 'rejected')),
  records_read integer not null default 0,
  events_stored integer not null default 0,
  duplicates integer not null default 0,
  people integer not null default 0,
  identities integer not null default 0,
  entitlement_changes integer not null default 0,
  rejected integer not null default 0,
  error text,
  actor_type text not null,
  actor_id text not null,
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
select assay_enable_workspace_rls('import_batches');
