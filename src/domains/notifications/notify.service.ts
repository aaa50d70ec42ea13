/**
 * From what happened to who hears of it. After each evaluation (by a worker, the CLI or the API)
 * a sweep compares findings and control timelines with what was already announced and records
 * each new happening once; every subscribed channel gets a delivery, and one send job per
 * channel carries all deliveries of its digest window (critical ones go at once). Sending
 * happens in the worker, with retries through the job queue.
 */
import { createHash } from 'node:crypto';
import type { Database, Trx } from '../../db/database.ts';
import { enqueueJob, wakeWorkers } from '../../jobs/queue.ts';
import { builtInCheckById } from '../monitoring/checks/index.ts';
import type { SecretBox } from '../secrets/secrets.ts';
import { type NotificationItem, renderMessage, severityAtLeast } from './messages.ts';
import {
  type ChannelRow,
  countPendingDeliveries,
  type DriftRow,
  type ExceptionDue,
  exceptionsNearExpiry,
  type FindingChange,
  findChannelRow,
  finishDeliveries,
  hasEnabledChannels,
  insertDelivery,
  insertEventOnce,
  listChannelRows,
  type NewNotificationEvent,
  takeDeliveries,
  takeDrift,
  takeNewlyClosedFindings,
  takeNewlyOpenFindings,
} from './notifications.repository.ts';
import type { Severity } from './notifications.tables.ts';
import { type MailSettings, postSignedWebhook, postSlack, sendEmail } from './transports.ts';

export const sendNotificationKind = 'send_notification';
/** Days before an exception's expiry that its owners hear of it. */
const exceptionNoticeDays = 7;
const maxPerMessage = 100;

export interface NotifierDeps {
  database: Database;
  secrets: SecretBox;
  mail: MailSettings;
}

export function channelSecretContext(workspaceId: string, channelId: string): string {
  return `notification-channel:${workspaceId}:${channelId}`;
}

/**
 * Records happenings (each once, by dedupe key) and queues a delivery for every channel that
 * subscribes to it, within the caller's workspace transaction. Returns how many were new.
 */
export async function recordNotifications(
  trx: Trx,
  workspaceId: string,
  events: NewNotificationEvent[],
  channels?: ChannelRow[],
): Promise<number> {
  if (events.length === 0) return 0;
  const subscribed = (channels ?? (await listChannelRows(trx, workspaceId))).filter((c) => c.enabled);
  const delayByChannel = new Map<string, number>();
  let recorded = 0;
  for (const event of events) {
    const row = await insertEventOnce(trx, workspaceId, event);
    if (!row) continue;
    recorded++;
    for (const channel of subscribed) {
      if (!channel.events.includes(event.kind) || !severityAtLeast(event.severity, channel.min_severity))
        continue;
      await insertDelivery(trx, workspaceId, channel.id, row.id);
      const delay = event.severity === 'critical' ? 0 : channel.digest_seconds * 1000;
      delayByChannel.set(channel.id, Math.min(delay, delayByChannel.get(channel.id) ?? delay));
    }
  }
  for (const [channelId, delayMs] of delayByChannel) {
    await enqueueJob(
      trx,
      workspaceId,
      sendNotificationKind,
      { channelId },
      { dedupeKey: `notify:${channelId}`, delayMs, maxAttempts: 8 },
    );
  }
  return recorded;
}

function subjectName(subject: Record<string, unknown>): string {
  const name = subject.email ?? subject.name ?? subject.id;
  return typeof name === 'string' ? name : JSON.stringify(subject);
}

function findingEvent(kind: 'finding.opened' | 'finding.closed', f: FindingChange): NewNotificationEvent {
  const check = builtInCheckById.get(f.check_id);
  const what =
    kind === 'finding.opened'
      ? 'Finding opened'
      : f.status === 'suppressed'
        ? 'Finding suppressed'
        : 'Finding closed';
  const at = kind === 'finding.opened' ? f.opened_at : (f.closed_at ?? new Date());
  return {
    kind,
    severity: f.severity,
    dedupeKey: `${kind}:${f.id}:${new Date(at).getTime()}`,
    title: `${what}: ${check?.title ?? f.check_id} — ${subjectName(f.subject)}`,
    occurredAt: new Date(at),
    data: {
      findingId: f.id,
      checkId: f.check_id,
      status: f.status,
      subject: f.subject,
      controlIds: f.control_ids,
      criteria: f.criteria,
      detail: f.detail,
      owner: f.owner,
      openedAt: new Date(f.opened_at).toISOString(),
      closedAt: f.closed_at ? new Date(f.closed_at).toISOString() : null,
      deadline: new Date(f.deadline).toISOString(),
    },
  };
}

function driftEvent(d: DriftRow): NewNotificationEvent | undefined {
  // A control's first status is not a change, unless it starts out failing.
  if (d.previous === null && d.status !== 'failing') return undefined;
  const severity: Severity = d.status === 'failing' ? 'high' : d.status === 'at_risk' ? 'medium' : 'low';
  return {
    kind: 'control.drift',
    severity,
    dedupeKey: `control.drift:${d.id}`,
    title: `Control ${d.template_id} ${d.title}: ${d.previous ?? 'not evaluated'} → ${d.status}`,
    occurredAt: new Date(d.valid_from),
    data: {
      controlId: d.control_id,
      templateId: d.template_id,
      from: d.previous,
      to: d.status,
      detail: d.reason,
    },
  };
}

function exceptionEvent(
  kind: 'exception.expiring' | 'exception.expired',
  e: ExceptionDue,
): NewNotificationEvent {
  const expires = new Date(e.expires_at);
  const check = builtInCheckById.get(e.check_id);
  return {
    kind,
    severity: kind === 'exception.expired' ? 'medium' : 'low',
    dedupeKey: `${kind}:${e.id}:${expires.getTime()}`,
    title: `Exception ${kind === 'exception.expired' ? 'expired' : 'expires'} ${expires.toISOString()}: ${check?.title ?? e.check_id} — ${e.subject_key}`,
    occurredAt: kind === 'exception.expired' ? expires : new Date(),
    data: {
      exceptionId: e.id,
      checkId: e.check_id,
      subjectKey: e.subject_key,
      approver: e.approver,
      expiresAt: expires.toISOString(),
      detail: e.justification,
    },
  };
}

export interface SweepOptions {
  /** Also look for exceptions expiring soon or just expired (the scheduled sweep). */
  exceptions?: boolean;
  now?: Date;
}

/**
 * Compares the workspace's findings, control timeline (and, if asked, exceptions) with what was
 * announced, and records what is new. Cheap when the workspace has no channel: nothing is read.
 */
export async function sweepNotifications(
  database: Database,
  workspaceId: string,
  options: SweepOptions = {},
): Promise<number> {
  const recorded = await database.inWorkspace(workspaceId, async (trx) => {
    if (!(await hasEnabledChannels(trx, workspaceId))) return 0;
    const channels = await listChannelRows(trx, workspaceId);
    const events: NewNotificationEvent[] = [];
    for (const f of await takeNewlyOpenFindings(trx, workspaceId))
      events.push(findingEvent('finding.opened', f));
    for (const f of await takeNewlyClosedFindings(trx, workspaceId))
      events.push(findingEvent('finding.closed', f));
    for (const d of await takeDrift(trx, workspaceId)) {
      const event = driftEvent(d);
      if (event) events.push(event);
    }
    if (options.exceptions) {
      const due = await exceptionsNearExpiry(
        trx,
        workspaceId,
        options.now ?? new Date(),
        exceptionNoticeDays,
      );
      for (const e of due.expiring) events.push(exceptionEvent('exception.expiring', e));
      for (const e of due.expired) events.push(exceptionEvent('exception.expired', e));
    }
    return recordNotifications(trx, workspaceId, events, channels);
  });
  if (recorded > 0) wakeWorkers();
  return recorded;
}

/** Sends one message to one channel; throws with a reason the queue records. */
export async function deliver(
  deps: NotifierDeps,
  channel: ChannelRow,
  workspace: { slug: string; name: string },
  items: NotificationItem[],
  deliveryId: string,
): Promise<void> {
  const message = renderMessage(workspace, items, { deliveryId, channel: channel.name, sentAt: new Date() });
  switch (channel.kind) {
    case 'email':
      await sendEmail(deps.mail, {
        to: channel.target.split(',').map((s) => s.trim()),
        subject: message.subject,
        text: message.text,
      });
      return;
    case 'webhook': {
      const secret = deps.secrets.decrypt(
        channel.secret ?? '',
        channelSecretContext(channel.workspace_id, channel.id),
      );
      await postSignedWebhook(channel.target, secret, JSON.stringify(message.json), {
        deliveryId,
        event: items.length === 1 ? items[0]!.kind : 'digest',
      });
      return;
    }
    case 'slack': {
      const url = deps.secrets.decrypt(
        channel.secret ?? '',
        channelSecretContext(channel.workspace_id, channel.id),
      );
      await postSlack(url, message.slack);
      return;
    }
  }
}

/**
 * The `send_notification` job: one message with everything pending for the channel. On failure
 * the deliveries go back to pending and the job is retried with backoff; after the last attempt
 * they are marked failed with the reason.
 */
export async function sendChannelNotifications(
  deps: NotifierDeps,
  workspaceId: string,
  channelId: string,
  jobId: number,
  lastAttempt: boolean,
): Promise<{ sent: number }> {
  const { database } = deps;
  const taken = await database.inWorkspace(workspaceId, async (trx) => {
    const channel = await findChannelRow(trx, workspaceId, channelId);
    if (!channel) return undefined;
    const workspace = await trx
      .selectFrom('workspaces')
      .select(['slug', 'name'])
      .where('id', '=', workspaceId)
      .executeTakeFirstOrThrow();
    return {
      channel,
      workspace,
      deliveries: await takeDeliveries(trx, workspaceId, channelId, jobId, maxPerMessage),
    };
  });
  // A removed channel's deliveries went with it.
  if (!taken || taken.deliveries.length === 0) return { sent: 0 };
  const ids = taken.deliveries.map((d) => d.id);
  const items: NotificationItem[] = taken.deliveries.map(({ event }) => ({
    id: event.id,
    kind: event.kind,
    severity: event.severity,
    title: event.title,
    occurredAt: new Date(event.occurred_at),
    data: event.data,
  }));
  const deliveryId = createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 32);
  try {
    await deliver(deps, taken.channel, taken.workspace, items, deliveryId);
  } catch (error) {
    const reason = (error as Error).message;
    await database.inWorkspace(workspaceId, (trx) =>
      finishDeliveries(trx, workspaceId, ids, lastAttempt ? 'failed' : 'pending', reason),
    );
    throw error;
  }
  const more = await database.inWorkspace(workspaceId, async (trx) => {
    await finishDeliveries(trx, workspaceId, ids, 'sent', null);
    const pending = await countPendingDeliveries(trx, workspaceId, channelId);
    // More than one message's worth arrived: send the rest straight after.
    if (pending > 0 && taken.deliveries.length >= maxPerMessage) {
      await enqueueJob(
        trx,
        workspaceId,
        sendNotificationKind,
        { channelId },
        { dedupeKey: `notify:${channelId}` },
      );
      return true;
    }
    return false;
  });
  if (more) wakeWorkers();
  return { sent: ids.length };
}
