import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface EventsTable {
  id: Generated<number>;
  workspace_id: string;
  source: string;
  source_key: string;
  system: string;
  time: Timestamp;
  class_uid: number;
  activity_id: number;
  type_uid: number;
  action: string;
  outcome: string;
  actor_identity_id: string | null;
  target_identity_id: string | null;
  person_id: string | null;
  repository: string | null;
  data: JSONColumnType<Record<string, unknown>, string, string>;
  raw: ColumnType<unknown, string | null, string | null>;
  batch_id: string | null;
  evidence_id: string | null;
  received_at: ColumnType<Date, never, never>;
}

export interface ImportBatchesTable {
  id: Generated<string>;
  workspace_id: string;
  kind: string;
  file_name: string;
  status: 'running' | 'committed' | 'rejected';
  records_read: Generated<number>;
  events_stored: Generated<number>;
  duplicates: Generated<number>;
  people: Generated<number>;
  identities: Generated<number>;
  entitlement_changes: Generated<number>;
  rejected: Generated<number>;
  error: string | null;
  actor_type: string;
  actor_id: string;
  started_at: ColumnType<Date, Date | undefined, never>;
  finished_at: Timestamp | null;
}

export interface IngestTables {
  events: EventsTable;
  import_batches: ImportBatchesTable;
}
