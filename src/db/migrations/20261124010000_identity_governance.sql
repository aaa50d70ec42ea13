-- Identity governance: leaver deprovisioning tasks (on the shared tasks table), access review
-- campaigns with their entitlement snapshot, reviewer decisions and sign-off.

-- When a snapshot (credential report, directory pull) last listed the account, changed or not: an
-- account a newer complete snapshot of its system no longer lists has been removed.
alter table identities add column last_listed_at timestamptz;

-- One governance task per subject (an account to deprovision, a revoked entitlement): replays of
-- the same facts never open a second task.
create unique index tasks_governance_subject_idx on tasks (workspace_id, kind, (details ->> 'subjectKey'))
  where kind in ('deprovision_account', 'revoke_entitlement');

create table access_review_campaigns (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  name text not null,
  scope jsonb not null,
  status text not null check (status in ('open', 'signed_off')),
  launched_at timestamptz not null,
  launched_by text not null,
  due_at timestamptz not null,
  -- SHA-256 of the canonical snapshot taken at launch (every entitlement under review).
  snapshot_sha256 text not null,
  signed_off_at timestamptz,
  signed_off_by text,
  decisions_sha256 text,
  evidence_id text,
  created_at timestamptz not null default now()
);
select assay_enable_workspace_rls('access_review_campaigns');

-- The snapshot: one row per account and entitlement in scope at launch, never refreshed.
create table access_review_items (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  campaign_id uuid not null references access_review_campaigns (id),
  identity_id uuid references identities (id),
  subject_type text not null check (subject_type in ('person', 'non_human', 'unlinked', 'delegated')),
  system text not null,
  account text not null,
  person_email text,
  owner text,
  entitlement text not null,
  privileged boolean not null,
  granted_at timestamptz,
  reviewer text not null,
  delegated_from text,
  decision text check (decision in ('keep', 'revoke', 'modify')),
  justification text,
  decided_by text,
  decided_at timestamptz,
  task_id uuid references tasks (id),
  confirmed_at timestamptz,
  confirmation text,
  evidence_id text
);
select assay_enable_workspace_rls('access_review_items');
create index access_review_items_campaign_idx on access_review_items (workspace_id, campaign_id, reviewer);
