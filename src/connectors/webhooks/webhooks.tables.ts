import type { ColumnType, Generated } from 'kysely';

export interface WebhookSecretsTable {
  id: string;
  workspace_id: string;
  source: string;
  sealed_secret: string;
  created_by_type: string;
  created_by_id: string;
  created_at: ColumnType<Date, never, never>;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  workspace_id: string;
  source: string;
  delivery_id: string;
  event_name: string;
  status: 'stored' | 'ignored';
  events_stored: number;
  duplicates: number;
  received_at: ColumnType<Date, never, never>;
}

export interface WebhookRejectionsTable {
  id: Generated<number>;
  workspace_id: string | null;
  workspace_ref: string;
  source: string;
  reason: string;
  remote_address: string | null;
  delivery_id: string | null;
  event_name: string | null;
  received_at: ColumnType<Date, never, never>;
}

export interface WebhookTables {
  webhook_secrets: WebhookSecretsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_rejections: WebhookRejectionsTable;
}
