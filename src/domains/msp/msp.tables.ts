import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Json<T extends object> = JSONColumnType<T, string, string>;

/** One template item's value: a control, an owner, a check setting, a policy or a cadence. */
export type ItemValue = string | number | boolean | Record<string, unknown> | unknown[];
export type TemplateItems = Record<string, ItemValue>;

export interface MspTemplatesTable {
  id: Generated<string>;
  workspace_id: string;
  name: string;
  version: Generated<number>;
  definition: Json<Record<string, unknown>>;
  items: Json<TemplateItems>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface MspTemplateLinksTable {
  workspace_id: string;
  template_id: string;
  applied_version: number;
  applied_items: Json<TemplateItems>;
  applied_at: ColumnType<Date, Date | undefined, Date>;
}

export interface MspTemplateOverridesTable {
  workspace_id: string;
  item_key: string;
  value: ColumnType<ItemValue | null, string | null, string | null>;
  reason: Generated<string>;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
}

export interface MspClientReportsTable {
  id: Generated<string>;
  workspace_id: string;
  generated_at: ColumnType<Date, Date | undefined, never>;
  generated_by: string;
  snapshot: Json<Record<string, unknown>>;
}

export interface MspTables {
  msp_templates: MspTemplatesTable;
  msp_template_links: MspTemplateLinksTable;
  msp_template_overrides: MspTemplateOverridesTable;
  msp_client_reports: MspClientReportsTable;
}
