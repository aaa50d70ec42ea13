/**
 * Notification channels of a workspace: where its notifications go (email recipients, a signed
 * webhook, a Slack-compatible incoming webhook), which happenings they subscribe to, from which
 * severity, and the digest window. Secrets (webhook signing secrets, Slack URLs, which grant
 * posting rights) are sealed at rest and never returned.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/database.ts';
import { AssayError, isAssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { insertAuditEntry } from '../audit/audit.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { type NotificationKind, notificationKinds } from './messages.ts';
import {
  baselineAnnouncements,
  type ChannelRow,
  deleteChannelRow,
  findChannelRow,
  insertChannel,
  listChannelRows,
  listRecentDeliveries,
} from './notifications.repository.ts';
import type { ChannelKind, Severity } from './notifications.tables.ts';
import { channelSecretContext, deliver, type NotifierDeps } from './notify.service.ts';

export const channelKinds: readonly ChannelKind[] = ['email', 'webhook', 'slack'];
export const severities: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export interface ChannelInput {
  name: string;
  kind: string;
  /** Email: recipients. */
  to?: string[] | undefined;
  /** Webhook or Slack: where to post. */
  url?: string | undefined;
  /** Webhook: the signing secret the receiver verifies with (16+ characters). */
  secret?: string | undefined;
  events?: string[] | undefined;
  minSeverity?: string | undefined;
  /** Seconds notifications are gathered into one message (0 = each at once). */
  digestSeconds?: number | undefined;
}

export interface ChannelView {
  id: string;
  name: string;
  kind: ChannelKind;
  /** Recipients, the webhook URL, or only the host of a Slack URL (the URL itself is a secret). */
  target: string;
  events: string[];
  minSeverity: Severity;
  digestSeconds: number;
  enabled: boolean;
  hasSecret: boolean;
  createdBy: string;
  createdAt: string;
}

export function presentChannel(row: ChannelRow): ChannelView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    target: row.target,
    events: row.events,
    minSeverity: row.min_severity,
    digestSeconds: row.digest_seconds,
    enabled: row.enabled,
    hasSecret: row.secret !== null,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

function invalid(field: string, message: string): AssayError {
  return new AssayError('validation_failed', `${field}: ${message}`, { field });
}

const emailPattern = /^[^\s@,<>]+@[^\s@,<>]+\.[^\s@,<>]+$/;

function parseUrl(field: string, raw: string | undefined): URL {
  if (raw === undefined || raw.trim() === '') throw invalid(field, 'required for this kind of channel');
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw invalid(field, 'is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(field, 'must be an http(s) URL');
  if (url.username || url.password) throw invalid(field, 'must not carry credentials');
  return url;
}

interface ValidChannel {
  name: string;
  kind: ChannelKind;
  target: string;
  secret: string | null;
  events: NotificationKind[];
  minSeverity: Severity;
  digestSeconds: number;
}

export function validateChannel(input: ChannelInput, defaults: { digestSeconds: number }): ValidChannel {
  const name = input.name?.trim() ?? '';
  if (name.length < 1 || name.length > 100) throw invalid('name', 'must be 1 to 100 characters');
  if (!(channelKinds as readonly string[]).includes(input.kind)) {
    throw invalid('kind', `must be one of ${channelKinds.join(', ')}`);
  }
  const kind = input.kind as ChannelKind;
  const events = input.events ?? [...notificationKinds];
  if (events.length === 0) throw invalid('events', 'subscribe to at least one event');
  for (const event of events) {
    if (!(notificationKinds as readonly string[]).includes(event)) {
      throw invalid('events', `unknown event "${event}" (expected ${notificationKinds.join(', ')})`);
    }
  }
  const minSeverity = input.minSeverity ?? 'low';
  if (!(severities as readonly string[]).includes(minSeverity)) {
    throw invalid('minSeverity', `must be one of ${severities.join(', ')}`);
  }
  const digestSeconds = input.digestSeconds ?? defaults.digestSeconds;
  if (!Number.isInteger(digestSeconds) || digestSeconds < 0 || digestSeconds > 86_400) {
    throw invalid('digestSeconds', 'must be an integer from 0 to 86400');
  }
  let target: string;
  let secret: string | null = null;
  if (kind === 'email') {
    const to = (input.to ?? []).map((s) => s.trim()).filter(Boolean);
    if (to.length === 0 || to.length > 50) throw invalid('to', 'list 1 to 50 recipients');
    for (const address of to)
      if (!emailPattern.test(address)) throw invalid('to', `"${address}" is not an email address`);
    if (input.url !== undefined) throw invalid('url', 'email channels take recipients, not a URL');
    target = [...new Set(to.map((a) => a.toLowerCase()))].join(', ');
  } else if (kind === 'webhook') {
    target = parseUrl('url', input.url).toString();
    const given = input.secret ?? '';
    if (given.length < 16 || given.length > 256) {
      throw invalid(
        'secret',
        'a signing secret of 16 to 256 characters is required (the receiver verifies with it)',
      );
    }
    secret = given;
  } else {
    const url = parseUrl('url', input.url);
    if (input.secret !== undefined)
      throw invalid('secret', 'Slack webhooks are not signed; the URL is the secret');
    target = `${url.protocol}//${url.host}/…`;
    secret = url.toString();
  }
  return {
    name,
    kind,
    target,
    secret,
    events: [...new Set(events)] as NotificationKind[],
    minSeverity: minSeverity as Severity,
    digestSeconds,
  };
}

export async function createChannel(
  database: Database,
  seal: (plaintext: string, context: string) => string,
  actor: Actor,
  workspaceRef: string,
  input: ChannelInput,
  defaults: { digestSeconds: number },
): Promise<ChannelView> {
  const valid = validateChannel(input, defaults);
  const workspace = await getWorkspace(database, workspaceRef);
  const id = randomUUID();
  const sealed = valid.secret === null ? null : seal(valid.secret, channelSecretContext(workspace.id, id));
  return database.inWorkspace(workspace.id, async (trx) => {
    if (await findChannelRow(trx, workspace.id, valid.name)) {
      throw new AssayError(
        'notification_channel_exists',
        `a notification channel named "${valid.name}" exists already`,
        {
          field: 'name',
        },
      );
    }
    const row = await insertChannel(trx, {
      id,
      workspace_id: workspace.id,
      name: valid.name,
      kind: valid.kind,
      target: valid.target,
      secret: sealed,
      events: valid.events,
      min_severity: valid.minSeverity,
      digest_seconds: valid.digestSeconds,
      created_by: `${actor.type}:${actor.id}`,
    });
    // The channel hears of changes from now on, not of every finding already open.
    await baselineAnnouncements(trx, workspace.id);
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'notifications.channel_created',
      targetType: 'notification_channel',
      targetId: id,
      details: { name: valid.name, kind: valid.kind, target: valid.target, events: valid.events },
    });
    return presentChannel(row);
  });
}

export async function listChannels(database: Database, workspaceRef: string): Promise<ChannelView[]> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) =>
    (await listChannelRows(trx, workspace.id)).map(presentChannel),
  );
}

function channelNotFound(ref: string): AssayError {
  return new AssayError('notification_channel_not_found', `no notification channel "${ref.slice(0, 100)}"`);
}

export async function removeChannel(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  channelRef: string,
): Promise<ChannelView> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const row = await findChannelRow(trx, workspace.id, channelRef);
    if (!row) throw channelNotFound(channelRef);
    await deleteChannelRow(trx, workspace.id, row.id);
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'notifications.channel_removed',
      targetType: 'notification_channel',
      targetId: row.id,
      details: { name: row.name, kind: row.kind },
    });
    return presentChannel(row);
  });
}

/**
 * Sends a test message through the channel now (not through the queue) and says whether it
 * arrived, and if not, why (the receiver's answer, an unreachable host, no mail server).
 */
export async function testChannel(
  deps: NotifierDeps,
  actor: Actor,
  workspaceRef: string,
  channelRef: string,
): Promise<{ channel: ChannelView; delivered: boolean; error: string | null }> {
  const workspace = await getWorkspace(deps.database, workspaceRef);
  const row = await deps.database.inWorkspace(workspace.id, (trx) =>
    findChannelRow(trx, workspace.id, channelRef),
  );
  if (!row) throw channelNotFound(channelRef);
  const now = new Date();
  try {
    await deliver(
      deps,
      row,
      workspace,
      [
        {
          id: randomUUID(),
          kind: 'test',
          severity: 'low',
          title: `Test notification for channel "${row.name}"`,
          occurredAt: now,
          data: { detail: `Sent on request of ${actor.name ?? actor.id}.` },
        },
      ],
      `test-${randomUUID()}`,
    );
  } catch (error) {
    if (
      isAssayError(error) &&
      (error.code === 'notification_delivery_failed' || error.code === 'smtp_not_configured')
    ) {
      return { channel: presentChannel(row), delivered: false, error: error.message };
    }
    throw error;
  }
  return { channel: presentChannel(row), delivered: true, error: null };
}

export async function recentDeliveries(database: Database, workspaceRef: string, limit = 50) {
  const workspace = await getWorkspace(database, workspaceRef);
  const rows = await database.inWorkspace(workspace.id, (trx) =>
    listRecentDeliveries(trx, workspace.id, limit),
  );
  return rows.map((r) => ({
    id: r.id,
    channelId: r.channelId,
    status: r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    sentAt: r.sentAt ? new Date(r.sentAt).toISOString() : null,
    event: { ...r.event, occurredAt: new Date(r.event.occurredAt).toISOString() },
  }));
}
