import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type ChangeStatus = 'planned' | 'approved' | 'implemented' | 'rolled_back' | 'cancelled';

export interface ChangeRecordsTable {
  id: Generated<string>;
  workspace_id: string;
  ticket: string;
  title: string;
  description: string;
  system: string;
  emergency: boolean;
  author: string;
  approver: string | null;
  approved_at: Timestamp | null;
  tester: string | null;
  tested_at: Timestamp | null;
  implemented_at: Timestamp | null;
  status: ChangeStatus;
  evidence_id: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ChangeTables {
  change_records: ChangeRecordsTable;
}
