import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { NormalizedEvent } from '../events/event.model.ts';

export interface EventRow {
  event: NormalizedEvent;
  actorIdentityId: string | null;
  targetIdentityId: string | null;
  evidenceId: string | null;
  /** The ledger evidence holds the raw payload itself: the event row then does not repeat it. */
  rawInLedger: boolean;
}

/**
 * An event's raw payload as received: kept in its ledger evidence (where erasure can remove it),
 * or on the row itself when the ledger holds only its hash. Needs `evidence_items` left-joined
 * on the event's `evidence_id`.
 */
export const rawPayload = sql<Record<
  string,
  unknown
> | null>`coalesce(events.raw, convert_from(evidence_items.content, 'UTF8')::jsonb -> 'raw')`;

/**
 * Inserts events; replays (same source and source key) are skipped. Returns the new rows' ids.
 * The rows travel as one JSON document (the normalised event nested as it is), which costs far
 * less to send and parse than thousands of bind parameters.
 */
export async function insertEvents(trx: Trx, workspaceId: string, batchId: string | null, rows: EventRow[]) {
  if (rows.length === 0) return [];
  const values = rows.map(({ event, actorIdentityId, targetIdentityId, evidenceId, rawInLedger }) => {
    const { raw, ...data } = event;
    return {
      source: event.source,
      source_key: event.sourceKey,
      system: event.system,
      time: event.time,
      class_uid: event.classUid,
      activity_id: event.activityId,
      type_uid: event.typeUid,
      action: event.action,
      outcome: event.outcome,
      actor_identity_id: actorIdentityId,
      target_identity_id: targetIdentityId,
      repository: event.repository ?? null,
      data,
      raw: raw === undefined || rawInLedger ? null : raw,
      evidence_id: evidenceId,
    };
  });
  const { rows: inserted } = await sql<{ id: number; source: string; source_key: string }>`
    insert into events (
      workspace_id, source, source_key, system, time, class_uid, activity_id, type_uid, action,
      outcome, actor_identity_id, target_identity_id, person_id, repository, data, raw, batch_id,
      evidence_id
    )
    select ${workspaceId}::uuid, e.source, e.source_key, e.system, e.time, e.class_uid, e.activity_id,
      e.type_uid, e.action, e.outcome, e.actor_identity_id, e.target_identity_id, null, e.repository,
      e.data, e.raw, ${batchId}::uuid, e.evidence_id
    from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as e(
      source text, source_key text, system text, time timestamptz, class_uid integer,
      activity_id integer, type_uid bigint, action text, outcome text, actor_identity_id uuid,
      target_identity_id uuid, repository text, data jsonb, raw jsonb, evidence_id text
    )
    on conflict (workspace_id, source, source_key) do nothing
    returning id, source, source_key`.execute(trx);
  return inserted;
}

export async function findEventIds(trx: Trx, workspaceId: string, source: string, sourceKeys: string[]) {
  if (sourceKeys.length === 0) return [];
  return trx
    .selectFrom('events')
    .select(['id', 'source_key'])
    .where('workspace_id', '=', workspaceId)
    .where('source', '=', source)
    .where('source_key', 'in', sourceKeys)
    .execute();
}

export async function insertImportBatch(
  trx: Trx,
  values: { workspaceId: string; kind: string; fileName: string; actorType: string; actorId: string },
) {
  return trx
    .insertInto('import_batches')
    .values({
      workspace_id: values.workspaceId,
      kind: values.kind,
      file_name: values.fileName,
      status: 'running',
      actor_type: values.actorType,
      actor_id: values.actorId,
      error: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export interface BatchCounts {
  recordsRead: number;
  eventsStored: number;
  duplicates: number;
  people: number;
  identities: number;
  entitlementChanges: number;
  rejected: number;
}

export async function finishImportBatch(
  trx: Trx,
  workspaceId: string,
  batchId: string,
  status: 'committed' | 'rejected',
  counts: BatchCounts,
  error: string | null,
) {
  await trx
    .updateTable('import_batches')
    .set({
      status,
      records_read: counts.recordsRead,
      events_stored: counts.eventsStored,
      duplicates: counts.duplicates,
      people: counts.people,
      identities: counts.identities,
      entitlement_changes: counts.entitlementChanges,
      rejected: counts.rejected,
      error,
      finished_at: new Date(),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', batchId)
    .execute();
}

export async function listImportBatches(trx: Trx, workspaceId: string, limit: number) {
  return trx
    .selectFrom('import_batches')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('started_at', 'desc')
    .limit(limit)
    .execute();
}

export async function countEvents(trx: Trx, workspaceId: string) {
  const row = await trx
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
