import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type ChannelKind = 'email' | 'webhook' | 'slack';

export interface NotificationChannelsTable {
  id: string;
  workspace_id: string;
  name: string;
  kind: ChannelKind;
  target: string;
  secret: string | null;
  events: string[];
  min_severity: Severity;
  digest_seconds: number;
  enabled: Generated<boolean>;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
}

export interface NotificationEventsTable {
  id: Generated<string>;
  workspace_id: string;
  kind: string;
  severity: Severity;
  dedupe_key: string;
  title: string;
  data: JSONColumnType<Record<string, unknown>, string, string>;
  occurred_at: Timestamp;
  created_at: ColumnType<Date, never, never>;
}

export interface NotificationDeliveriesTable {
  id: Generated<number>;
  workspace_id: string;
  channel_id: string;
  event_id: string;
  status: ColumnType<
    'pending' | 'sending' | 'sent' | 'failed',
    'pending' | undefined,
    'pending' | 'sending' | 'sent' | 'failed'
  >;
  job_id: number | null;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: ColumnType<Date, never, never>;
  sent_at: Timestamp | null;
}

export interface NotificationFindingStatesTable {
  finding_id: string;
  workspace_id: string;
  notified_status: 'open' | 'closed';
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface NotificationCursorsTable {
  workspace_id: string;
  drift_interval_id: number;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface NotificationTables {
  notification_channels: NotificationChannelsTable;
  notification_events: NotificationEventsTable;
  notification_deliveries: NotificationDeliveriesTable;
  notification_finding_states: NotificationFindingStatesTable;
  notification_cursors: NotificationCursorsTable;
}
