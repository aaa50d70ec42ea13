import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { erasureBits } from '../erasure-record.ts';
import { checkChunk } from './ledger-check.ts';
import { MerkleTreeBuilder } from './merkle.ts';

const workspaceId = '00000000-0000-4000-8000-000000000001';
const context = { workspaceTail: `"workspace":"${workspaceId}"}`, erasureBits: { ...erasureBits } };

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

interface Leaf {
  leafIndex: number;
  erased?: number;
  leafHash?: Buffer;
  envelope: Buffer | null;
  content: Buffer | null;
}

function leaf(leafIndex: number, workspace = workspaceId): Leaf {
  const content = Buffer.from(`{"n":${leafIndex}}`);
  const envelope = Buffer.from(
    `{"blob":null,"collectedAt":"2026-01-01T00:00:00.000Z","collector":{"id":"c","name":null,"type":"check"},` +
      `"contentSha256":"${sha256(content).toString('hex')}","id":"e${leafIndex}","workspace":"${workspace}"}`,
  );
  return { leafIndex, envelope, content };
}

function field(value: Buffer | null): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(value === null ? -1 : value.length);
  return value === null ? length : Buffer.concat([length, value]);
}

/** Records in PostgreSQL's binary row form, each behind `header` bytes (a DataRow's when 5). */
function records(leaves: Leaf[], header: 0 | 5): Buffer {
  return Buffer.concat(
    leaves.map((l) => {
      const index = Buffer.alloc(8);
      index.writeBigInt64BE(BigInt(l.leafIndex));
      const erased = Buffer.alloc(2);
      erased.writeInt16BE(l.erased ?? 0);
      const leafHash = l.leafHash ?? sha256(Buffer.from([0]), l.envelope ?? Buffer.alloc(0));
      const body = Buffer.concat([
        Buffer.from([0, 5]),
        field(index),
        field(erased),
        field(leafHash),
        field(l.envelope),
        field(l.content),
      ]);
      if (header === 0) return body;
      const message = Buffer.alloc(5);
      message[0] = 0x44;
      message.writeInt32BE(body.length + 4, 1);
      return Buffer.concat([message, body]);
    }),
  );
}

for (const header of [0, 5] as const) {
  test(`intact records${header ? ' behind DataRow headers' : ''} pass, fold into the subtree root, and are left as they were`, () => {
    const leaves = Array.from({ length: 8 }, (_, i) => leaf(i));
    const chunk = records(leaves, header);
    const before = Buffer.from(chunk);
    const check = checkChunk(chunk, header, context);
    assert.deepEqual(check.failures, []);
    assert.equal(check.count, 8);
    assert.equal(check.first, 0);
    assert.equal(check.indexes, null);
    // The leaf prefix is written into the chunk while hashing, then put back.
    assert.deepEqual(chunk, before);
    const tree = new MerkleTreeBuilder();
    for (const l of leaves) tree.append(sha256(Buffer.from([0]), l.envelope!));
    assert.equal(check.subtreeRoot, tree.root().toString('hex'));
    assert.deepEqual(check.hashes.subarray(32, 64), sha256(Buffer.from([0]), leaves[1]!.envelope!));
    const bytes = leaves.reduce((sum, l) => sum + l.envelope!.length + l.content!.length, 0);
    assert.equal(check.bytesHashed, bytes);
  });
}

test('each kind of damage is named by its leaf index, and the records after it still parse', () => {
  const leaves = Array.from({ length: 7 }, (_, i) => leaf(i + 10));
  // The envelope changed after its leaf hash was recorded.
  leaves[0]!.leafHash = sha256(Buffer.from([0]), leaves[0]!.envelope!);
  leaves[0]!.envelope = Buffer.from(leaves[0]!.envelope!.toString().replace('"e10"', '"e99"'));
  leaves[1]!.content = Buffer.from('{"n":999}');
  leaves[2] = { ...leaf(12, '00000000-0000-4000-8000-000000000002') };
  // A leaf hash of another length (its constraint dropped) shifts every field after it.
  leaves[3]!.leafHash = Buffer.alloc(31, 7);
  leaves[4]!.envelope = null;
  leaves[5]!.content = null;
  leaves[6]!.erased = erasureBits.content;
  leaves[6]!.content = null;
  const check = checkChunk(records(leaves, 5), 5, context);
  assert.deepEqual(
    check.failures.map((f) => [f.problem, f.leafIndex]),
    [
      ['envelope_altered', 10],
      ['content_altered', 11],
      ['envelope_foreign', 12],
      ['envelope_altered', 13],
      ['envelope_missing', 14],
      ['content_missing', 15],
    ],
  );
  assert.match(check.failures[0]!.message, /^entry 10: the stored envelope does not hash/);
  assert.deepEqual(check.erased, [16]);
  assert.equal(check.count, 7);
  // Seven leaves are no perfect subtree: the caller's tree takes the leaf hashes one by one.
  assert.equal(check.subtreeRoot, null);
  assert.deepEqual(check.hashes.subarray(3 * 32, 4 * 32), Buffer.alloc(32));
});

test('leaves out of order are reported with every index, and never folded into a subtree', () => {
  const check = checkChunk(records([leaf(0), leaf(2), leaf(1), leaf(3)], 0), 0, context);
  assert.deepEqual(check.failures, []);
  assert.deepEqual([...(check.indexes ?? [])], [0, 2, 1, 3]);
  assert.equal(check.subtreeRoot, null);
});

test('a file reference is collected unless its file was erased', () => {
  const sha = 'ab'.repeat(32);
  const withBlob = (l: Leaf): Leaf => ({
    ...l,
    envelope: Buffer.from(
      l.envelope!.toString().replace('{"blob":null', `{"blob":{"mediaType":"text/plain","sha256":"${sha}"}`),
    ),
  });
  const check = checkChunk(
    records([withBlob(leaf(0)), { ...withBlob(leaf(1)), erased: erasureBits.blob }], 0),
    0,
    context,
  );
  assert.deepEqual(check.failures, []);
  assert.deepEqual(check.blobs, [[sha, 0]]);
  assert.deepEqual(check.erased, [1]);
});

test('bytes that are not ledger records are refused, not misread', () => {
  const chunk = records([leaf(0)], 0);
  chunk.writeInt16BE(4, 0);
  assert.throws(() => checkChunk(chunk, 0, context), /ledger chunk malformed at byte 0: not a ledger record/);
  const cut = records([leaf(0), leaf(1)], 0);
  assert.throws(
    () => checkChunk(cut.subarray(0, cut.length - 3), 0, context),
    /ledger chunk malformed at byte \d+: a field runs past the chunk/,
  );
});
