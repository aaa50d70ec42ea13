import type { ColumnType, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type ConnectorKind = 'ldap' | 'git';

export interface ConnectorsTable {
  id: string;
  workspace_id: string;
  kind: ConnectorKind;
  name: string;
  settings: JSONColumnType<Record<string, unknown>, string, string>;
  /** The credentials as one sealed JSON object (secrets.ts); never leaves the service. */
  sealed_credentials: string | null;
  interval_minutes: number | null;
  created_by_type: string;
  created_by_id: string;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  last_run_at: Timestamp | null;
  last_success_at: Timestamp | null;
  last_status: 'succeeded' | 'failed' | null;
  last_error: string | null;
  last_summary: JSONColumnType<Record<string, unknown>, string | null, string | null> | null;
  cursor: JSONColumnType<Record<string, unknown>, string | null, string | null> | null;
}

export interface ConnectorTables {
  connectors: ConnectorsTable;
}
