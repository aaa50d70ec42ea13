import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface AccessReviewCampaignsTable {
  id: Generated<string>;
  workspace_id: string;
  name: string;
  scope: JSONColumnType<Record<string, unknown>, string, string>;
  status: 'open' | 'signed_off';
  launched_at: Timestamp;
  launched_by: string;
  due_at: Timestamp;
  snapshot_sha256: string;
  signed_off_at: Timestamp | null;
  signed_off_by: string | null;
  decisions_sha256: string | null;
  evidence_id: string | null;
  created_at: ColumnType<Date, never, never>;
}

export interface AccessReviewItemsTable {
  id: Generated<string>;
  workspace_id: string;
  campaign_id: string;
  identity_id: string | null;
  subject_type: 'person' | 'non_human' | 'unlinked' | 'delegated';
  system: string;
  account: string;
  person_email: string | null;
  owner: string | null;
  entitlement: string;
  privileged: boolean;
  granted_at: Timestamp | null;
  reviewer: string;
  delegated_from: string | null;
  decision: 'keep' | 'revoke' | 'modify' | null;
  justification: string | null;
  decided_by: string | null;
  decided_at: Timestamp | null;
  task_id: string | null;
  confirmed_at: Timestamp | null;
  confirmation: string | null;
  evidence_id: string | null;
}

export interface GovernanceTables {
  access_review_campaigns: AccessReviewCampaignsTable;
  access_review_items: AccessReviewItemsTable;
}
