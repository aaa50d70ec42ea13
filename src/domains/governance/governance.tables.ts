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
  kind: ColumnType<'review' | 'mover', 'review' | 'mover' | undefined, 'review' | 'mover'>;
  subject_email: ColumnType<string | null, string | null | undefined, string | null>;
  mover_change: ColumnType<unknown, string | null | undefined, string | null>;
  fallback_reviewer: ColumnType<string | null, string | null | undefined, string | null>;
  due_in_days: ColumnType<number | null, number | null | undefined, number | null>;
  recurrence: ColumnType<Recurrence | null, Recurrence | null | undefined, Recurrence | null>;
  series_id: ColumnType<string | null, string | null | undefined, string | null>;
  series_name: ColumnType<string | null, string | null | undefined, string | null>;
  next_launch_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type Recurrence = 'monthly' | 'quarterly' | 'annually';

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
  flag: ColumnType<string | null, string | null | undefined, string | null>;
  flag_reason: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface GovernanceJobProfilesTable {
  workspace_id: string;
  source: string;
  email: string;
  title: string | null;
  department: string | null;
  manager_email: string | null;
  seen_at: Timestamp;
}

export interface GovernanceSettingsTable {
  workspace_id: string;
  settings: JSONColumnType<Record<string, unknown>, string, string>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface GovernanceTables {
  access_review_campaigns: AccessReviewCampaignsTable;
  access_review_items: AccessReviewItemsTable;
  governance_job_profiles: GovernanceJobProfilesTable;
  governance_settings: GovernanceSettingsTable;
}
