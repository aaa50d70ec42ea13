-- Push connectors: the SCIM 2.0 service provider (bearer tokens, users, groups, memberships) and
-- the signed webhook receivers (secrets, accepted deliveries, rejected deliveries). What they
-- receive is also normalised into events and the identity graph through the ingest writer.

-- A SCIM token belongs to one workspace and one directory: the identity provider pushing with it.
-- Its accounts land in system `scim:<directory>`. Only the SHA-256 of the token is kept.
create table scim_tokens (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  directory text not null check (directory ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
  name text not null check (length(name) between 1 and 100),
  secret_hash text not null unique,
  created_by_type text not null,
  created_by_id text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  last_used_at timestamptz
);
select assay_enable_workspace_rls('scim_tokens');
create index scim_tokens_workspace_idx on scim_tokens (workspace_id, directory);

-- SCIM users as last written by the identity provider (`resource`, without id, meta, groups or
-- password); `version` is meta.version (the ETag).
create table scim_users (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  directory text not null,
  user_name text not null check (length(user_name) between 1 and 512),
  external_id text check (length(external_id) <= 512),
  active boolean not null,
  resource jsonb not null,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('scim_users');
-- userName is unique per directory, case-insensitively (RFC 7643 §4.1: caseExact false).
create unique index scim_users_user_name_idx on scim_users (workspace_id, directory, lower(user_name));
create index scim_users_external_id_idx on scim_users (workspace_id, directory, external_id);

create table scim_groups (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  directory text not null,
  display_name text not null check (length(display_name) between 1 and 512),
  external_id text check (length(external_id) <= 512),
  resource jsonb not null,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('scim_groups');
create index scim_groups_display_name_idx on scim_groups (workspace_id, directory, lower(display_name));
create index scim_groups_external_id_idx on scim_groups (workspace_id, directory, external_id);

create table scim_group_members (
  workspace_id uuid not null references workspaces (id),
  group_id uuid not null references scim_groups (id) on delete cascade,
  user_id uuid not null references scim_users (id) on delete cascade,
  display text,
  added_at timestamptz not null default now(),
  primary key (group_id, user_id)
);
select assay_enable_workspace_rls('scim_group_members');
create index scim_group_members_user_idx on scim_group_members (workspace_id, user_id);

-- Webhook signing secrets, sealed with the installation key (HMAC needs the secret itself, so it
-- cannot be hashed). The id is bound into the seal: a sealed value moved to another row fails.
create table webhook_secrets (
  id uuid primary key,
  workspace_id uuid not null references workspaces (id),
  source text not null check (source ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  sealed_secret text not null,
  created_by_type text not null,
  created_by_id text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
select assay_enable_workspace_rls('webhook_secrets');
create index webhook_secrets_workspace_idx on webhook_secrets (workspace_id, source);

-- Every accepted delivery, once: a replayed delivery id is recognised and changes nothing.
create table webhook_deliveries (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references workspaces (id),
  source text not null,
  delivery_id text not null check (length(delivery_id) between 1 and 200),
  event_name text not null,
  status text not null check (status in ('stored', 'ignored')),
  events_stored integer not null default 0,
  duplicates integer not null default 0,
  received_at timestamptz not null default now(),
  unique (workspace_id, source, delivery_id)
);
select assay_enable_workspace_rls('webhook_deliveries');

-- Deliveries refused for their signature (or for naming no workspace that could verify it):
-- when, for which source, why and from where. Never the body: it may carry secrets.
create table webhook_rejections (
  id bigint generated always as identity primary key,
  -- Null when the path named no known workspace; `workspace_ref` keeps what it named.
  workspace_id uuid references workspaces (id),
  workspace_ref text not null,
  source text not null,
  reason text not null,
  remote_address text,
  delivery_id text,
  event_name text,
  received_at timestamptz not null default now()
);
select assay_enable_workspace_rls('webhook_rejections');
create index webhook_rejections_workspace_idx on webhook_rejections (workspace_id, received_at);
