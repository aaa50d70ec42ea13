-- Pull connectors: sources Assay reads on its own initiative (an LDAP directory, a git
-- repository). What a pull reads is normalised into events and the identity graph through the
-- ingest writer, recorded as an import batch of kind `ldap` or `git`.

-- One row per configured connector. `settings` never holds a secret; credentials (an LDAP bind
-- password) are sealed with the installation key, bound to this row's id and workspace, and are
-- never returned by the API or printed by the CLI.
create table connectors (
  id uuid primary key,
  workspace_id uuid not null references workspaces (id),
  kind text not null check (kind in ('ldap', 'git')),
  -- Names the connector's system in the identity graph (`ldap:<name>`, `git:<repository>`).
  name text not null check (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  settings jsonb not null default '{}'::jsonb,
  sealed_credentials text,
  -- Minutes between scheduled pulls (null: pulled only on demand).
  interval_minutes integer check (interval_minutes is null or interval_minutes between 5 and 10080),
  created_by_type text not null,
  created_by_id text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- The last pull: when it started and finished, how it ended, what it read, and why it failed.
  last_run_at timestamptz,
  last_success_at timestamptz,
  last_status text check (last_status in ('succeeded', 'failed')),
  last_error text,
  last_summary jsonb,
  -- Where the next pull resumes: git `{"commit": "<sha>", "branch": "main"}`; LDAP the counts
  -- and highest modifyTimestamp of the last snapshot.
  cursor jsonb,
  unique (workspace_id, name)
);
select assay_enable_workspace_rls('connectors');
