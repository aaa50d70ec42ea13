-- Notifications: per-workspace channels (email, signed webhooks, Slack-compatible webhooks), the
-- events worth telling someone about, and one delivery per channel and event, sent in digests.

create table notification_channels (
  id uuid primary key,
  workspace_id uuid not null references workspaces (id),
  name text not null check (length(name) between 1 and 100),
  kind text not null check (kind in ('email', 'webhook', 'slack')),
  -- Shown to people: recipients (email), the URL (webhook), the host only (Slack: its URL is a secret).
  target text not null,
  -- Sealed with the installation key: the webhook signing secret, or the Slack webhook URL.
  secret text,
  events text[] not null,
  min_severity text not null check (min_severity in ('low', 'medium', 'high', 'critical')),
  -- Notifications within this window go out as one message; 0 = each at once.
  digest_seconds integer not null check (digest_seconds between 0 and 86400),
  enabled boolean not null default true,
  created_by text not null,
  created_at timestamptz not null default now(),
  unique (workspace_id, name)
);
select assay_enable_workspace_rls('notification_channels');

create table notification_events (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  kind text not null,
  severity text not null check (severity in ('low', 'medium', 'high', 'critical')),
  -- The same happening is recorded once however many evaluations notice it.
  dedupe_key text not null,
  title text not null,
  data jsonb not null default '{}'::jsonb,
  occurred_at timestamptz not null,
  created_at timestamptz not null default now(),
  unique (workspace_id, dedupe_key)
);
select assay_enable_workspace_rls('notification_events');

create table notification_deliveries (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references workspaces (id),
  channel_id uuid not null references notification_channels (id) on delete cascade,
  event_id uuid not null references notification_events (id),
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed')),
  -- The send job that took the delivery; a retry of that job finds it again.
  job_id bigint,
  attempts integer not null default 0,
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  unique (channel_id, event_id)
);
select assay_enable_workspace_rls('notification_deliveries');
create index notification_deliveries_pending_idx on notification_deliveries (channel_id, id)
  where status in ('pending', 'sending');

-- What was last announced about each finding, so every evaluation path (worker, CLI, API) is
-- noticed by comparing findings with it.
create table notification_finding_states (
  finding_id uuid primary key references findings (id),
  workspace_id uuid not null references workspaces (id),
  notified_status text not null check (notified_status in ('open', 'closed')),
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('notification_finding_states');
create index notification_finding_states_open_idx on notification_finding_states (workspace_id)
  where notified_status = 'open';

-- How far each workspace's control status timeline has been announced (drift).
create table notification_cursors (
  workspace_id uuid primary key references workspaces (id),
  drift_interval_id bigint not null default 0,
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('notification_cursors');
