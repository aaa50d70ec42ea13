import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Created = ColumnType<Date, Date | undefined, never>;
type Updated = ColumnType<Date, Date | undefined, Date>;

export type PolicyKind = 'policy' | 'standard' | 'procedure' | 'plan';

export interface PoliciesTable {
  id: Generated<string>;
  workspace_id: string;
  title: string;
  kind: PolicyKind;
  owner: string | null;
  review_cadence_days: number;
  acknowledgement_required: boolean;
  control_ids: string[];
  status: 'draft' | 'active' | 'retired';
  current_version_id: string | null;
  last_reviewed_at: Timestamp | null;
  created_at: Created;
  updated_at: Updated;
}

export interface PolicyVersionsTable {
  id: Generated<string>;
  workspace_id: string;
  policy_id: string;
  version: number;
  body: string;
  body_sha256: string;
  change_summary: string;
  created_by: string;
  created_at: Created;
  approved_by: string | null;
  approved_at: Timestamp | null;
  published_at: Timestamp | null;
  approval_evidence_id: string | null;
  publication_evidence_id: string | null;
}

export interface PolicyReviewsTable {
  id: Generated<string>;
  workspace_id: string;
  policy_id: string;
  version_id: string | null;
  reviewed_at: Timestamp;
  reviewer: string;
  outcome: 'no_change' | 'revision_needed';
  notes: string;
  evidence_id: string | null;
  created_at: Created;
}

export interface PolicyAckCampaignsTable {
  id: Generated<string>;
  workspace_id: string;
  policy_id: string;
  version_id: string;
  launched_at: Timestamp;
  due_at: Timestamp;
  audience: string[];
  launched_by: string;
  created_at: Created;
}

export interface PolicyAcknowledgementsTable {
  id: Generated<string>;
  workspace_id: string;
  policy_id: string;
  version_id: string;
  campaign_id: string | null;
  email: string;
  acknowledged_at: Timestamp;
  source: 'recorded' | 'imported' | 'self';
  evidence_id: string | null;
  created_at: Created;
}

export interface PolicyTables {
  policies: PoliciesTable;
  policy_versions: PolicyVersionsTable;
  policy_reviews: PolicyReviewsTable;
  policy_ack_campaigns: PolicyAckCampaignsTable;
  policy_acknowledgements: PolicyAcknowledgementsTable;
}
