import type { Selectable } from 'kysely';
import { Type } from 'typebox';
import type { ConnectorsTable } from './connectors.tables.ts';

/** A connector as the API and the CLI show it: never its credentials, only whether it has some. */
export const ConnectorSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.Union([Type.Literal('ldap'), Type.Literal('git')]),
  settings: Type.Record(Type.String(), Type.Unknown()),
  hasCredentials: Type.Boolean(),
  intervalMinutes: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String(),
  createdBy: Type.String(),
  lastRunAt: Type.Union([Type.String(), Type.Null()]),
  lastSuccessAt: Type.Union([Type.String(), Type.Null()]),
  lastStatus: Type.Union([Type.Literal('succeeded'), Type.Literal('failed'), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastSummary: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  cursor: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

export interface ConnectorView {
  id: string;
  name: string;
  kind: 'ldap' | 'git';
  settings: Record<string, unknown>;
  hasCredentials: boolean;
  intervalMinutes: number | null;
  createdAt: string;
  createdBy: string;
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  lastStatus: 'succeeded' | 'failed' | null;
  lastError: string | null;
  lastSummary: Record<string, unknown> | null;
  cursor: Record<string, unknown> | null;
}

export function presentConnector(row: Selectable<ConnectorsTable>): ConnectorView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    settings: row.settings,
    hasCredentials: row.sealed_credentials !== null,
    intervalMinutes: row.interval_minutes,
    createdAt: row.created_at.toISOString(),
    createdBy: `${row.created_by_type}:${row.created_by_id}`,
    lastRunAt: row.last_run_at?.toISOString() ?? null,
    lastSuccessAt: row.last_success_at?.toISOString() ?? null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    lastSummary: row.last_summary,
    cursor: row.cursor,
  };
}
