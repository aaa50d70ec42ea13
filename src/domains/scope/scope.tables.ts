import type { ColumnType, Generated } from 'kysely';

export interface WorkspaceScopesTable {
  workspace_id: string;
  categories: string[];
  catalog_version: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type SystemKind = 'application' | 'infrastructure' | 'data_store' | 'saas' | 'endpoint_fleet';
export type SystemEnvironment = 'production' | 'staging' | 'development' | 'corporate';
export type DataClassification = 'public' | 'internal' | 'confidential' | 'restricted';

export interface SystemsTable {
  id: Generated<string>;
  workspace_id: string;
  name: string;
  kind: SystemKind;
  environment: SystemEnvironment;
  owner: string | null;
  data_classification: DataClassification;
  description: Generated<string>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ScopeTables {
  workspace_scopes: WorkspaceScopesTable;
  systems: SystemsTable;
}
