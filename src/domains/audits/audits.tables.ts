import type { ColumnType, Generated, JSONColumnType } from 'kysely';

export interface AuditPeriodsTable {
  id: Generated<string>;
  workspace_id: string;
  name: string;
  report_type: 'type1' | 'type2';
  starts_on: ColumnType<Date, string, string>;
  ends_on: ColumnType<Date, string, string>;
  categories: string[];
  scope_snapshot: JSONColumnType<Record<string, unknown>, string, string>;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
}

export interface AuditPeriodTables {
  audit_periods: AuditPeriodsTable;
}
