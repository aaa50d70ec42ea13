/**
 * The per-entry checks of ledger verification over one packed chunk of leaves (layout: see
 * readVerificationChunk in evidence.repository.ts), with no state across chunks and no database
 * access.
 *
 * Per entry it recomputes the leaf hash SHA-256(0x00 ‖ stored envelope bytes) and compares it
 * with the stored leaf hash, checks that the envelope is this workspace's, recomputes the
 * payload's SHA-256 and compares it with the contentSha256 the envelope records, and collects
 * the file references to check and the erased entries to account for. When the chunk is a
 * whole aligned perfect subtree it also folds the stored leaf hashes into that subtree's root,
 * level by level, so the caller's tree takes one hash per chunk.
 */
import * as crypto from 'node:crypto';

type OneShotHash = (algorithm: string, data: Uint8Array, outputEncoding: 'latin1' | 'hex') => string;
// crypto.hash (Node ≥ 20.12) is a one-shot digest about 3× cheaper than createHash per call.
const hash: OneShotHash =
  (crypto as unknown as { hash?: OneShotHash }).hash ??
  ((algorithm, data, encoding) =>
    crypto
      .createHash(algorithm)
      .update(data)
      .digest(encoding as 'hex'));

const CONTENT_MARKER = Buffer.from('"contentSha256":"', 'latin1');
const BLOB_SHA_MARKER = Buffer.from('"sha256":"', 'latin1');
// Canonical envelopes start with {"blob": — "blob" sorts first — followed by null or an object.
const BLOB_VALUE_OFFSET = '{"blob":'.length;
const OPEN_BRACE = 0x7b;
const HASH_SIZE = 32;

export interface ChunkFailure {
  problem:
    | 'envelope_altered'
    | 'envelope_foreign'
    | 'envelope_malformed'
    | 'envelope_missing'
    | 'content_altered'
    | 'content_missing';
  leafIndex: number;
  message: string;
}

export interface ChunkCheckContext {
  /** `"workspace":"<id>"}` — how every envelope of the workspace ends. */
  workspaceTail: string;
  erasureBits: { content: number; blob: number; envelope: number };
}

export interface ChunkCheck {
  /** Entries in the chunk. */
  count: number;
  /** Leaf index of the first entry (-1 when empty). */
  first: number;
  /** Every entry's leaf index, only when they are not consecutive from `first`. */
  indexes: Float64Array | null;
  /** The stored leaf hashes, 32 bytes each, in chunk order. */
  hashes: Buffer;
  /** Hex root of the chunk as a perfect subtree (consecutive, 2^k entries from a multiple of 2^k). */
  subtreeRoot: string | null;
  failures: ChunkFailure[];
  /** [blob sha256, leaf index] for every file reference that is not erased. */
  blobs: [string, number][];
  /** Leaf indexes with an erased part. */
  erased: number[];
  bytesHashed: number;
}

export function checkChunk(chunk: Buffer, context: ChunkCheckContext): ChunkCheck {
  const tail = Buffer.from(context.workspaceTail, 'latin1');
  const bits = context.erasureBits;
  const failures: ChunkFailure[] = [];
  const blobs: [string, number][] = [];
  const erased: number[] = [];
  const records: number[] = [];
  let bytesHashed = 0;
  let first = -1;
  let expectedIndex = -1;
  let contiguous = true;
  let p = 0;
  while (p < chunk.length) {
    const leafIndex = chunk.readUInt32BE(p) * 0x1_0000_0000 + chunk.readUInt32BE(p + 4);
    const erasedBits = chunk.readInt16BE(p + 8);
    const hashAt = p + 10;
    const envelopeLength = chunk.readInt32BE(p + 42);
    const envelopeAt = p + 46; // the 0x00 leaf prefix, then the envelope
    const envelopeEnd = envelopeAt + envelopeLength;
    const contentLength = chunk.readInt32BE(envelopeEnd);
    const contentAt = envelopeEnd + 4;
    records.push(p);
    p = contentAt + (contentLength > 0 ? contentLength : 0);
    if (first < 0) first = leafIndex;
    else if (leafIndex !== expectedIndex) contiguous = false;
    expectedIndex = leafIndex + 1;

    let contentHexAt = -1;
    if (envelopeLength > 0) {
      bytesHashed += envelopeLength - 1;
      // Digests as latin1 strings: far cheaper per call than a Buffer each.
      const digest = hash('sha256', chunk.subarray(envelopeAt, envelopeEnd), 'latin1');
      if (digest !== chunk.toString('latin1', hashAt, hashAt + HASH_SIZE)) {
        failures.push({
          problem: 'envelope_altered',
          leafIndex,
          message: `entry ${leafIndex}: the stored envelope does not hash to the entry's leaf hash (the envelope was changed)`,
        });
      } else if (
        envelopeLength - 1 < tail.length ||
        chunk.compare(tail, 0, tail.length, envelopeEnd - tail.length, envelopeEnd) !== 0
      ) {
        failures.push({
          problem: 'envelope_foreign',
          leafIndex,
          message: `entry ${leafIndex}: the envelope belongs to another workspace`,
        });
      }
      const marker = chunk.indexOf(CONTENT_MARKER, envelopeAt + 1);
      if (marker < 0 || marker + CONTENT_MARKER.length + 64 > envelopeEnd) {
        failures.push({
          problem: 'envelope_malformed',
          leafIndex,
          message: `entry ${leafIndex}: the envelope records no contentSha256`,
        });
      } else {
        contentHexAt = marker + CONTENT_MARKER.length;
      }
      if ((erasedBits & bits.blob) === 0 && chunk[envelopeAt + 1 + BLOB_VALUE_OFFSET] === OPEN_BRACE) {
        const blobMarker = chunk.indexOf(BLOB_SHA_MARKER, envelopeAt + 1 + BLOB_VALUE_OFFSET);
        if (blobMarker < 0 || blobMarker + BLOB_SHA_MARKER.length + 64 > envelopeEnd) {
          failures.push({
            problem: 'envelope_malformed',
            leafIndex,
            message: `entry ${leafIndex}: the envelope's blob has no sha256`,
          });
        } else {
          const at = blobMarker + BLOB_SHA_MARKER.length;
          blobs.push([chunk.toString('latin1', at, at + 64), leafIndex]);
        }
      }
    } else if ((erasedBits & bits.envelope) === 0) {
      failures.push({
        problem: 'envelope_missing',
        leafIndex,
        message: `entry ${leafIndex}: the envelope is missing and no erasure is recorded`,
      });
    }

    if (contentLength >= 0) {
      if (contentHexAt >= 0) {
        bytesHashed += contentLength;
        // The envelope records the hex digest: compare as latin1 text, no decoding.
        const hex = hash('sha256', chunk.subarray(contentAt, contentAt + contentLength), 'hex');
        if (chunk.toString('latin1', contentHexAt, contentHexAt + 64) !== hex) {
          failures.push({
            problem: 'content_altered',
            leafIndex,
            message: `entry ${leafIndex}: the stored payload does not hash to the contentSha256 its envelope records`,
          });
        }
      }
    } else if ((erasedBits & bits.content) === 0) {
      failures.push({
        problem: 'content_missing',
        leafIndex,
        message: `entry ${leafIndex}: the payload is missing and no erasure is recorded`,
      });
    }
    if (erasedBits !== 0) erased.push(leafIndex);
  }

  const count = records.length;
  // The stored leaf hashes, in chunk order: the tree is built from what the ledger committed to
  // (an envelope changed alone fails above; changed with its leaf hash, the tree catches it).
  const hashes = Buffer.allocUnsafe(count * HASH_SIZE);
  const indexes = contiguous ? null : new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const at = records[i]!;
    chunk.copy(hashes, i * HASH_SIZE, at + 10, at + 10 + HASH_SIZE);
    if (indexes) indexes[i] = chunk.readUInt32BE(at) * 0x1_0000_0000 + chunk.readUInt32BE(at + 4);
  }
  const perfect = count > 1 && (count & (count - 1)) === 0 && first % count === 0;
  const subtreeRoot = contiguous && perfect ? subtreeRootOf(hashes, count) : null;
  return { count, first, indexes, hashes, subtreeRoot, failures, blobs, erased, bytesHashed };
}

/** Hex MTH of a perfect subtree given its leaf hashes, folded level by level. */
function subtreeRootOf(leafHashes: Buffer, count: number): string {
  const pair = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
  pair[0] = 0x01;
  const level = Buffer.from(leafHashes);
  for (let n = count; n > 1; n /= 2) {
    for (let i = 0; i < n / 2; i++) {
      level.copy(pair, 1, 2 * i * HASH_SIZE, (2 * i + 2) * HASH_SIZE);
      level.write(hash('sha256', pair, 'latin1'), i * HASH_SIZE, HASH_SIZE, 'latin1');
    }
  }
  return level.toString('hex', 0, HASH_SIZE);
}
