import type { ColumnType, Generated } from 'kysely';

export interface AuditTrailTable {
  id: Generated<number>;
  /** Null for platform events (sign-ins, people). */
  workspace_id: string | null;
  at: ColumnType<Date, Date | undefined, never>;
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  details: ColumnType<Record<string, unknown>, string, never>;
  /** The ledger evidence that seals this entry (null until the next seal). */
  evidence_id: ColumnType<string | null, never, string>;
}

export interface AuditTables {
  audit_trail: AuditTrailTable;
}
