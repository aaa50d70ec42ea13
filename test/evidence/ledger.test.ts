/**
 * The ledger service as other domains use it: appendEvidence inside their transaction,
 * checkpoints on demand and on schedule, key rotation, freshness, verification at scale.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { sql } from 'kysely';
import { canonicalize, sha256Hex } from '../../src/domains/evidence/core/canonical-json.ts';
import { verifyCheckpointWithKeyring } from '../../src/domains/evidence/core/checkpoint.ts';
import {
  addEvidence,
  appendEvidence,
  checkpointDueWorkspaces,
  createCheckpoint,
  evidenceFreshness,
  evidenceProof,
  getEvidence,
  ledgerStatus,
  listCheckpoints,
  registerEvidenceBlob,
  rotateKey,
  runDueCheckpoints,
  verifyLedger,
} from '../../src/domains/evidence/evidence.service.ts';
import { keyringOf, listLedgerKeys } from '../../src/domains/evidence/ledger-keys.ts';
import { redactEvidence } from '../../src/domains/evidence/retention.service.ts';
import type { AssayError } from '../../src/errors.ts';
import { addWorkspace, appendSamples, ledgerFixture, operator, sampleEvidence } from './fixtures.ts';
import { checkInclusion, leafOf, merkleRoot } from './rfc9162.ts';

test('appendEvidence records canonical envelopes at consecutive leaves, inside the caller transaction', async (t) => {
  const f = await ledgerFixture(t);
  const first = await appendSamples(f, 3);
  assert.deepEqual(
    first.map((r) => r.leafIndex),
    [0, 1, 2],
  );
  const envelope = first[0]!.envelope;
  assert.equal(envelope.type, 'assay.evidence/v1');
  assert.equal(envelope.workspace, f.workspaceId);
  assert.deepEqual(envelope.proves, { controls: ['AC-03'], criteria: ['CC6.2'] });
  assert.deepEqual(envelope.subject, { id: 'okta:00u0', name: 'Person 0 Müller', type: 'account' });
  assert.equal(envelope.effectiveAt, '2026-03-01T09:30:00.000Z');
  assert.equal(envelope.collectedAt, '2026-03-01T10:00:00.000Z');
  assert.equal(envelope.staleAfter, '2026-05-30T09:30:00.000Z');
  assert.equal(envelope.contentSha256, sha256Hex(canonicalize(sampleEvidence(0).content)));
  assert.equal(first[0]!.envelopeSha256, sha256Hex(canonicalize(envelope)));
  assert.equal(first[0]!.leafHash, leafOf(canonicalize(envelope)).toString('hex'));

  // The caller's own change and the evidence commit or roll back together.
  await assert.rejects(
    f.database.inWorkspace(f.workspaceId, async (trx) => {
      await appendEvidence(trx, f.workspaceId, [sampleEvidence(3)]);
      throw new Error('the caller fails after appending');
    }),
    /the caller fails/,
  );
  const next = await appendSamples(f, 1, { start: 4 });
  assert.equal(next[0]!.leafIndex, 3, 'the rolled-back append left no gap');

  const stored = await getEvidence(f.database, f.slug, first[1]!.id);
  assert.equal(stored.envelope, canonicalize(first[1]!.envelope), 'stored byte for byte');
  assert.deepEqual(stored.content, sampleEvidence(1).content);
  assert.equal(stored.item.leafIndex, 1);
  assert.equal(stored.retainedUntil, '2028-03-01T09:30:00.000Z', '730 days after it happened');
  const verification = await verifyLedger(f.database, f.store, f.slug);
  assert.equal(verification.ok, true, JSON.stringify(verification.failures));
  assert.equal(verification.treeSize, 4);
});

test('bad input names the item and field, and nothing is written', async (t) => {
  const f = await ledgerFixture(t);
  await appendSamples(f, 2);
  const cases: [Partial<Parameters<typeof sampleEvidence>[1]>, RegExp][] = [
    [{ controls: ['AC-03', 'ZZ-99'] }, /evidence\[1\]\.controls\[1\]: control "ZZ-99" does not exist/],
    [{ criteria: ['CC99.9'] }, /evidence\[1\]\.criteria: "CC99\.9" is not a Trust Services Criterion/],
    [{ effectiveAt: '2026-13-45' }, /evidence\[1\]\.effectiveAt: must be an ISO 8601 date-time/],
    [{ kind: 'Bad Kind' }, /evidence\[1\]\.kind/],
    [{ kind: 'evidence.redaction' }, /reserved for the ledger itself/],
    [
      { blob: { sha256: 'a'.repeat(64), mediaType: 'text/plain' } },
      /no file with SHA-256 a{64} was uploaded/,
    ],
    [{ ttlSeconds: -5 }, /evidence\[1\]\.ttlSeconds/],
    [{ content: { n: Number.NaN } }, /evidence\[1\]\.content: cannot be stored: \$\.n/],
  ];
  for (const [override, message] of cases) {
    await assert.rejects(
      f.database.inWorkspace(f.workspaceId, (trx) =>
        appendEvidence(trx, f.workspaceId, [sampleEvidence(10), sampleEvidence(11, override)]),
      ),
      (error: AssayError) => {
        assert.equal(error.code, 'validation_failed');
        assert.match(error.message, message);
        return true;
      },
    );
  }
  const status = await ledgerStatus(f.database, f.slug);
  assert.equal(status.treeSize, 2);
  const { rows } = await f.database.inWorkspace(f.workspaceId, (trx) =>
    sql<{ n: number }>`select count(*)::int as n from evidence_items`.execute(trx),
  );
  assert.equal(rows[0]!.n, 2);
});

test('controls are accepted by template id or control id and recorded by template id', async (t) => {
  const f = await ledgerFixture(t);
  const control = await f.database.inWorkspace(f.workspaceId, (trx) =>
    trx.selectFrom('controls').select(['id']).where('template_id', '=', 'AC-01').executeTakeFirstOrThrow(),
  );
  const [record] = await addEvidence(f.database, operator, f.slug, [
    sampleEvidence(0, { controls: [control.id, 'AC-03', 'AC-01'], criteria: ['CC6.1', 'CC6.2'] }),
  ]);
  assert.deepEqual(record!.envelope.proves.controls, ['AC-01', 'AC-03']);
});

test('checkpoints: on demand, one per tree size, on schedule for grown ledgers, signed by the current key', async (t) => {
  const f = await ledgerFixture(t);
  const otherId = await addWorkspace(f.database, 'zenith');
  await appendSamples(f, 5);
  const first = await createCheckpoint(f.database, f.workspaceId);
  assert.equal(first.created, true);
  assert.equal(first.checkpoint.treeSize, 5);
  const again = await createCheckpoint(f.database, f.workspaceId);
  assert.equal(again.created, false, 'the ledger has not grown');
  assert.equal(again.checkpoint.body, first.checkpoint.body);

  const later = new Date(Date.now() + 3_600_000);
  assert.deepEqual(await checkpointDueWorkspaces(f.database, { intervalSeconds: 300, now: later }), []);
  await appendSamples(f, 3, { start: 5 });
  await appendSamples({ database: f.database, workspaceId: otherId }, 2);
  assert.deepEqual(
    await checkpointDueWorkspaces(f.database, { intervalSeconds: 300 }),
    [otherId],
    'acme was checkpointed just now',
  );
  const due = await checkpointDueWorkspaces(f.database, { intervalSeconds: 300, now: later });
  assert.deepEqual([...due].sort(), [f.workspaceId, otherId].sort());
  const ran = await runDueCheckpoints(f.database, { intervalSeconds: 300, now: later });
  assert.deepEqual(ran.map((r) => r.checkpoint.treeSize).sort(), [2, 8]);
  assert.deepEqual(await checkpointDueWorkspaces(f.database, { intervalSeconds: 300, now: later }), []);

  // Rotation: the old key still verifies what it signed; new checkpoints use the new key.
  const rotated = await rotateKey(f.database, operator, f.slug);
  assert.equal(rotated.retired?.keyId, first.checkpoint.keyId);
  await appendSamples(f, 1, { start: 8 });
  const afterRotation = await createCheckpoint(f.database, f.workspaceId);
  assert.equal(afterRotation.checkpoint.keyId, rotated.current.keyId);
  const keyring = keyringOf(
    await f.database.inWorkspace(f.workspaceId, (trx) => listLedgerKeys(trx, f.workspaceId)),
  );
  const checkpoints = await listCheckpoints(f.database, f.slug);
  assert.deepEqual(
    checkpoints.map((c) => c.treeSize),
    [5, 8, 9],
  );
  for (const checkpoint of checkpoints) {
    const result = verifyCheckpointWithKeyring(checkpoint.body, checkpoint.signature, keyring);
    assert.equal(result.ok, true, JSON.stringify(result));
  }
  // A checkpoint signed with the retired key after its retirement would be refused.
  assert.equal(keyring.keys.length, 2);
  const verification = await verifyLedger(f.database, f.store, f.slug);
  assert.equal(verification.ok, true, JSON.stringify(verification.failures));
  assert.equal(verification.checkpoints, 3);
  assert.equal(verification.keys.length, 2);
});

test('freshness: per control, the newest evidence, its age, and whether it is stale', async (t) => {
  const f = await ledgerFixture(t);
  const now = new Date('2026-04-15T00:00:00Z');
  await appendSamples(f, 3, {
    make: (i) =>
      sampleEvidence(i, {
        controls: ['AC-03'],
        effectiveAt: `2026-0${i + 1}-01T00:00:00Z`,
        ttlSeconds: 60 * 86_400,
      }),
  });
  await appendSamples(f, 1, {
    start: 3,
    make: () =>
      sampleEvidence(3, {
        controls: ['AC-01'],
        effectiveAt: '2026-01-01T00:00:00Z',
        ttlSeconds: 30 * 86_400,
      }),
  });
  const report = await evidenceFreshness(f.database, f.slug, now);
  const byControl = new Map(report.controls.map((c) => [c.control, c]));
  const ac03 = byControl.get('AC-03')!;
  assert.equal(ac03.status, 'fresh');
  assert.equal(ac03.evidenceCount, 3);
  assert.equal(ac03.newest?.effectiveAt, '2026-03-01T00:00:00.000Z');
  assert.equal(ac03.newest?.ageSeconds, (Date.parse('2026-04-15') - Date.parse('2026-03-01')) / 1000);
  const ac01 = byControl.get('AC-01')!;
  assert.equal(ac01.status, 'stale');
  assert.equal(ac01.newest?.staleAfter, '2026-01-31T00:00:00.000Z');
  assert.equal(byControl.get('AC-02')?.status, 'missing');
});

test('blobs: streamed in, deduplicated, registered per workspace, and referenced by hash', async (t) => {
  const f = await ledgerFixture(t);
  const bytes = Buffer.from(`screenshot ${Math.random()}`);
  const put = await f.store.put(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]));
  const again = await f.store.put(Readable.from([bytes]));
  assert.equal(again.created, false);
  assert.equal(put.sha256, sha256Hex(bytes));
  await f.database.inWorkspace(f.workspaceId, (trx) => registerEvidenceBlob(trx, f.workspaceId, put));
  const [record] = await addEvidence(f.database, operator, f.slug, [
    sampleEvidence(0, { blob: { sha256: put.sha256, mediaType: 'image/png', fileName: 'mfa.png' } }),
  ]);
  assert.deepEqual(record!.envelope.blob, {
    fileName: 'mfa.png',
    mediaType: 'image/png',
    sha256: put.sha256,
    size: bytes.length,
  });
  await assert.rejects(
    addEvidence(f.database, operator, f.slug, [
      sampleEvidence(1, { blob: { sha256: put.sha256, size: 3, mediaType: 'image/png' } }),
    ]),
    /blob\.size: is 3 but the uploaded file .* has \d+ bytes/,
  );
  // Another workspace cannot reference a blob it did not upload, even knowing the hash.
  const otherId = await addWorkspace(f.database, 'zenith');
  await assert.rejects(
    addEvidence(f.database, operator, 'zenith', [
      sampleEvidence(0, { blob: { sha256: put.sha256, mediaType: 'image/png' } }),
    ]),
    /no file with SHA-256 .* was uploaded to this workspace/,
  );
  assert.ok(otherId);
  const verification = await verifyLedger(f.database, f.store, f.slug);
  assert.equal(verification.ok, true, JSON.stringify(verification.failures));
  assert.equal(verification.blobs, 1);
});

test('a valid ledger of 100,000 items verifies, and its proofs check out independently', async (t) => {
  const f = await ledgerFixture(t);
  const records = await appendSamples(f, 60_000, { batch: 10_000 });
  const middle = await createCheckpoint(f.database, f.workspaceId);
  records.push(...(await appendSamples(f, 40_000, { batch: 10_000, start: 60_000 })));
  const { checkpoint } = await createCheckpoint(f.database, f.workspaceId);
  assert.equal(checkpoint.treeSize, 100_000);

  const verification = await verifyLedger(f.database, f.store, f.slug);
  assert.equal(verification.ok, true, JSON.stringify(verification.failures.slice(0, 3)));
  assert.equal(verification.treeSize, 100_000);
  assert.equal(verification.checkpoints, 2);
  assert.equal(verification.rootHash, checkpoint.rootHash);

  // The root by the RFC's recursive definition, from the envelopes the appends returned.
  const leaves = records.map((r) => leafOf(canonicalize(r.envelope)));
  assert.equal(merkleRoot(leaves.slice(0, 60_000)).toString('hex'), middle.checkpoint.rootHash);
  assert.equal(merkleRoot(leaves).toString('hex'), checkpoint.rootHash);
  for (const index of [0, 59_999, 65_536, 99_999]) {
    const proof = await evidenceProof(f.database, f.slug, records[index]!.id);
    assert.ok(
      checkInclusion(
        index,
        100_000,
        leaves[index]!,
        proof.proof.map((h) => Buffer.from(h, 'hex')),
        Buffer.from(checkpoint.rootHash, 'hex'),
      ),
      `inclusion of leaf ${index}`,
    );
  }
});

test('redacting a file shared with other evidence keeps it for them; the last reference removes it', async (t) => {
  const f = await ledgerFixture(t);
  const otherId = await addWorkspace(f.database, 'zenith');
  const bytes = Buffer.from(`shared export ${Math.random()}`);
  const put = await f.store.put(Readable.from([bytes]));
  for (const workspaceId of [f.workspaceId, otherId]) {
    await f.database.inWorkspace(workspaceId, (trx) => registerEvidenceBlob(trx, workspaceId, put));
  }
  const blob = { sha256: put.sha256, mediaType: 'text/csv' };
  const [first, second] = await addEvidence(f.database, operator, f.slug, [
    sampleEvidence(0, { blob }),
    sampleEvidence(1, { blob }),
  ]);
  await addEvidence(f.database, operator, 'zenith', [sampleEvidence(2, { blob })]);

  await redactEvidence(f.database, f.store, operator, f.slug, first!.id, { reason: 'erasure request' });
  assert.equal(await f.store.has(put.sha256), true, 'still referenced by the second item');
  await redactEvidence(f.database, f.store, operator, f.slug, second!.id, { reason: 'erasure request' });
  assert.equal(await f.store.has(put.sha256), true, 'zenith uploaded and references the same bytes');
  for (const slug of [f.slug, 'zenith']) {
    const verification = await verifyLedger(f.database, f.store, slug);
    assert.equal(verification.ok, true, JSON.stringify(verification.failures));
  }
  // acme can no longer reference the file without uploading it again.
  await assert.rejects(
    addEvidence(f.database, operator, f.slug, [sampleEvidence(3, { blob })]),
    /no file with SHA-256/,
  );
});
