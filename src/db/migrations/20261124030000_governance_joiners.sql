-- Identity governance, joiners and movers: onboarding items on the shared tasks table (one per
-- person and subject, whatever the replays), mover reviews and recurring campaigns on the
-- campaign tables, the job profile governance last saw per person and source (a change of title,
-- department or manager is a move), and the workspace's governance deadlines.

create unique index tasks_governance_onboarding_idx on tasks (workspace_id, kind, (details ->> 'subjectKey'))
  where kind in ('onboarding_policy_ack', 'onboarding_training', 'onboarding_access_request',
                 'revoke_delegated_access');

alter table access_review_campaigns
  add column kind text not null default 'review' check (kind in ('review', 'mover')),
  -- A mover review: the person moved and the change that triggered it.
  add column subject_email text,
  add column mover_change jsonb,
  -- What a recurring campaign's next launch reuses.
  add column fallback_reviewer text,
  add column due_in_days integer,
  add column recurrence text check (recurrence in ('monthly', 'quarterly', 'annually')),
  add column series_id uuid,
  add column series_name text,
  -- Set on the latest campaign of a live series only: when the scheduler launches the next one.
  add column next_launch_at timestamptz;
create index access_review_campaigns_next_launch_idx on access_review_campaigns (workspace_id, next_launch_at)
  where next_launch_at is not null;

-- Entitlements a mover review flags as not justified by the new role (e.g. no peer holds them).
alter table access_review_items add column flag text, add column flag_reason text;

create table governance_job_profiles (
  workspace_id uuid not null references workspaces (id),
  -- 'hr' or the directory ('scim:okta'): each source is compared with itself only.
  source text not null,
  email text not null,
  title text,
  department text,
  manager_email text,
  seen_at timestamptz not null,
  primary key (workspace_id, source, email)
);
select assay_enable_workspace_rls('governance_job_profiles');

create table governance_settings (
  workspace_id uuid primary key references workspaces (id),
  settings jsonb not null default '{}'::jsonb,
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('governance_settings');
