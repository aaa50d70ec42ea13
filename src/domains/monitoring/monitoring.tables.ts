import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = JSONColumnType<Record<string, unknown>, string, string>;

export interface CheckSettingsTable {
  workspace_id: string;
  check_id: string;
  enabled: Generated<boolean>;
  settings: Json;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface CheckResultsTable {
  id: Generated<number>;
  workspace_id: string;
  run_id: string;
  check_id: string;
  subject_key: string;
  subject: Json;
  status: 'pass' | 'fail' | 'not_applicable' | 'no_data';
  detail: string;
  facts: Json;
  as_of: Timestamp;
  evaluated_at: ColumnType<Date, Date | undefined, never>;
  evidence_id: string | null;
}

export interface CheckRunsTable {
  id: string;
  workspace_id: string;
  trigger: string;
  as_of: Timestamp;
  check_ids: string[];
  results: Generated<number>;
  failures: Generated<number>;
  started_at: ColumnType<Date, Date | undefined, never>;
  finished_at: Timestamp | null;
}

export interface FindingsTable {
  id: Generated<string>;
  workspace_id: string;
  check_id: string;
  subject_key: string;
  subject: Json;
  control_ids: string[];
  criteria: string[];
  severity: 'low' | 'medium' | 'high' | 'critical';
  status: 'open' | 'closed' | 'suppressed';
  detail: string;
  opened_at: Timestamp;
  closed_at: Timestamp | null;
  deadline: Timestamp;
  owner: string | null;
  evidence_ids: Generated<string[]>;
  closing_evidence_id: string | null;
  exception_id: string | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface TasksTable {
  id: Generated<string>;
  workspace_id: string;
  kind: string;
  title: string;
  finding_id: string | null;
  assignee: string | null;
  status: 'open' | 'done' | 'cancelled';
  due_at: Timestamp | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  completed_at: Timestamp | null;
  details: Json;
}

export interface ExceptionsTable {
  id: Generated<string>;
  workspace_id: string;
  check_id: string;
  subject_key: string;
  justification: string;
  approver: string;
  approved_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  created_by: string;
  evidence_id: string | null;
  expiry_notified_at: Timestamp | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  revoked_by: string | null;
  revoke_reason: string | null;
}

export interface CustomChecksTable {
  workspace_id: string;
  check_id: string;
  title: string;
  description: Generated<string>;
  subject_kind: 'identity' | 'person' | 'event';
  expression: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  criteria: string[];
  control_ids: Generated<string[]>;
  created_by: Generated<string>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface PolicyStatementsTable {
  id: Generated<string>;
  workspace_id: string;
  policy_id: string | null;
  statement: string;
  check_ids: Generated<string[]>;
  created_by: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ControlStatusIntervalsTable {
  id: Generated<number>;
  workspace_id: string;
  control_id: string;
  status: 'passing' | 'failing' | 'at_risk' | 'no_data' | 'not_evaluated';
  valid_from: Timestamp;
  valid_to: Timestamp | null;
  run_id: string | null;
  reason: Generated<string>;
}

export interface MonitoringTables {
  check_settings: CheckSettingsTable;
  check_results: CheckResultsTable;
  check_runs: CheckRunsTable;
  findings: FindingsTable;
  tasks: TasksTable;
  exceptions: ExceptionsTable;
  control_status_intervals: ControlStatusIntervalsTable;
  custom_checks: CustomChecksTable;
  policy_statements: PolicyStatementsTable;
}
