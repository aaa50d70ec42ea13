import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type ContinuityTestKind = 'backup_restore' | 'dr_exercise';
export type ContinuityResult = 'success' | 'partial' | 'failed';

export interface ContinuityTestsTable {
  id: Generated<string>;
  workspace_id: string;
  kind: ContinuityTestKind;
  target: string;
  performed_at: Timestamp;
  performed_by: string;
  result: ContinuityResult;
  rto_target_minutes: number | null;
  rto_actual_minutes: number | null;
  rpo_target_minutes: number | null;
  rpo_actual_minutes: number | null;
  notes: string;
  evidence_id: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ContinuityTables {
  continuity_tests: ContinuityTestsTable;
}
