-- Evidence ledger: per workspace an append-only RFC 9162 Merkle tree over canonical evidence
-- envelopes, its head (size and frontier, the row appends lock), signed checkpoints, the
-- workspace's Ed25519 ledger keys, uploaded blobs, retention policies and legal holds.

-- One row per workspace ledger. Appends lock it (select … for update), so concurrent writers
-- from any number of processes get consecutive leaf indexes and one consistent tree.
create table evidence_ledger_heads (
  workspace_id uuid primary key references workspaces (id),
  tree_size bigint not null default 0 check (tree_size >= 0),
  -- Roots of the perfect subtrees the tree decomposes into, largest first (lowercase hex).
  frontier text[] not null default '{}',
  updated_at timestamptz not null default now()
);
select assay_enable_workspace_rls('evidence_ledger_heads');

-- The ledger's leaves. Columns other than envelope, content and leaf_hash are an index for
-- queries; what Assay shows is read from the envelope, which the tree protects.
create table evidence_items (
  workspace_id uuid not null references workspaces (id),
  leaf_index bigint not null check (leaf_index >= 0),
  id uuid not null,
  kind text not null,
  control_ids text[] not null default '{}',
  criterion_ids text[] not null default '{}',
  subject_type text,
  subject_id text,
  subject_name text,
  effective_at timestamptz not null,
  collected_at timestamptz not null,
  stale_after timestamptz,
  collector_type text not null,
  collector_id text not null,
  content_sha256 text not null,
  -- Canonical JSON (RFC 8785) of the payload; null once erased.
  content bytea,
  blob_sha256 text,
  blob_size bigint,
  blob_media_type text,
  blob_file_name text,
  -- Canonical JSON of the envelope: the Merkle leaf. Null only once disposed of.
  envelope bytea,
  leaf_hash bytea not null check (octet_length(leaf_hash) = 32),
  -- Erased parts, a bit set: 1 content, 2 blob, 4 envelope. erased_by is the leaf index of the
  -- redaction or disposal record (itself an evidence item) that says who erased what and why.
  erased smallint not null default 0 check (erased between 0 and 7),
  erased_by bigint,
  erased_at timestamptz,
  appended_at timestamptz not null default now(),
  primary key (workspace_id, leaf_index),
  unique (workspace_id, id),
  check ((erased = 0) = (erased_by is null))
);
select assay_enable_workspace_rls('evidence_items');
create index evidence_items_controls_idx on evidence_items using gin (control_ids);
create index evidence_items_kind_idx on evidence_items (workspace_id, kind, effective_at);
create index evidence_items_subject_idx on evidence_items (workspace_id, subject_type, subject_id);
create index evidence_items_blob_idx on evidence_items (blob_sha256) where blob_sha256 is not null;

-- Stored evidence cannot be rewritten, only erased (payload, blob or envelope set to null, the
-- erasure recorded); rows are never deleted. Anything else is refused even to the table owner.
create or replace function assay_evidence_items_guard() returns trigger
language plpgsql
as $$
declare
  mutable constant text[] := array['content', 'envelope', 'subject_name', 'erased', 'erased_by', 'erased_at'];
begin
  if tg_op = 'DELETE' then
    raise exception 'evidence item % (leaf %) cannot be deleted: the ledger only grows', old.id, old.leaf_index;
  end if;
  if (to_jsonb(new) - mutable) <> (to_jsonb(old) - mutable)
     or (new.content is not null and new.content is distinct from old.content)
     or (new.envelope is not null and new.envelope is distinct from old.envelope)
     or (new.subject_name is not null and new.subject_name is distinct from old.subject_name)
     or (new.erased & old.erased) <> old.erased then
    raise exception 'evidence item % (leaf %) is immutable: only its payload, blob or envelope can be erased', old.id, old.leaf_index;
  end if;
  return new;
end
$$;
create trigger evidence_items_guard before update or delete on evidence_items
  for each row execute function assay_evidence_items_guard();

-- Blobs a workspace uploaded (the files live in the content-addressed blob directory, shared and
-- deduplicated; a workspace may reference only blobs it uploaded itself).
create table evidence_blobs (
  workspace_id uuid not null references workspaces (id),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  size bigint not null check (size >= 0),
  uploaded_at timestamptz not null default now(),
  primary key (workspace_id, sha256)
);
select assay_enable_workspace_rls('evidence_blobs');

-- Signed tree heads. The body is the exact signed text; the other columns index it.
create table evidence_checkpoints (
  workspace_id uuid not null references workspaces (id),
  tree_size bigint not null check (tree_size >= 0),
  root_hash text not null,
  issued_at timestamptz not null,
  key_id text not null,
  body text not null,
  signature text not null,
  primary key (workspace_id, tree_size)
);
select assay_enable_workspace_rls('evidence_checkpoints');

-- The workspace's ledger keys; exactly one is current (not retired). The private key is sealed
-- (see sealPrivateKey in src/domains/evidence/ledger-keys.ts).
create table evidence_signing_keys (
  workspace_id uuid not null references workspaces (id),
  key_id text not null check (key_id ~ '^[0-9a-f]{16}$'),
  public_key_pem text not null,
  private_key_sealed text not null,
  created_at timestamptz not null,
  retired_at timestamptz,
  primary key (workspace_id, key_id),
  check (retired_at is null or retired_at >= created_at)
);
select assay_enable_workspace_rls('evidence_signing_keys');
create unique index evidence_signing_keys_current_idx on evidence_signing_keys (workspace_id)
  where retired_at is null;

-- Checkpoints are never changed or removed; a key can only be retired, once; a ledger head
-- only grows.
create or replace function assay_evidence_refuse_change() returns trigger
language plpgsql
as $$
begin
  raise exception '% rows cannot be changed or deleted', tg_table_name;
end
$$;
create trigger evidence_checkpoints_guard before update or delete on evidence_checkpoints
  for each row execute function assay_evidence_refuse_change();

create or replace function assay_evidence_signing_keys_guard() returns trigger
language plpgsql
as $$
begin
  if tg_op = 'UPDATE' and old.retired_at is null and new.retired_at is not null
     and (to_jsonb(new) - 'retired_at') = (to_jsonb(old) - 'retired_at') then
    return new;
  end if;
  raise exception 'ledger key % can only be retired, once', old.key_id;
end
$$;
create trigger evidence_signing_keys_guard before update or delete on evidence_signing_keys
  for each row execute function assay_evidence_signing_keys_guard();

create or replace function assay_evidence_ledger_heads_guard() returns trigger
language plpgsql
as $$
begin
  if tg_op = 'UPDATE' and new.workspace_id = old.workspace_id and new.tree_size >= old.tree_size then
    return new;
  end if;
  raise exception 'the evidence ledger of workspace % only grows', old.workspace_id;
end
$$;
create trigger evidence_ledger_heads_guard before update or delete on evidence_ledger_heads
  for each row execute function assay_evidence_ledger_heads_guard();
revoke delete on evidence_items, evidence_checkpoints, evidence_signing_keys, evidence_ledger_heads
  from assay_app;

-- Minimum retention per evidence kind ('*' is the workspace default; without a row, 730 days).
create table evidence_retention_policies (
  workspace_id uuid not null references workspaces (id),
  kind text not null,
  retention_days integer not null check (retention_days between 1 and 36500),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, kind)
);
select assay_enable_workspace_rls('evidence_retention_policies');

-- Legal holds: while active, matching evidence cannot be disposed of or redacted. Every given
-- criterion must match (none given: the whole workspace).
create table evidence_legal_holds (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  evidence_id uuid,
  kind text,
  control_id text,
  subject_type text,
  subject_id text,
  reason text not null check (length(reason) between 1 and 1000),
  placed_by text not null,
  placed_at timestamptz not null default now(),
  released_by text,
  released_at timestamptz,
  release_reason text,
  check ((subject_type is null) = (subject_id is null))
);
select assay_enable_workspace_rls('evidence_legal_holds');
create index evidence_legal_holds_active_idx on evidence_legal_holds (workspace_id) where released_at is null;
