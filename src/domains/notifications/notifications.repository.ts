import { type Selectable, sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { NotificationChannelsTable, NotificationEventsTable, Severity } from './notifications.tables.ts';

export type ChannelRow = Selectable<NotificationChannelsTable>;
export type EventRow = Selectable<NotificationEventsTable>;

export async function insertChannel(
  trx: Trx,
  values: Omit<ChannelRow, 'created_at' | 'enabled'> & { enabled?: boolean },
): Promise<ChannelRow> {
  return trx.insertInto('notification_channels').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function listChannelRows(trx: Trx, workspaceId: string): Promise<ChannelRow[]> {
  return trx
    .selectFrom('notification_channels')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .orderBy('name')
    .execute();
}

export async function findChannelRow(
  trx: Trx,
  workspaceId: string,
  ref: string,
): Promise<ChannelRow | undefined> {
  const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);
  return trx
    .selectFrom('notification_channels')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where(byId ? 'id' : 'name', '=', ref)
    .executeTakeFirst();
}

export async function deleteChannelRow(trx: Trx, workspaceId: string, id: string): Promise<void> {
  await trx
    .deleteFrom('notification_channels')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export async function hasEnabledChannels(trx: Trx, workspaceId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('notification_channels')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('enabled', '=', true)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export interface NewNotificationEvent {
  kind: string;
  severity: Severity;
  dedupeKey: string;
  title: string;
  data: Record<string, unknown>;
  occurredAt: Date;
}

/** Inserts the event unless the same happening was recorded before; returns it only if new. */
export async function insertEventOnce(
  trx: Trx,
  workspaceId: string,
  event: NewNotificationEvent,
): Promise<EventRow | undefined> {
  return trx
    .insertInto('notification_events')
    .values({
      workspace_id: workspaceId,
      kind: event.kind,
      severity: event.severity,
      dedupe_key: event.dedupeKey,
      title: event.title,
      data: JSON.stringify(event.data),
      occurred_at: event.occurredAt,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'dedupe_key']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function insertDelivery(trx: Trx, workspaceId: string, channelId: string, eventId: string) {
  await trx
    .insertInto('notification_deliveries')
    .values({
      workspace_id: workspaceId,
      channel_id: channelId,
      event_id: eventId,
      job_id: null,
      last_error: null,
    })
    .onConflict((oc) => oc.columns(['channel_id', 'event_id']).doNothing())
    .execute();
}

export interface ClaimedDelivery {
  id: number;
  event: EventRow;
}

/**
 * Takes a channel's pending deliveries for one send job (and those the same job took before a
 * crash), oldest first.
 */
export async function takeDeliveries(
  trx: Trx,
  workspaceId: string,
  channelId: string,
  jobId: number,
  limit: number,
): Promise<ClaimedDelivery[]> {
  const taken = await sql<{ id: number; event_id: string }>`
    update notification_deliveries set status = 'sending', job_id = ${jobId}, attempts = attempts + 1
    where id in (
      select id from notification_deliveries
      where workspace_id = ${workspaceId} and channel_id = ${channelId}
        and (status = 'pending' or (status = 'sending' and job_id = ${jobId}))
      order by id
      limit ${limit}
      for update skip locked
    )
    returning id, event_id`.execute(trx);
  if (taken.rows.length === 0) return [];
  const events = await trx
    .selectFrom('notification_events')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where(
      'id',
      'in',
      taken.rows.map((r) => r.event_id),
    )
    .execute();
  const byId = new Map(events.map((e) => [e.id, e]));
  return taken.rows.map((r) => ({ id: r.id, event: byId.get(r.event_id)! })).sort((a, b) => a.id - b.id);
}

export async function finishDeliveries(
  trx: Trx,
  workspaceId: string,
  ids: number[],
  status: 'sent' | 'pending' | 'failed',
  error: string | null,
) {
  if (ids.length === 0) return;
  await trx
    .updateTable('notification_deliveries')
    .set({
      status,
      last_error: error,
      sent_at: status === 'sent' ? new Date() : null,
      job_id: status === 'pending' ? null : undefined,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
}

export async function countPendingDeliveries(
  trx: Trx,
  workspaceId: string,
  channelId: string,
): Promise<number> {
  const row = await trx
    .selectFrom('notification_deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('channel_id', '=', channelId)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface DeliveryView {
  id: number;
  channelId: string;
  status: string;
  attempts: number;
  lastError: string | null;
  sentAt: Date | null;
  event: { kind: string; severity: string; title: string; occurredAt: Date };
}

export async function listRecentDeliveries(
  trx: Trx,
  workspaceId: string,
  limit: number,
): Promise<DeliveryView[]> {
  const rows = await trx
    .selectFrom('notification_deliveries as d')
    .innerJoin('notification_events as e', 'e.id', 'd.event_id')
    .select([
      'd.id',
      'd.channel_id',
      'd.status',
      'd.attempts',
      'd.last_error',
      'd.sent_at',
      'e.kind',
      'e.severity',
      'e.title',
      'e.occurred_at',
    ])
    .where('d.workspace_id', '=', workspaceId)
    .orderBy('d.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    channelId: r.channel_id,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    sentAt: r.sent_at,
    event: { kind: r.kind, severity: r.severity, title: r.title, occurredAt: r.occurred_at },
  }));
}

// --- What has been announced: findings and control status changes -------------------------------

export interface FindingChange {
  id: string;
  check_id: string;
  subject: Record<string, unknown>;
  control_ids: string[];
  criteria: string[];
  severity: Severity;
  status: 'open' | 'closed' | 'suppressed';
  detail: string;
  opened_at: Date;
  closed_at: Date | null;
  deadline: Date;
  owner: string | null;
}

/** Open findings not yet announced as open; marks them announced (so only one caller sees each). */
export async function takeNewlyOpenFindings(trx: Trx, workspaceId: string): Promise<FindingChange[]> {
  const { rows } = await sql<FindingChange>`
    with changed as (
      insert into notification_finding_states (finding_id, workspace_id, notified_status)
      select f.id, f.workspace_id, 'open' from findings f
      where f.workspace_id = ${workspaceId} and f.status = 'open'
        and not exists (
          select 1 from notification_finding_states s
          where s.finding_id = f.id and s.notified_status = 'open')
      on conflict (finding_id) do update set notified_status = 'open', updated_at = now()
        where notification_finding_states.notified_status <> 'open'
      returning finding_id
    )
    select f.id, f.check_id, f.subject, f.control_ids, f.criteria, f.severity, f.status, f.detail,
      f.opened_at, f.closed_at, f.deadline, f.owner
    from findings f join changed c on c.finding_id = f.id
    order by f.opened_at, f.id`.execute(trx);
  return rows;
}

/** Findings announced as open that are no longer open (closed, or suppressed by an exception). */
export async function takeNewlyClosedFindings(trx: Trx, workspaceId: string): Promise<FindingChange[]> {
  const { rows } = await sql<FindingChange>`
    with changed as (
      update notification_finding_states s set notified_status = 'closed', updated_at = now()
      from findings f
      where s.workspace_id = ${workspaceId} and s.notified_status = 'open'
        and f.id = s.finding_id and f.status <> 'open'
      returning s.finding_id
    )
    select f.id, f.check_id, f.subject, f.control_ids, f.criteria, f.severity, f.status, f.detail,
      f.opened_at, f.closed_at, f.deadline, f.owner
    from findings f join changed c on c.finding_id = f.id
    order by f.closed_at, f.id`.execute(trx);
  return rows;
}

/**
 * Marks every finding as announced in its current state, and the control timeline as announced up
 * to now: a channel added now hears of changes from now on, not of the whole history.
 */
export async function baselineAnnouncements(trx: Trx, workspaceId: string): Promise<void> {
  await sql`
    insert into notification_finding_states (finding_id, workspace_id, notified_status)
    select id, workspace_id, 'open' from findings where workspace_id = ${workspaceId} and status = 'open'
    on conflict (finding_id) do update set notified_status = 'open', updated_at = now()
      where notification_finding_states.notified_status <> 'open'`.execute(trx);
  await sql`
    update notification_finding_states s set notified_status = 'closed', updated_at = now()
    from findings f
    where s.workspace_id = ${workspaceId} and s.notified_status = 'open' and f.id = s.finding_id
      and f.status <> 'open'`.execute(trx);
  await sql`
    insert into notification_cursors (workspace_id, drift_interval_id)
    select ${workspaceId}, coalesce(max(id), 0) from control_status_intervals where workspace_id = ${workspaceId}
    on conflict (workspace_id) do update set drift_interval_id = excluded.drift_interval_id, updated_at = now()`.execute(
    trx,
  );
}

export interface DriftRow {
  id: number;
  control_id: string;
  template_id: string;
  title: string;
  status: string;
  previous: string | null;
  valid_from: Date;
  reason: string;
}

/** Control status intervals opened since the cursor; advances the cursor. */
export async function takeDrift(trx: Trx, workspaceId: string): Promise<DriftRow[]> {
  const cursor = await sql<{ drift_interval_id: number }>`
    select drift_interval_id from notification_cursors where workspace_id = ${workspaceId} for update`.execute(
    trx,
  );
  const from = cursor.rows[0]?.drift_interval_id;
  if (from === undefined) {
    await baselineAnnouncements(trx, workspaceId);
    return [];
  }
  const { rows } = await sql<DriftRow>`
    select i.id, i.control_id, c.template_id, c.title, i.status, prev.status as previous, i.valid_from, i.reason
    from control_status_intervals i
    join controls c on c.id = i.control_id
    left join lateral (
      select p.status from control_status_intervals p
      where p.workspace_id = i.workspace_id and p.control_id = i.control_id and p.id < i.id
      order by p.id desc limit 1
    ) prev on true
    where i.workspace_id = ${workspaceId} and i.id > ${from}
    order by i.id
    limit 5000`.execute(trx);
  const last = rows.at(-1);
  if (last) {
    await sql`
      update notification_cursors set drift_interval_id = ${last.id}, updated_at = now()
      where workspace_id = ${workspaceId}`.execute(trx);
  }
  return rows;
}

export interface ExceptionDue {
  id: string;
  check_id: string;
  subject_key: string;
  justification: string;
  approver: string;
  expires_at: Date;
}

/** Live exceptions expiring within `withinDays`, and those expired within the last `withinDays`. */
export async function exceptionsNearExpiry(
  trx: Trx,
  workspaceId: string,
  now: Date,
  withinDays: number,
): Promise<{ expiring: ExceptionDue[]; expired: ExceptionDue[] }> {
  const window = withinDays * 86_400_000;
  const rows = await trx
    .selectFrom('exceptions')
    .select(['id', 'check_id', 'subject_key', 'justification', 'approver', 'expires_at'])
    .where('workspace_id', '=', workspaceId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date(now.getTime() - window))
    .where('expires_at', '<=', new Date(now.getTime() + window))
    .orderBy('expires_at')
    .execute();
  return {
    expiring: rows.filter((r) => r.expires_at > now),
    expired: rows.filter((r) => r.expires_at <= now),
  };
}
