/**
 * Tampering with stored evidence — envelopes, payloads, files, checkpoints, keys, the order or
 * number of entries — is refused by the database where it can be, and otherwise detected by
 * verify, which names the first bad entry.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { sql } from 'kysely';
import {
  addEvidence,
  createCheckpoint,
  type EvidenceRecord,
  registerEvidenceBlob,
  verifyLedger,
} from '../../src/domains/evidence/evidence.service.ts';
import { redactEvidence } from '../../src/domains/evidence/retention.service.ts';
import {
  appendSamples,
  type LedgerFixture,
  ledgerFixture,
  operator,
  sampleEvidence,
  tamper,
} from './fixtures.ts';

async function ledgerWithFile(t: Parameters<typeof ledgerFixture>[0]) {
  const f = await ledgerFixture(t);
  const records = await appendSamples(f, 20);
  const bytes = Buffer.from(`quarterly access review export ${Math.random()}\n`);
  const blob = await f.store.put(Readable.from([bytes]));
  await f.database.inWorkspace(f.workspaceId, (trx) => registerEvidenceBlob(trx, f.workspaceId, blob));
  records.push(
    ...(await addEvidence(f.database, operator, f.slug, [
      sampleEvidence(20, { blob: { sha256: blob.sha256, mediaType: 'text/csv', fileName: 'review.csv' } }),
    ])),
  );
  records.push(...(await appendSamples(f, 9, { start: 21 })));
  await createCheckpoint(f.database, f.workspaceId);
  const clean = await verifyLedger(f.database, f.store, f.slug);
  assert.equal(clean.ok, true, JSON.stringify(clean.failures));
  return { f, records, blob };
}

async function expectFailure(
  f: LedgerFixture,
  expected: { problem: string; leafIndex: number | null; evidenceId?: string; message: RegExp },
) {
  const result = await verifyLedger(f.database, f.store, f.slug);
  assert.equal(result.ok, false, 'verification must fail');
  const first = result.firstFailure!;
  assert.equal(first.problem, expected.problem, JSON.stringify(result.failures));
  assert.equal(first.leafIndex, expected.leafIndex);
  if (expected.evidenceId) assert.equal(first.evidenceId, expected.evidenceId);
  assert.match(first.message, expected.message);
  return result;
}

const at = (records: EvidenceRecord[], i: number) => records[i]!;

test('the database refuses to change or delete stored evidence and checkpoints', async (t) => {
  const { f, records } = await ledgerWithFile(t);
  await assert.rejects(
    f.database.inSystem((trx) =>
      sql`update evidence_items set envelope = convert_to('{}', 'UTF8') where leaf_index = 3`.execute(trx),
    ),
    /is immutable/,
  );
  await assert.rejects(
    f.database.inSystem((trx) =>
      sql`update evidence_items set kind = 'other' where leaf_index = 3`.execute(trx),
    ),
    /is immutable/,
  );
  await assert.rejects(
    f.database.inSystem((trx) => sql`delete from evidence_items where leaf_index = 29`.execute(trx)),
    /cannot be deleted/,
  );
  await assert.rejects(
    f.database.inSystem((trx) => sql`update evidence_checkpoints set tree_size = 3`.execute(trx)),
    /cannot be changed/,
  );
  await assert.rejects(
    f.database.inSystem((trx) => sql`update evidence_ledger_heads set tree_size = 2`.execute(trx)),
    /only grows/,
  );
  // The application role may not even try.
  await assert.rejects(
    f.database.inWorkspace(f.workspaceId, (trx) =>
      sql`delete from evidence_items where id = ${at(records, 3).id}`.execute(trx),
    ),
    /permission denied/,
  );
  const result = await verifyLedger(f.database, f.store, f.slug);
  assert.equal(result.ok, true);
});

test('an altered envelope is named', async (t) => {
  const { f, records } = await ledgerWithFile(t);
  await tamper(
    f.database,
    sql`update evidence_items set envelope = convert_to(replace(convert_from(envelope, 'UTF8'), 'Person 7', 'Person 8'), 'UTF8')
        where leaf_index = 7`,
  );
  await expectFailure(f, {
    problem: 'envelope_altered',
    leafIndex: 7,
    evidenceId: at(records, 7).id,
    message: new RegExp(`^entry 7 \\(evidence ${at(records, 7).id}\\): the stored envelope does not hash`),
  });
});

test('an altered payload is named', async (t) => {
  const { f } = await ledgerWithFile(t);
  await tamper(
    f.database,
    sql`update evidence_items set content = convert_to(replace(convert_from(content, 'UTF8'), 'revoke', 'keep'), 'UTF8')
        where leaf_index = 12`,
  );
  await expectFailure(f, { problem: 'content_altered', leafIndex: 12, message: /payload does not hash/ });
});

test('an altered or missing file is named', async (t) => {
  const { f, blob } = await ledgerWithFile(t);
  writeFileSync(f.store.pathFor(blob.sha256), 'forged export\n');
  await expectFailure(f, { problem: 'blob_altered', leafIndex: 20, message: /no longer hashes to/ });
  await f.store.delete(blob.sha256);
  await expectFailure(f, {
    problem: 'blob_missing',
    leafIndex: 20,
    message: /is missing from the blob store/,
  });
});

test('an envelope rewritten together with its leaf hash breaks the signed tree', async (t) => {
  const { f } = await ledgerWithFile(t);
  await tamper(
    f.database,
    sql`update evidence_items set
          envelope = convert_to(replace(convert_from(envelope, 'UTF8'), 'Person 9', 'Person 0'), 'UTF8'),
          leaf_hash = sha256('\\x00'::bytea || convert_to(replace(convert_from(envelope, 'UTF8'), 'Person 9', 'Person 0'), 'UTF8'))
        where leaf_index = 9`,
  );
  await expectFailure(f, {
    problem: 'tree_mismatch',
    leafIndex: 0,
    message: /entries 0–29 do not rebuild the root signed by the checkpoint of size 30/,
  });
});

test('altered checkpoints and keys are named', async (t) => {
  const { f } = await ledgerWithFile(t);
  await tamper(
    f.database,
    sql`update evidence_checkpoints set body = replace(body, 'issued-at 20', 'issued-at 19')`,
  );
  await expectFailure(f, {
    problem: 'checkpoint_invalid',
    leafIndex: null,
    message: /checkpoint of size 30/,
  });
});

test('a forged signature and a swapped key are detected', async (t) => {
  const { f } = await ledgerWithFile(t);
  await tamper(
    f.database,
    sql`update evidence_checkpoints set signature = ${Buffer.alloc(64, 7).toString('base64')}`,
  );
  await expectFailure(f, { problem: 'checkpoint_invalid', leafIndex: null, message: /does not verify/ });

  const other = await ledgerWithFile(t);
  const { generateSigningKey } = await import('../../src/domains/evidence/core/checkpoint.ts');
  await tamper(
    other.f.database,
    sql`update evidence_signing_keys set public_key_pem = ${generateSigningKey().publicKeyPem}`,
  );
  await expectFailure(other.f, { problem: 'checkpoint_invalid', leafIndex: null, message: /holds key/ });
});

test('entries removed from the middle or the end are named', async (t) => {
  const { f, records } = await ledgerWithFile(t);
  await tamper(f.database, sql`delete from evidence_items where leaf_index = 5`);
  await expectFailure(f, { problem: 'entry_missing', leafIndex: 5, message: /entry 5 is missing/ });

  const other = await ledgerWithFile(t);
  // Removing the newest entries and rewinding the head: the checkpoint still remembers them.
  await tamper(other.f.database, sql`delete from evidence_items where leaf_index >= 27`);
  await tamper(
    other.f.database,
    sql`update evidence_ledger_heads set tree_size = 27, frontier = ${await frontierOf(other.f, 27)}::text[]`,
  );
  await expectFailure(other.f, {
    problem: 'checkpoint_beyond_ledger',
    leafIndex: 27,
    message: /the checkpoint of size 30 was signed, but the ledger holds only 27 entries/,
  });
  assert.equal(records.length, 30);
});

test('an erased payload must be accounted for by a redaction record', async (t) => {
  const { f } = await ledgerWithFile(t);
  // Silently nulling a payload (pretending it was redacted) is caught.
  await tamper(f.database, sql`update evidence_items set content = null where leaf_index = 4`);
  await expectFailure(f, {
    problem: 'content_missing',
    leafIndex: 4,
    message: /payload is missing and no erasure is recorded/,
  });
  await tamper(f.database, sql`update evidence_items set erased = 1, erased_by = 6 where leaf_index = 4`);
  await expectFailure(f, {
    problem: 'erasure_unrecorded',
    leafIndex: 4,
    message: /content erased, but entry 6 is not a redaction or disposal record/,
  });
  // A real redaction is accounted for, and the ledger verifies again once the forgery is undone.
  const other = await ledgerWithFile(t);
  const redaction = await redactEvidence(
    other.f.database,
    other.f.store,
    operator,
    other.f.slug,
    at(other.records, 4).id,
    {
      reason: 'erasure request #41',
    },
  );
  assert.deepEqual(redaction.erased, ['content']);
  const result = await verifyLedger(other.f.database, other.f.store, other.f.slug);
  assert.equal(result.ok, true, JSON.stringify(result.failures));
  assert.equal(result.erased, 1);
});

async function frontierOf(f: LedgerFixture, size: number): Promise<string[]> {
  const { MerkleTreeBuilder } = await import('../../src/domains/evidence/core/merkle.ts');
  const rows = await f.database.inWorkspace(f.workspaceId, (trx) =>
    sql<{
      h: string;
    }>`select encode(leaf_hash, 'hex') as h from evidence_items where leaf_index < ${size} order by leaf_index`.execute(
      trx,
    ),
  );
  const builder = new MerkleTreeBuilder();
  for (const row of rows.rows) builder.append(Buffer.from(row.h, 'hex'));
  return builder.frontier().hashes;
}
