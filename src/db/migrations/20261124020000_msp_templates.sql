-- MSP templates: an MSP's own control set, owners by role, check settings, policy templates and
-- review cadences, kept as versioned items; client workspaces link to one template and may
-- override any item. Client reports keep a snapshot so the next report can say what changed.

create table msp_templates (
  id uuid primary key default gen_random_uuid(),
  -- the MSP workspace that owns the template
  workspace_id uuid not null references workspaces (id),
  name text not null check (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  version integer not null default 1 check (version >= 1),
  definition jsonb not null,
  items jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, name)
);
select assay_enable_workspace_rls('msp_templates');

-- One row per client workspace that follows a template: what it last received.
create table msp_template_links (
  workspace_id uuid primary key references workspaces (id),
  template_id uuid not null references msp_templates (id),
  applied_version integer not null,
  applied_items jsonb not null,
  applied_at timestamptz not null default now()
);
select assay_enable_workspace_rls('msp_template_links');
create index msp_template_links_template_idx on msp_template_links (template_id);

-- A client's own value for one template item (null value = the item does not apply here).
create table msp_template_overrides (
  workspace_id uuid not null references workspaces (id),
  item_key text not null,
  value jsonb,
  reason text not null default '',
  created_by text not null,
  created_at timestamptz not null default now(),
  primary key (workspace_id, item_key)
);
select assay_enable_workspace_rls('msp_template_overrides');

create table msp_client_reports (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  generated_at timestamptz not null default now(),
  generated_by text not null,
  snapshot jsonb not null
);
select assay_enable_workspace_rls('msp_client_reports');
create index msp_client_reports_idx on msp_client_reports (workspace_id, generated_at);
