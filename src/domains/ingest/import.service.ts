/**
 * `assay import KIND FILE` and the upload API: stream a vendor file through its parser into the
 * workspace. A batch is all-or-nothing: the first bad record rolls everything back and the error
 * names the file, line (or byte offset), field and reason. Re-running an import after fixing the
 * file is safe: events already stored are recognised by their source keys and skipped.
 */
import { getImporter } from '../../connectors/registry.ts';
import type { ImportInput } from '../../connectors/shared/import-context.ts';
import type { Database } from '../../db/database.ts';
import { refreshStatisticsSoon } from '../../db/statistics.ts';
import { AssayError, isAssayError } from '../../errors.ts';
import {
  enqueueEvaluation,
  type QueuedEvaluation,
  type TouchedFacts,
  touchedByWriter,
} from '../../jobs/evaluation.ts';
import { wakeWorkers } from '../../jobs/queue.ts';
import type { Actor } from '../audit/actor.ts';
import { insertAuditEntry } from '../audit/audit.repository.ts';
import { importKinds, isImportKind } from '../events/event.model.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { type BatchCounts, finishImportBatch, insertImportBatch } from './ingest.repository.ts';
import { IngestWriter, ingestGrewTables } from './ingest-writer.ts';

export interface ImportProgress {
  bytes: number;
  records: number;
}

export interface ImportFileOptions {
  fileName: string;
  /** When snapshot facts were true (credential reports, rosters). Default: now. */
  observedAt?: string | undefined;
  /** HR roster only: our field → their header. */
  columns?: Record<string, string> | undefined;
  onProgress?: ((progress: ImportProgress) => void) | undefined;
}

export interface ImportSummary extends BatchCounts {
  batchId: string;
  workspace: string;
  kind: string;
  fileName: string;
  storedEventIds: number[];
  /** What the import changed, in the vocabulary of check triggers. */
  touched: TouchedFacts;
  /** The evaluation queued for the checks those changes trigger (null: none triggered). */
  evaluation: QueuedEvaluation | null;
}

export function parseImportKind(kind: string) {
  if (!isImportKind(kind)) {
    throw new AssayError(
      'unsupported_import_kind',
      `unknown import kind "${kind}" (expected one of ${importKinds.join(', ')})`,
      {
        field: 'kind',
      },
    );
  }
  return kind;
}

export async function importFile(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  kindName: string,
  input: ImportInput,
  options: ImportFileOptions,
): Promise<ImportSummary> {
  const kind = parseImportKind(kindName);
  const workspace = await getWorkspace(database, workspaceRef);
  const observedAt = options.observedAt ?? new Date().toISOString();
  if (Number.isNaN(Date.parse(observedAt))) {
    throw new AssayError('validation_failed', `observedAt "${observedAt}": not an ISO date-time`, {
      field: 'observedAt',
    });
  }
  const parse = getImporter(kind).parse;
  const progress: ImportProgress = { bytes: 0, records: 0 };
  async function* counted(): AsyncGenerator<Uint8Array | string> {
    for await (const chunk of input) {
      progress.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      yield chunk;
    }
  }
  let lastReport = 0;
  try {
    const summary = await database.inWorkspace(workspace.id, async (trx) => {
      const batch = await insertImportBatch(trx, {
        workspaceId: workspace.id,
        kind,
        fileName: options.fileName,
        actorType: actor.type,
        actorId: actor.id,
      });
      const writer = new IngestWriter(trx, workspace.id, batch.id, { pipeline: true });
      const records = parse(counted(), {
        fileName: options.fileName,
        onError: 'fail',
        observedAt: new Date(observedAt).toISOString(),
        columns: options.columns,
      });
      try {
        for await (const record of records) {
          await writer.add(record);
          progress.records++;
          if (options.onProgress && progress.records - lastReport >= 1000) {
            lastReport = progress.records;
            options.onProgress({ ...progress });
          }
        }
        await writer.finish({ ledgerLast: true });
      } finally {
        // A bad record must not roll back the transaction under a chunk still being written.
        await writer.settle();
      }
      options.onProgress?.({ ...progress });
      await finishImportBatch(trx, workspace.id, batch.id, 'committed', writer.counts, null);
      await insertAuditEntry(trx, {
        workspaceId: workspace.id,
        actor,
        action: 'import.committed',
        targetType: 'import_batch',
        targetId: batch.id,
        details: { kind, fileName: options.fileName, ...writer.counts },
      });
      // The evaluation commits with the import: an acknowledged import never misses its checks.
      const touched = touchedByWriter(writer);
      const evaluation = await enqueueEvaluation(trx, workspace.id, touched, 'import');
      // The ledger's head is taken last, so that other writers of the workspace wait only for the
      // commit.
      await writer.appendPendingEvidence();
      return {
        batchId: batch.id,
        workspace: workspace.slug,
        kind,
        fileName: options.fileName,
        ...writer.counts,
        storedEventIds: writer.storedEventIds,
        touched,
        evaluation,
      };
    });
    if (summary.evaluation) wakeWorkers();
    if (ingestGrewTables(summary)) refreshStatisticsSoon(database);
    return summary;
  } catch (error) {
    // Nothing of the batch was committed; record that it was refused, and why, on its own.
    const message = isAssayError(error) ? error.message : 'import failed';
    await database
      .inWorkspace(workspace.id, async (trx) => {
        const batch = await insertImportBatch(trx, {
          workspaceId: workspace.id,
          kind,
          fileName: options.fileName,
          actorType: actor.type,
          actorId: actor.id,
        });
        const zero: BatchCounts = {
          recordsRead: progress.records,
          eventsStored: 0,
          duplicates: 0,
          people: 0,
          identities: 0,
          entitlementChanges: 0,
          rejected: 1,
        };
        await finishImportBatch(trx, workspace.id, batch.id, 'rejected', zero, message);
      })
      .catch(() => {});
    throw error;
  }
}
