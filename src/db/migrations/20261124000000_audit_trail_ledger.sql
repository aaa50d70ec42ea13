-- The audit trail is sealed into the workspace's evidence ledger: each entry records the ledger
-- evidence that holds it (null until sealed). Once sealed, a changed or deleted entry no longer
-- matches the ledger, which verifies on its own.
alter table audit_trail add column evidence_id uuid;
create index audit_trail_unsealed_idx on audit_trail (workspace_id, id) where evidence_id is null;
