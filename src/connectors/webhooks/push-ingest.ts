/**
 * How the push connectors (SCIM, webhooks) store what they receive: through the ingest writer,
 * in the request's transaction, and with the evaluation of the checks those facts trigger queued
 * in the same transaction (src/jobs/evaluation.ts) — an acknowledged push never misses its checks.
 * The caller wakes the workers once its transaction has committed.
 */
import type { Trx } from '../../db/database.ts';
import type { ImportRecord } from '../../domains/events/event.model.ts';
import type { BatchCounts } from '../../domains/ingest/ingest.repository.ts';
import { IngestWriter } from '../../domains/ingest/ingest-writer.ts';
import { enqueueEvaluation, touchedByWriter } from '../../jobs/evaluation.ts';

export interface PushIngest {
  counts: BatchCounts;
  /** Events stored (new, not replays). */
  storedEventIds: number[];
  /** True when checks were queued: wake the workers after commit. */
  queued: boolean;
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
  const evaluation = await enqueueEvaluation(trx, workspaceId, touchedByWriter(writer), trigger);
  return { counts: writer.counts, storedEventIds: writer.storedEventIds, queued: evaluation !== null };
}
