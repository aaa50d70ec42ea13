/**
 * A separate process that appends evidence to a workspace ledger, printing `ack <id>` for each
 * item once its transaction has committed. Used by the crash and concurrency tests.
 *
 *   node --import tsx test/evidence/append-child.ts '<json options>'
 *
 * options: { dataDir?, databaseUrl?, workspaceId, blobDir, count? (default: forever), tag,
 *            checkpointEvery? (batches) }
 */
import { Readable } from 'node:stream';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { FileBlobStore } from '../../src/domains/evidence/core/blob-store.ts';
import {
  appendEvidence,
  createCheckpoint,
  type EvidenceInput,
  registerEvidenceBlob,
} from '../../src/domains/evidence/evidence.service.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as {
  dataDir?: string;
  databaseUrl?: string;
  workspaceId: string;
  blobDir: string;
  count?: number;
  tag: string;
  checkpointEvery?: number;
};

const database = await openDatabase(
  loadConfig({ dataDir: options.dataDir ?? '/nonexistent', databaseUrl: options.databaseUrl }, {}),
);
const store = new FileBlobStore(options.blobDir);
let appended = 0;
let batchNo = 0;
while (options.count === undefined || appended < options.count) {
  const size = Math.min(1 + (batchNo % 7), (options.count ?? Number.POSITIVE_INFINITY) - appended);
  const inputs: EvidenceInput[] = [];
  const files: Awaited<ReturnType<FileBlobStore['put']>>[] = [];
  for (let k = 0; k < size; k++) {
    const n = appended + k;
    let blob: EvidenceInput['blob'] = null;
    if (n % 5 === 0) {
      const put = await store.put(Readable.from([Buffer.from(`${options.tag} attachment ${n}\n`)]));
      files.push(put);
      blob = { sha256: put.sha256, mediaType: 'text/plain', fileName: `attachment-${n}.txt` };
    }
    inputs.push({
      kind: 'check.result',
      controls: ['AC-01'],
      subject: { type: 'account', id: `${options.tag}-${n}` },
      effectiveAt: new Date().toISOString(),
      collector: { type: 'check', id: 'identity.mfa_enabled' },
      content: { tag: options.tag, n, passed: n % 3 !== 0 },
      blob,
    });
  }
  const records = await database.inWorkspace(options.workspaceId, async (trx) => {
    for (const file of files) await registerEvidenceBlob(trx, options.workspaceId, file);
    return appendEvidence(trx, options.workspaceId, inputs);
  });
  // Acknowledged only now: the transaction committed.
  for (const record of records) process.stdout.write(`ack ${record.id} ${record.leafIndex}\n`);
  appended += records.length;
  batchNo++;
  if (options.checkpointEvery && batchNo % options.checkpointEvery === 0) {
    await createCheckpoint(database, options.workspaceId);
  }
}
await database.close();
process.stdout.write('done\n');
