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

export interface AuditRequestsTable {
  id: Generated<string>;
  workspace_id: string;
  period_id: string;
  request_ref: string;
  description: string;
  control_refs: string[];
  criterion_refs: string[];
  control_ids: string[];
  due_on: ColumnType<string | null, string | null, string | null>;
  status: 'open' | 'fulfilled';
  fulfilment: 'automatic' | 'manual' | null;
  fulfilled_at: ColumnType<Date | null, Date | null, Date | null>;
  fulfilled_by: string | null;
  evidence_ids: ColumnType<string[], string[] | undefined, string[]>;
  note: string | null;
  source_line: number;
  imported_by: string;
  imported_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface AuditRequestTables {
  audit_requests: AuditRequestsTable;
}
