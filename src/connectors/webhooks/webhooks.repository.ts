/** SQL for the webhook receivers: secrets, accepted deliveries and rejected ones. */
import type { Kysely } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { DB } from '../../db/schema.ts';

export async function insertSecret(
  trx: Trx,
  values: {
    id: string;
    workspaceId: string;
    source: string;
    sealed: string;
    actorType: string;
    actorId: string;
  },
) {
  await trx
    .insertInto('webhook_secrets')
    .values({
      id: values.id,
      workspace_id: values.workspaceId,
      source: values.source,
      sealed_secret: values.sealed,
      created_by_type: values.actorType,
      created_by_id: values.actorId,
    })
    .execute();
}

export async function activeSecrets(trx: Trx, workspaceId: string, source: string) {
  return trx
    .selectFrom('webhook_secrets')
    .select(['id', 'workspace_id', 'source', 'sealed_secret'])
    .where('workspace_id', '=', workspaceId)
    .where('source', '=', source)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute();
}

export async function listSecrets(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('webhook_secrets')
    .select(['id', 'source', 'created_at', 'created_by_id', 'revoked_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .execute();
}

export async function revokeSecret(trx: Trx, workspaceId: string, id: string) {
  return trx
    .updateTable('webhook_secrets')
    .set({ revoked_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(['id', 'source'])
    .executeTakeFirst();
}

/** Records a delivery; undefined when this delivery id was already accepted (a replay). */
export async function insertDelivery(
  trx: Trx,
  values: {
    workspaceId: string;
    source: string;
    deliveryId: string;
    eventName: string;
    status: 'stored' | 'ignored';
  },
) {
  return trx
    .insertInto('webhook_deliveries')
    .values({
      workspace_id: values.workspaceId,
      source: values.source,
      delivery_id: values.deliveryId,
      event_name: values.eventName,
      status: values.status,
      events_stored: 0,
      duplicates: 0,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'source', 'delivery_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
}

export async function finishDelivery(
  trx: Trx,
  workspaceId: string,
  id: number,
  counts: { eventsStored: number; duplicates: number },
) {
  await trx
    .updateTable('webhook_deliveries')
    .set({ events_stored: counts.eventsStored, duplicates: counts.duplicates })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export interface Rejection {
  workspaceId: string | null;
  workspaceRef: string;
  source: string;
  reason: string;
  remoteAddress: string | null;
  deliveryId: string | null;
  eventName: string | null;
}

/** Platform-level insert: a rejection may name no workspace at all. */
export async function insertRejection(db: Kysely<DB> | Trx, rejection: Rejection) {
  await db
    .insertInto('webhook_rejections')
    .values({
      workspace_id: rejection.workspaceId,
      workspace_ref: rejection.workspaceRef,
      source: rejection.source,
      reason: rejection.reason,
      remote_address: rejection.remoteAddress,
      delivery_id: rejection.deliveryId,
      event_name: rejection.eventName,
    })
    .execute();
}

export async function listRejections(trx: Trx, workspaceId: string, limit: number) {
  return trx
    .selectFrom('webhook_rejections')
    .select(['id', 'source', 'reason', 'remote_address', 'delivery_id', 'event_name', 'received_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/**
 * The entitlements whose name starts with `prefix` that an account holds now (its latest change
 * per name is a grant): what a repository collaborator's removal takes away.
 */
export async function heldEntitlementNames(
  trx: Trx,
  workspaceId: string,
  identityId: string,
  prefix: string,
) {
  const rows = await trx
    .selectFrom('entitlement_changes')
    .select(['name', 'granted', 'privileged'])
    .where('workspace_id', '=', workspaceId)
    .where('identity_id', '=', identityId)
    .where((eb) => eb.fn('left', ['name', eb.val(prefix.length)]), '=', prefix)
    .orderBy('at')
    .orderBy('id')
    .execute();
  const latest = new Map<string, { granted: boolean; privileged: boolean }>();
  for (const row of rows) latest.set(row.name, row);
  return [...latest.entries()]
    .filter(([, c]) => c.granted)
    .map(([name, c]) => ({ name, privileged: c.privileged }));
}
