-- Foundation: the restricted application role, row-level security helpers, workspaces, scope,
-- in-scope systems, controls and the audit trail.

-- The application role that every workspace transaction runs as. Roles are cluster-wide on a
-- PostgreSQL server, so creating it tolerates a concurrent creator.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'assay_app') then
    begin
      create role assay_app nologin;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  if not exists (select 1 from pg_roles where rolname = current_user and rolsuper) then
    execute format('grant assay_app to %I', current_user);
  end if;
end
$$;

-- The workspace a transaction is scoped to ('' or unset means none: RLS then hides everything).
create or replace function assay_current_workspace() returns uuid
language sql stable
as $$ select nullif(current_setting('assay.workspace_id', true), '')::uuid $$;

-- Every workspace-owned table calls this: RLS on, one policy on workspace_id, and the privileges
-- the application role needs. Later migrations reuse it for their tables. RLS is not forced on
-- the owner: the owner is the platform itself (migrations, cross-workspace job claims), while
-- every request-serving transaction runs as assay_app.
create or replace function assay_enable_workspace_rls(target regclass) returns void
language plpgsql
as $$
begin
  execute format('alter table %s enable row level security', target);
  execute format(
    'create policy workspace_isolation on %s using (workspace_id = assay_current_workspace()) '
    'with check (workspace_id = assay_current_workspace())',
    target
  );
  execute format('grant select, insert, update, delete on %s to assay_app', target);
end
$$;

create table workspaces (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text not null check (length(name) between 1 and 200),
  kind text not null check (kind in ('company', 'msp')),
  parent_id uuid references workspaces (id),
  catalog_version text not null,
  created_at timestamptz not null default now(),
  check (parent_id is null or parent_id <> id)
);
create index workspaces_parent_idx on workspaces (parent_id);

-- Inside a workspace transaction, the workspace sees its own row and (for an MSP) its clients.
alter table workspaces enable row level security;
create policy workspace_self on workspaces
  using (id = assay_current_workspace() or parent_id = assay_current_workspace());
grant select on workspaces to assay_app;

create table workspace_scopes (
  workspace_id uuid primary key references workspaces (id),
  categories text[] not null,
  catalog_version text not null,
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('workspace_scopes');

create table systems (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  name text not null check (length(name) between 1 and 200),
  kind text not null check (kind in ('application', 'infrastructure', 'data_store', 'saas', 'endpoint_fleet')),
  environment text not null check (environment in ('production', 'staging', 'development', 'corporate')),
  owner text,
  data_classification text not null check (data_classification in ('public', 'internal', 'confidential', 'restricted')),
  description text not null default '',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, name)
);
select assay_enable_workspace_rls('systems');

create table controls (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  template_id text not null,
  title text not null,
  description text not null,
  frequency text not null,
  owner_role text not null,
  owner text,
  criteria text[] not null,
  evidence text[] not null,
  checks text[] not null,
  status text not null default 'not_evaluated',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, template_id)
);
select assay_enable_workspace_rls('controls');
create index controls_criteria_idx on controls using gin (criteria);

-- Every change, attributed to an actor, written in the same transaction as the change.
create table audit_trail (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references workspaces (id),
  at timestamptz not null default now(),
  actor_type text not null,
  actor_id text not null,
  action text not null,
  target_type text not null,
  target_id text not null,
  details jsonb not null default '{}'::jsonb
);
select assay_enable_workspace_rls('audit_trail');
create index audit_trail_workspace_at_idx on audit_trail (workspace_id, at);
