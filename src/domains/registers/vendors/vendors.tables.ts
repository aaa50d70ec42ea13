import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Created = ColumnType<Date, Date | undefined, never>;
type Updated = ColumnType<Date, Date | undefined, Date>;

export interface SubserviceOrganization {
  name: string;
  /** Carved out (their controls excluded from the report) or inclusive (included). */
  method: 'carve_out' | 'inclusive';
}

export interface VendorsTable {
  id: Generated<string>;
  workspace_id: string;
  name: string;
  service: string;
  data_accessed: string[];
  criticality: 'low' | 'medium' | 'high' | 'critical';
  in_scope: boolean;
  owner: string | null;
  contract_start: Timestamp | null;
  contract_end: Timestamp | null;
  status: 'active' | 'offboarded';
  review_cadence_days: number;
  last_reviewed_at: Timestamp | null;
  created_at: Created;
  updated_at: Updated;
}

export type VendorDocumentKind = 'soc2_type1' | 'soc2_type2' | 'iso27001' | 'bridging_letter';
export type Opinion = 'unqualified' | 'qualified' | 'adverse' | 'disclaimer';

export interface VendorDocumentsTable {
  id: Generated<string>;
  workspace_id: string;
  vendor_id: string;
  kind: VendorDocumentKind;
  period_start: Timestamp | null;
  period_end: Timestamp;
  auditor: string;
  opinion: Opinion | null;
  exceptions_noted: boolean;
  exceptions_summary: string;
  categories: string[];
  services: string[];
  subservice_organizations: JSONColumnType<SubserviceOrganization[], string, string>;
  received_at: Timestamp;
  reviewed_by: string | null;
  reviewed_at: Timestamp | null;
  notes: string;
  blob_sha256: string | null;
  evidence_id: string | null;
  created_at: Created;
  updated_at: Updated;
}

export interface VendorCuecsTable {
  id: Generated<string>;
  workspace_id: string;
  document_id: string;
  reference: string;
  description: string;
  control_id: string | null;
}

export interface VendorReviewsTable {
  id: Generated<string>;
  workspace_id: string;
  vendor_id: string;
  reviewed_at: Timestamp;
  reviewer: string;
  outcome: 'approved' | 'approved_with_conditions' | 'rejected';
  notes: string;
  evidence_id: string | null;
  created_at: Created;
}

export interface VendorTables {
  vendors: VendorsTable;
  vendor_documents: VendorDocumentsTable;
  vendor_cuecs: VendorCuecsTable;
  vendor_reviews: VendorReviewsTable;
}
