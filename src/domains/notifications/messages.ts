/**
 * One message per channel and send: a single notification reads as itself, several read as a
 * digest grouped by what happened. The same content is rendered for email (subject + text),
 * Slack (`text` + `blocks`) and webhooks (JSON).
 */
import type { Severity } from './notifications.tables.ts';

export const notificationKinds = [
  'finding.opened',
  'finding.closed',
  'exception.expiring',
  'exception.expired',
  'control.drift',
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

export interface NotificationItem {
  id: string;
  kind: string;
  severity: Severity;
  title: string;
  occurredAt: Date;
  data: Record<string, unknown>;
}

const phrases: Record<string, [string, string]> = {
  'finding.opened': ['finding opened', 'findings opened'],
  'finding.closed': ['finding closed', 'findings closed'],
  'exception.expiring': ['exception expiring', 'exceptions expiring'],
  'exception.expired': ['exception expired', 'exceptions expired'],
  'control.drift': ['control status change', 'control status changes'],
  test: ['test message', 'test messages'],
};

const severityRank: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export function severityAtLeast(severity: Severity, minimum: Severity): boolean {
  return severityRank[severity] >= severityRank[minimum];
}

function counts(items: NotificationItem[]): string {
  const byKind = new Map<string, number>();
  for (const item of items) byKind.set(item.kind, (byKind.get(item.kind) ?? 0) + 1);
  return [...byKind]
    .map(([kind, n]) => {
      const [one, many] = phrases[kind] ?? [kind, kind];
      return `${n} ${n === 1 ? one : many}`;
    })
    .join(', ');
}

function line(item: NotificationItem): string {
  return `[${item.severity}] ${item.title} (${item.occurredAt.toISOString()})`;
}

function detailOf(item: NotificationItem): string | undefined {
  const detail = item.data.detail;
  return typeof detail === 'string' && detail !== '' ? detail : undefined;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  slack: { text: string; blocks: unknown[] };
  json: Record<string, unknown>;
}

const maxListed = 40;

export function renderMessage(
  workspace: { slug: string; name: string },
  items: NotificationItem[],
  meta: { deliveryId: string; channel: string; sentAt: Date },
): RenderedMessage {
  const single = items.length === 1 ? items[0] : undefined;
  const summary = counts(items);
  const subject = single
    ? `[Assay] ${workspace.name}: ${single.title}`
    : `[Assay] ${workspace.name}: ${summary}`;
  const listed = items.slice(0, maxListed);
  const more = items.length - listed.length;
  const text = [
    single ? `${workspace.name} (${workspace.slug})` : `${workspace.name} (${workspace.slug}): ${summary}`,
    '',
    ...listed.flatMap((item) => {
      const detail = detailOf(item);
      return detail ? [`- ${line(item)}`, `  ${detail}`] : [`- ${line(item)}`];
    }),
    ...(more > 0 ? [`… and ${more} more`] : []),
    '',
    `Channel: ${meta.channel}. Sent by Assay at ${meta.sentAt.toISOString()}.`,
  ].join('\n');
  const slackText = single ? `${workspace.name}: ${single.title}` : `${workspace.name}: ${summary}`;
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: slackText.slice(0, 150) } },
    ...listed.slice(0, 45).map((item) => ({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${item.severity}* ${escapeSlack(item.title)}${detailOf(item) ? `\n${escapeSlack(detailOf(item)!)}` : ''}`.slice(
          0,
          2900,
        ),
      },
    })),
    ...(items.length > 45
      ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `… and ${items.length - 45} more` }] }]
      : []),
  ];
  return {
    subject,
    text,
    slack: { text: slackText, blocks },
    json: {
      id: meta.deliveryId,
      workspace: { slug: workspace.slug, name: workspace.name },
      sentAt: meta.sentAt.toISOString(),
      summary,
      notifications: items.map((item) => ({
        id: item.id,
        kind: item.kind,
        severity: item.severity,
        title: item.title,
        occurredAt: item.occurredAt.toISOString(),
        data: item.data,
      })),
    },
  };
}

function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
