import type { ColumnType, Generated } from 'kysely';

export type WorkspaceKind = 'company' | 'msp';

export interface WorkspacesTable {
  id: Generated<string>;
  slug: string;
  name: string;
  kind: WorkspaceKind;
  parent_id: string | null;
  catalog_version: string;
  created_at: ColumnType<Date, never, never>;
}

export interface WorkspaceTables {
  workspaces: WorkspacesTable;
}
