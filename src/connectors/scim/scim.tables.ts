import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = JSONColumnType<Record<string, unknown>, string, string>;

export interface ScimTokensTable {
  id: Generated<string>;
  workspace_id: string;
  directory: string;
  name: string;
  secret_hash: string;
  created_by_type: string;
  created_by_id: string;
  created_at: ColumnType<Date, never, never>;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface ScimUsersTable {
  id: Generated<string>;
  workspace_id: string;
  directory: string;
  user_name: string;
  external_id: string | null;
  active: boolean;
  resource: Json;
  version: Generated<number>;
  created_at: ColumnType<Date, never, never>;
  updated_at: Timestamp;
}

export interface ScimGroupsTable {
  id: Generated<string>;
  workspace_id: string;
  directory: string;
  display_name: string;
  external_id: string | null;
  resource: Json;
  version: Generated<number>;
  created_at: ColumnType<Date, never, never>;
  updated_at: Timestamp;
}

export interface ScimGroupMembersTable {
  workspace_id: string;
  group_id: string;
  user_id: string;
  display: string | null;
  added_at: ColumnType<Date, never, never>;
}

export interface ScimTables {
  scim_tokens: ScimTokensTable;
  scim_users: ScimUsersTable;
  scim_groups: ScimGroupsTable;
  scim_group_members: ScimGroupMembersTable;
}
