/**
 * How the push connectors (SCIM, webhooks) store what they receive: through the ingest writer,
 * in the request's transaction, and with the evaluation of the checks those facts trigger queued
 * in the same transaction (src/jobs/evaluation.ts) — an acknowledged push never misses its checks.
 * The caller wakes the workers once its transaction has committed.
 */
import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { ImportRecord } from '../../domains/events/event.model.ts';
import type { BatchCounts } from '../../domains/ingest/ingest.repository.ts';
import { selectAccountsNamedByEvents } from '../../domains/ingest/ingest.repository.ts';
import { IngestWriter } from '../../domains/ingest/ingest-writer.ts';
import { confinedToAccounts, enqueueEvaluation, type TouchedFacts } from '../../jobs/evaluation.ts';

export interface PushIngest {
  counts: BatchCounts;
  /** Events stored (new, not replays). */
  storedEventIds: number[];
  /** True when checks were queued: wake the workers after commit. */
  queued: boolean;
}

async function touched(trx: Trx, workspaceId: string, writer: IngestWriter): Promise<TouchedFacts> {
  const facts = new Set<string>();
  let eventClasses: number[] = [];
  if (writer.storedEventIds.length > 0) {
    const { rows } = await sql<{ class_uid: number }>`
      select distinct class_uid from events
      where workspace_id = ${workspaceId} and id in (${sql.join(writer.storedEventIds)})
      order by class_uid`.execute(trx);
    eventClasses = rows.map((r) => r.class_uid);
    facts.add('identities');
  }
  if (writer.counts.identities > 0) {
    facts.add('identities');
    facts.add('observations');
    facts.add('identity_settings');
  }
  if (writer.counts.entitlementChanges > 0) facts.add('entitlements');
  const result: TouchedFacts = { eventClasses, facts: [...facts].sort() };
  if (confinedToAccounts(writer.counts)) {
    const named = await selectAccountsNamedByEvents(trx, workspaceId, { eventIds: writer.storedEventIds });
    if (named.everyEventNamesAnAccount) result.identityIds = named.identityIds;
  }
  return result;
}

export async function ingestPush(
  trx: Trx,
  workspaceId: string,
  records: ImportRecord[],
  trigger: 'scim' | 'webhook',
): Promise<PushIngest> {
  const writer = new IngestWriter(trx, workspaceId, null);
  for (const record of records) await writer.add(record);
  await writer.finish();
  const evaluation = await enqueueEvaluation(
    trx,
    workspaceId,
    await touched(trx, workspaceId, writer),
    trigger,
  );
  return { counts: writer.counts, storedEventIds: writer.storedEventIds, queued: evaluation !== null };
}
