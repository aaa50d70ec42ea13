import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** bytea columns: evidence code reads and writes them through SQL (hex/base64), see the repository. */
type Bytes = ColumnType<Uint8Array, never, never>;

export interface EvidenceLedgerHeadsTable {
  workspace_id: string;
  tree_size: number;
  frontier: string[];
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface EvidenceItemsTable {
  workspace_id: string;
  leaf_index: number;
  id: string;
  kind: string;
  control_ids: string[];
  criterion_ids: string[];
  subject_type: string | null;
  subject_id: string | null;
  subject_name: string | null;
  effective_at: Timestamp;
  collected_at: Timestamp;
  stale_after: Timestamp | null;
  collector_type: string;
  collector_id: string;
  content_sha256: string;
  content: ColumnType<Uint8Array | null, never, null>;
  blob_sha256: string | null;
  blob_size: number | null;
  blob_media_type: string | null;
  blob_file_name: string | null;
  envelope: ColumnType<Uint8Array | null, never, null>;
  leaf_hash: Bytes;
  erased: Generated<number>;
  erased_by: number | null;
  erased_at: Timestamp | null;
  appended_at: ColumnType<Date, never, never>;
}

export interface EvidenceBlobsTable {
  workspace_id: string;
  sha256: string;
  size: number;
  uploaded_at: ColumnType<Date, never, never>;
}

export interface EvidenceCheckpointsTable {
  workspace_id: string;
  tree_size: number;
  root_hash: string;
  issued_at: Timestamp;
  key_id: string;
  body: string;
  signature: string;
}

export interface EvidenceSigningKeysTable {
  workspace_id: string;
  key_id: string;
  public_key_pem: string;
  private_key_sealed: string;
  created_at: Timestamp;
  retired_at: Timestamp | null;
}

export interface EvidenceRetentionPoliciesTable {
  workspace_id: string;
  kind: string;
  retention_days: number;
  updated_at: Timestamp;
}

export interface EvidenceLegalHoldsTable {
  id: Generated<string>;
  workspace_id: string;
  evidence_id: string | null;
  kind: string | null;
  control_id: string | null;
  subject_type: string | null;
  subject_id: string | null;
  reason: string;
  placed_by: string;
  placed_at: ColumnType<Date, never, never>;
  released_by: string | null;
  released_at: Timestamp | null;
  release_reason: string | null;
}

export interface EvidenceTables {
  evidence_ledger_heads: EvidenceLedgerHeadsTable;
  evidence_items: EvidenceItemsTable;
  evidence_blobs: EvidenceBlobsTable;
  evidence_checkpoints: EvidenceCheckpointsTable;
  evidence_signing_keys: EvidenceSigningKeysTable;
  evidence_retention_policies: EvidenceRetentionPoliciesTable;
  evidence_legal_holds: EvidenceLegalHoldsTable;
}
