import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { FileBlobStore } from '../../src/domains/evidence/core/blob-store.ts';
import {
  addEvidence,
  addEvidenceWithFile,
  checkpointNow,
  verifyLedger,
} from '../../src/domains/evidence/evidence.service.ts';
import { importFile } from '../../src/domains/ingest/import.service.ts';
import { credentialReport, roster } from '../../src/domains/monitoring/checks/check-testing.ts';
import { runChecks } from '../../src/domains/monitoring/run-checks.service.ts';
import {
  exportWorkspace,
  importWorkspace,
  readZip,
  zipBuffer,
} from '../../src/domains/portability/portability.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { createTestDatabase } from '../helpers/database.ts';

const actor = { type: 'cli', id: 'portability-test' } as const;
const lines = (text: string) => Readable.from([text]) as AsyncIterable<string>;

test('a client exported whole imports into a fresh Assay with the same controls, evidence and findings, and its ledger verifies', async (t) => {
  const source = await createTestDatabase(t);
  const target = await createTestDatabase(t);
  const dir = mkdtempSync(join(tmpdir(), 'assay-portability-'));
  const sourceBlobs = new FileBlobStore(join(dir, 'source-blobs'));
  const targetBlobs = new FileBlobStore(join(dir, 'target-blobs'));
  const db = source.database;

  await createWorkspace(db, actor, { slug: 'msp', kind: 'msp' });
  await createWorkspace(db, actor, { slug: 'acme', parent: 'msp', name: 'Acme Corp' });
  await createWorkspace(db, actor, { slug: 'other', parent: 'msp' });
  await importFile(
    db,
    actor,
    'acme',
    'hr-roster',
    lines(roster({ id: 'E1', name: 'Alice', email: 'alice@acme.test' })),
    {
      fileName: 'roster.csv',
      observedAt: '2026-09-30T00:00:00Z',
    },
  );
  await importFile(
    db,
    actor,
    'acme',
    'aws-iam-credential-report',
    lines(
      credentialReport({
        user: 'alice@acme.test',
        password: true,
        mfa: false,
        passwordLastUsed: '2026-09-30T00:00:00+00:00',
      }),
    ),
    { fileName: 'report.csv', observedAt: '2026-09-30T00:00:00Z' },
  );
  await runChecks(db, actor, 'acme', { asOf: new Date('2026-10-01T00:00:00Z') });
  await addEvidence(db, actor, 'acme', [
    {
      kind: 'access_review.decision',
      controls: [],
      effectiveAt: '2026-09-15T10:00:00Z',
      collector: { type: 'user', id: 'lead@acme.test' },
      content: { kept: 3, removed: 1 },
    },
  ]);
  await addEvidenceWithFile(
    db,
    sourceBlobs,
    actor,
    'acme',
    {
      kind: 'tabletop.report',
      effectiveAt: '2026-09-20T10:00:00Z',
      collector: { type: 'user', id: 'lead@acme.test' },
    },
    {
      source: Readable.from([Buffer.from('tabletop minutes: all good\n')]),
      mediaType: 'text/plain',
      fileName: 'minutes.txt',
    },
  );
  await checkpointNow(db, actor, 'acme');
  // Something in another workspace that must not travel.
  await addEvidence(db, actor, 'other', [
    {
      kind: 'other.secret',
      effectiveAt: '2026-09-15T10:00:00Z',
      collector: { type: 'user', id: 'x@other.test' },
      content: { marker: 'other-only' },
    },
  ]);

  const before = await verifyLedger(db, sourceBlobs, 'acme');
  assert.equal(before.ok, true);

  const { zip, manifest } = await exportWorkspace(db, sourceBlobs, actor, 'acme', null);
  assert.ok(manifest.tables.some((e) => e.table === 'evidence_items'));
  assert.ok(manifest.tables.some((e) => e.table === 'controls'));
  assert.ok(manifest.tables.some((e) => e.table === 'findings'));
  assert.equal(manifest.blobs.length, 1);
  for (const [, entry] of Object.entries(manifest.files)) assert.match(entry.sha256, /^[0-9a-f]{64}$/);
  assert.ok(!zip.includes(Buffer.from('other-only')), 'another workspace leaked into the export');
  assert.ok(!zip.includes(Buffer.from('unsealed:v0:')), 'a ledger private key left the installation');
  const file = join(dir, 'acme.zip');
  writeFileSync(file, zip);

  const result = await importWorkspace(target.database, targetBlobs, actor, file);
  assert.equal(result.workspace.slug, 'acme');
  const tdb = target.database;

  const rows = async (d: typeof db, table: 'controls' | 'findings' | 'evidence_items', cols: string[]) =>
    (
      await d.db
        .selectFrom(table)
        .select(cols as never[])
        .where('workspace_id', '=', result.workspace.id)
        .execute()
    )
      .map((r) => JSON.stringify(r))
      .sort();
  assert.deepEqual(
    await rows(tdb, 'controls', ['id', 'template_id', 'title', 'owner', 'status', 'active']),
    await rows(db, 'controls', ['id', 'template_id', 'title', 'owner', 'status', 'active']),
  );
  const findingCols = ['id', 'check_id', 'subject_key', 'status', 'severity', 'control_ids'];
  const sourceFindings = await rows(db, 'findings', findingCols);
  assert.ok(sourceFindings.length > 0, 'the scenario should open findings');
  assert.deepEqual(await rows(tdb, 'findings', findingCols), sourceFindings);
  const evidenceCols = ['id', 'leaf_index', 'kind', 'content_sha256', 'blob_sha256'];
  assert.deepEqual(
    await rows(tdb, 'evidence_items', evidenceCols),
    await rows(db, 'evidence_items', evidenceCols),
  );

  const after = await verifyLedger(tdb, targetBlobs, 'acme');
  assert.equal(after.ok, true, JSON.stringify(after.firstFailure));
  assert.equal(after.treeSize, before.treeSize);
  assert.equal(after.rootHash, before.rootHash);
  assert.equal(after.checkpoints, before.checkpoints);

  // The new installation signs on with a key of its own, and the ledger still verifies.
  await addEvidence(tdb, actor, 'acme', [
    {
      kind: 'access_review.decision',
      effectiveAt: '2026-10-15T10:00:00Z',
      collector: { type: 'user', id: 'lead@acme.test' },
    },
  ]);
  await checkpointNow(tdb, actor, 'acme');
  const grown = await verifyLedger(tdb, targetBlobs, 'acme');
  assert.equal(grown.ok, true, JSON.stringify(grown.firstFailure));
  assert.equal(grown.treeSize, before.treeSize + 1);

  // Importing twice is refused; a tampered zip is refused naming the file.
  const again = await importWorkspace(tdb, targetBlobs, actor, file).catch((e: Error) => e);
  assert.match(String((again as Error).message), /already exists/);
});

test('an export with a file that does not match its manifest is refused, naming the file', async (t) => {
  const source = await createTestDatabase(t);
  const target = await createTestDatabase(t);
  const dir = mkdtempSync(join(tmpdir(), 'assay-portability-'));
  const blobs = new FileBlobStore(join(dir, 'blobs'));
  await createWorkspace(source.database, actor, { slug: 'acme' });
  const { zip } = await exportWorkspace(source.database, blobs, actor, 'acme', null);
  // Change one control's title after the manifest was written.
  const files = await readZip(zip, 'export');
  const controls = files.get('tables/controls.json')?.toString('utf8') ?? '';
  assert.ok(controls.includes('"title"'));
  files.set('tables/controls.json', Buffer.from(controls.replace('"title":"', '"title":"Not ')));
  const file = join(dir, 'bad.zip');
  writeFileSync(file, await zipBuffer(files));
  const error = await importWorkspace(target.database, blobs, actor, file).catch((e: Error) => e);
  assert.ok(error instanceof Error);
  assert.match(error.message, /tables\/controls\.json does not match its SHA-256/);
  const count = await target.database.db.selectFrom('workspaces').select('slug').execute();
  assert.equal(count.length, 0);
});
