/**
 * Webhook signing secrets, one or more per workspace and source (`github`, or a generic source
 * name). HMAC verification needs the secret itself, so it cannot be hashed: it is sealed with the
 * installation key (AES-256-GCM, src/domains/secrets) and bound to its row, workspace and source.
 * Several active secrets per source allow rotation: create the new one, configure the sender,
 * then revoke the old one.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../../db/database.ts';
import type { Actor } from '../../domains/audit/actor.ts';
import { recordAudit } from '../../domains/audit/record-audit.ts';
import type { SecretBox } from '../../domains/secrets/secrets.ts';
import { getWorkspace } from '../../domains/workspaces/workspaces.service.ts';
import { AssayError } from '../../errors.ts';
import { insertSecret, listSecrets, revokeSecret } from './webhooks.repository.ts';

export const sourcePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface SecretRef {
  id: string;
  workspaceId: string;
  source: string;
}

const sealContext = (ref: SecretRef) => `webhook-secret:${ref.workspaceId}:${ref.source}:${ref.id}`;

/** Seals a webhook secret for storage; a sealed value moved to another row or source will not open. */
export function sealWebhookSecret(box: SecretBox, ref: SecretRef, secret: string): string {
  return box.encrypt(secret, sealContext(ref));
}

/** Opens a stored webhook secret (`secret_undecryptable` if the key changed or the row was altered). */
export function unsealWebhookSecret(box: SecretBox, ref: SecretRef, sealed: string): string {
  return box.decrypt(sealed, sealContext(ref));
}

export function parseSource(source: string): string {
  const value = source.trim().toLowerCase();
  if (!sourcePattern.test(value)) {
    throw new AssayError(
      'validation_failed',
      `source "${source.slice(0, 60)}": use "github" or a name of 1–63 lowercase letters, digits, "-" or "_"`,
      { field: 'source' },
    );
  }
  return value;
}

export async function createWebhookSecret(
  database: Database,
  box: SecretBox,
  actor: Actor,
  workspaceRef: string,
  sourceName: string,
) {
  const source = parseSource(sourceName);
  const workspace = await getWorkspace(database, workspaceRef);
  const id = randomUUID();
  // 32 random bytes as hex: what GitHub's secret field and any HMAC library accept as text.
  const secret = randomBytes(32).toString('hex');
  const sealed = sealWebhookSecret(box, { id, workspaceId: workspace.id, source }, secret);
  await database.inWorkspace(workspace.id, async (trx) => {
    await insertSecret(trx, {
      id,
      workspaceId: workspace.id,
      source,
      sealed,
      actorType: actor.type,
      actorId: actor.id,
    });
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'webhook_secret.created',
      targetType: 'webhook_secret',
      targetId: id,
      details: { source },
    });
  });
  const path =
    source === 'github'
      ? `/webhooks/github/${workspace.slug}`
      : `/webhooks/generic/${workspace.slug}/${source}`;
  return { id, workspace: workspace.slug, source, secret, path };
}

export async function listWebhookSecrets(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  const rows = await database.inWorkspace(workspace.id, (trx) => listSecrets(trx, workspace.id));
  return rows.map((row) => ({
    id: row.id,
    source: row.source,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by_id,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  }));
}

export async function revokeWebhookSecret(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  id: string,
) {
  const workspace = await getWorkspace(database, workspaceRef);
  const missing = () =>
    new AssayError('token_not_found', `no active webhook secret ${id.slice(0, 60)} in "${workspace.slug}"`);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw missing();
  return database.inWorkspace(workspace.id, async (trx) => {
    const row = await revokeSecret(trx, workspace.id, id);
    if (!row) throw missing();
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'webhook_secret.revoked',
      targetType: 'webhook_secret',
      targetId: row.id,
      details: { source: row.source },
    });
    return { id: row.id, source: row.source, revoked: true };
  });
}
