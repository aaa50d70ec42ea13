import type { ColumnType, Generated } from 'kysely';

export interface ControlsTable {
  id: Generated<string>;
  workspace_id: string;
  template_id: string;
  title: string;
  description: string;
  frequency: string;
  owner_role: string;
  owner: string | null;
  criteria: string[];
  evidence: string[];
  checks: string[];
  status: Generated<string>;
  active: Generated<boolean>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ControlTables {
  controls: ControlsTable;
}
