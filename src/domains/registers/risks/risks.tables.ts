import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Created = ColumnType<Date, Date | undefined, never>;
type Updated = ColumnType<Date, Date | undefined, Date>;

export type Treatment = 'mitigate' | 'accept' | 'transfer' | 'avoid';

export interface RiskMatricesTable {
  workspace_id: string;
  likelihood_levels: number;
  impact_levels: number;
  medium_from: number;
  high_from: number;
  critical_from: number;
  updated_at: Updated;
}

export interface RisksTable {
  id: Generated<string>;
  workspace_id: string;
  reference: string;
  title: string;
  description: string;
  category: string;
  owner: string | null;
  fraud_risk: boolean;
  inherent_likelihood: number;
  inherent_impact: number;
  residual_likelihood: number | null;
  residual_impact: number | null;
  treatment: Treatment;
  treatment_plan: string;
  control_ids: string[];
  status: 'open' | 'closed';
  review_cadence_days: number;
  last_reviewed_at: Timestamp | null;
  evidence_id: string | null;
  created_at: Created;
  updated_at: Updated;
}

export interface RiskReviewsTable {
  id: Generated<string>;
  workspace_id: string;
  risk_id: string;
  reviewed_at: Timestamp;
  reviewer: string;
  notes: string;
  snapshot: JSONColumnType<Record<string, unknown>, string, string>;
  evidence_id: string | null;
  created_at: Created;
}

export type SignificantChangeKind = 'new_system' | 'new_vendor' | 'org_change' | 'other';

export interface SignificantChangesTable {
  id: Generated<string>;
  workspace_id: string;
  kind: SignificantChangeKind;
  source_key: string;
  description: string;
  detected_at: Timestamp;
  task_id: string | null;
  assessed_at: Timestamp | null;
  assessed_by: string | null;
  assessment: string | null;
  risk_ids: string[];
  evidence_id: string | null;
  created_at: Created;
}

export interface RiskTables {
  risk_matrices: RiskMatricesTable;
  risks: RisksTable;
  risk_reviews: RiskReviewsTable;
  significant_changes: SignificantChangesTable;
}
