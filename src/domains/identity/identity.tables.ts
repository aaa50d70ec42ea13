import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DateColumn = ColumnType<Date, string, string>;

export interface PeopleTable {
  id: Generated<string>;
  workspace_id: string;
  employee_id: string;
  source: string;
  name: string;
  email: string;
  aliases: Generated<string[]>;
  title: string | null;
  department: string | null;
  manager_email: string | null;
  employment_type: string | null;
  start_date: DateColumn | null;
  end_date: DateColumn | null;
  status: 'active' | 'terminated' | 'on_leave';
  observed_at: Timestamp;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface IdentitiesTable {
  id: Generated<string>;
  workspace_id: string;
  system: string;
  external_id: string;
  user_name: string | null;
  email: string | null;
  display_name: string | null;
  principal_type: Generated<string>;
  status: Generated<'active' | 'suspended' | 'deprovisioned'>;
  status_at: Timestamp | null;
  person_id: string | null;
  link_method: 'email' | 'alias' | 'manual' | null;
  link_locked: Generated<boolean>;
  non_human: Generated<boolean>;
  owner: string | null;
  purpose: string | null;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface IdentityObservationsTable {
  id: Generated<number>;
  workspace_id: string;
  identity_id: string;
  source: string;
  observed_at: Timestamp;
  status: string;
  mfa_enabled: boolean | null;
  password_enabled: boolean | null;
  last_login_at: Timestamp | null;
  password_last_used_at: Timestamp | null;
  data: JSONColumnType<Record<string, unknown>, string, string>;
  batch_id: string | null;
  evidence_id: string | null;
}

export interface EntitlementChangesTable {
  id: Generated<number>;
  workspace_id: string;
  identity_id: string;
  system: string;
  name: string;
  kind: string;
  privileged: boolean;
  granted: boolean;
  at: Timestamp;
  event_id: number | null;
  source: string;
  source_key: string;
}

export interface IdentityTables {
  people: PeopleTable;
  identities: IdentitiesTable;
  identity_observations: IdentityObservationsTable;
  entitlement_changes: EntitlementChangesTable;
}
