/**
 * Webhook signature checks, all in constant time per candidate:
 *
 * - GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the raw body with the secret.
 * - Assay's generic scheme: `X-Assay-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`,
 *   HMAC-SHA256 of `<t>.<raw body>`; the timestamp must be within five minutes of now, so a
 *   captured delivery cannot be replayed later. Several `v1` values allow a sender to sign with
 *   an old and a new secret while rotating.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const signatureWindowSeconds = 300;

function hmac(secret: string, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

function equalHex(expected: Buffer, hex: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

export type Verdict = { ok: true } | { ok: false; reason: string };

export function verifyGitHubSignature(body: Buffer, header: string | undefined, secrets: string[]): Verdict {
  if (header === undefined || header === '') return { ok: false, reason: 'no X-Hub-Signature-256 header' };
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) return { ok: false, reason: 'X-Hub-Signature-256 is not "sha256=<64 hex digits>"' };
  const sent = match[1]!;
  // Every secret is tried (no early exit), so timing says nothing about which one matched.
  let ok = false;
  for (const secret of secrets) ok = equalHex(hmac(secret, body), sent) || ok;
  return ok ? { ok: true } : { ok: false, reason: 'signature does not match' };
}

export function verifyAssaySignature(
  body: Buffer,
  header: string | undefined,
  secrets: string[],
  nowSeconds: number,
): Verdict {
  if (header === undefined || header === '') return { ok: false, reason: 'no X-Assay-Signature header' };
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',').slice(0, 20)) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value !== undefined) timestamp = value;
    else if (key === 'v1' && value !== undefined) signatures.push(value);
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0) {
    return { ok: false, reason: 'X-Assay-Signature is not "t=<unix seconds>,v1=<hex>"' };
  }
  if (Math.abs(nowSeconds - Number(timestamp)) > signatureWindowSeconds) {
    return {
      ok: false,
      reason: `signature timestamp is outside the ${signatureWindowSeconds / 60}-minute window`,
    };
  }
  let ok = false;
  for (const secret of secrets) {
    const expected = hmac(secret, `${timestamp}.`, body);
    for (const sent of signatures) ok = equalHex(expected, sent) || ok;
  }
  return ok ? { ok: true } : { ok: false, reason: 'signature does not match' };
}
