/**
 * How a message leaves Assay: email through the installation's SMTP server, an outbound webhook
 * signed with the channel's secret, or a Slack-compatible incoming webhook.
 *
 * Webhook signature: `X-Assay-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
 * with the Unix time in `X-Assay-Timestamp`. Signing the timestamp with the body lets a receiver
 * reject replays of an old delivery (check that the timestamp is recent).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import nodemailer from 'nodemailer';
import { AssayError } from '../../errors.ts';

const timeoutMs = 10_000;

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute the signature and compare in constant time. */
export function verifyWebhookSignature(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  options: { now?: Date; toleranceSeconds?: number } = {},
): boolean {
  if (!headers.timestamp || !headers.signature || !/^\d{1,12}$/.test(headers.timestamp)) return false;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - Number(headers.timestamp)) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(webhookSignature(secret, headers.timestamp, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function deliveryFailed(message: string): AssayError {
  return new AssayError('notification_delivery_failed', message);
}

async function post(url: string, body: string, headers: Record<string, string>, what: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Assay-Notifications/1', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw deliveryFailed(`${what}: cannot reach ${new URL(url).host} (${cause ?? (error as Error).message})`);
  }
  // Drain the body so the connection is released.
  await response.arrayBuffer().catch(() => {});
  if (response.status < 200 || response.status >= 300) {
    throw deliveryFailed(`${what}: ${new URL(url).host} answered HTTP ${response.status}`);
  }
}

export async function postSignedWebhook(
  url: string,
  secret: string,
  body: string,
  meta: { deliveryId: string; event: string; now?: Date },
): Promise<void> {
  const timestamp = String(Math.floor((meta.now ?? new Date()).getTime() / 1000));
  await post(
    url,
    body,
    {
      'x-assay-timestamp': timestamp,
      'x-assay-signature': webhookSignature(secret, timestamp, body),
      'x-assay-delivery': meta.deliveryId,
      'x-assay-event': meta.event,
    },
    'webhook',
  );
}

export async function postSlack(url: string, message: { text: string; blocks: unknown[] }): Promise<void> {
  await post(url, JSON.stringify(message), {}, 'Slack webhook');
}

export interface MailSettings {
  smtpUrl: string | undefined;
  smtpFrom: string;
}

export async function sendEmail(
  settings: MailSettings,
  message: { to: string[]; subject: string; text: string },
): Promise<void> {
  if (!settings.smtpUrl) {
    throw new AssayError(
      'smtp_not_configured',
      'email channels need an outgoing mail server: set ASSAY_SMTP_URL (e.g. smtp://user:pass@mail.example:587)',
    );
  }
  const transport = nodemailer.createTransport({
    url: settings.smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({
      from: settings.smtpFrom,
      to: message.to,
      subject: message.subject,
      text: message.text,
    });
  } catch (error) {
    throw deliveryFailed(`email: ${(error as Error).message}`);
  } finally {
    transport.close();
  }
}
