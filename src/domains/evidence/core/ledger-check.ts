/**
 * The per-entry checks of ledger verification over one chunk of leaf records (layout: see
 * readVerificationChunk in evidence.repository.ts), with no state across chunks and no database
 * access.
 *
 * Per entry it recomputes the leaf hash SHA-256(0x00 ‖ stored envelope bytes) and compares it
 * with the stored leaf hash, checks that the envelope is this workspace's, recomputes the
 * payload's SHA-256 and compares it with the contentSha256 the envelope records, and collects
 * the file references to check and the erased entries to account for. When the chunk is a
 * whole aligned perfect subtree it also folds the stored leaf hashes into that subtree's root,
 * level by level, so the caller's tree takes one hash per chunk.
 *
 * Speed: this loop runs once per entry of the ledger, so it reads fields in place, compares
 * digests byte by byte against the stored bytes, and creates no object per entry beyond the two
 * views SHA-256 needs (measured in `npm run bench`, ledger section).
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

/** Where each field of a record lies, from the record's start (past any header). */
const FIELD_COUNT = 5;
const LEAF_INDEX_AT = 6; // after int2 field count and int4 length 8
const ERASED_AT = 18; // after the int8 and int4 length 2
const HASH_LENGTH_AT = 20;
const HASH_AT = 24;
const ENVELOPE_LENGTH_AT = HASH_AT + HASH_SIZE;
const ENVELOPE_AT = ENVELOPE_LENGTH_AT + 4;

function malformed(at: number, what: string): Error {
  return new Error(`ledger chunk malformed at byte ${at}: ${what}`);
}

/** The first `"contentSha256":"` in [from, end), or -1: a scan cheaper than indexOf per call. */
function contentMarkerAt(chunk: Buffer, from: number, end: number): number {
  const last = end - CONTENT_MARKER.length;
  for (let j = from; j <= last; j++) {
    // '"', then 'c', 'n', 't' at their places: rules out "collectedAt" and "collector" at once.
    if (chunk[j] === 0x22 && chunk[j + 1] === 0x63 && chunk[j + 3] === 0x6e && chunk[j + 4] === 0x74) {
      let k = 5;
      while (k < CONTENT_MARKER.length && chunk[j + k] === CONTENT_MARKER[k]) k++;
      if (k === CONTENT_MARKER.length) return j;
    }
  }
  return -1;
}

/**
 * Checks one chunk. The chunk's bytes are borrowed: the byte before each envelope (the low byte
 * of its length) is set to the leaf prefix 0x00 while the leaf hash is computed, so that the
 * hash input is one contiguous view, and put back at once.
 */
export function checkChunk(chunk: Buffer, recordHeader: number, context: ChunkCheckContext): ChunkCheck {
  const tail = Buffer.from(context.workspaceTail, 'latin1');
  const tailLength = tail.length;
  const bits = context.erasureBits;
  const arena = chunk.buffer;
  const base = chunk.byteOffset;
  const failures: ChunkFailure[] = [];
  const blobs: [string, number][] = [];
  const erased: number[] = [];
  const hashAts: number[] = [];
  const leafIndexes: number[] = [];
  let bytesHashed = 0;
  let first = -1;
  let expectedIndex = -1;
  let contiguous = true;
  let p = 0;
  while (p < chunk.length) {
    const r = p + recordHeader;
    if (
      r + ENVELOPE_AT > chunk.length ||
      chunk.readInt16BE(r) !== FIELD_COUNT ||
      chunk.readInt32BE(r + 2) !== 8 ||
      chunk.readInt32BE(r + 14) !== 2
    ) {
      throw malformed(p, 'not a ledger record');
    }
    const leafIndex =
      chunk.readUInt32BE(r + LEAF_INDEX_AT) * 0x1_0000_0000 + chunk.readUInt32BE(r + LEAF_INDEX_AT + 4);
    const erasedBits = chunk.readInt16BE(r + ERASED_AT);
    const hashAt = r + HASH_AT;
    if (first < 0) first = leafIndex;
    else if (leafIndex !== expectedIndex) contiguous = false;
    expectedIndex = leafIndex + 1;

    // A leaf hash of another length (changed by hand) shifts the fields after it.
    const hashLength = chunk.readInt32BE(r + HASH_LENGTH_AT);
    const shift = Math.max(hashLength, 0) - HASH_SIZE;
    const envelopeLengthAt = r + ENVELOPE_LENGTH_AT + shift;
    if (envelopeLengthAt + 4 > chunk.length) throw malformed(r, 'a field runs past the chunk');
    const envelopeLength = chunk.readInt32BE(envelopeLengthAt);
    const envelopeAt = envelopeLengthAt + 4;
    const envelopeEnd = envelopeAt + Math.max(envelopeLength, 0);
    if (envelopeEnd + 4 > chunk.length) throw malformed(r, 'a field runs past the chunk');
    const contentLength = chunk.readInt32BE(envelopeEnd);
    const contentAt = envelopeEnd + 4;
    p = contentAt + Math.max(contentLength, 0);
    if (p > chunk.length) throw malformed(r, 'a field runs past the chunk');
    hashAts.push(hashLength === HASH_SIZE ? hashAt : -1);
    leafIndexes.push(leafIndex);

    let contentHexAt = -1;
    if (envelopeLength >= 0) {
      bytesHashed += envelopeLength;
      const saved = chunk[envelopeAt - 1]!;
      chunk[envelopeAt - 1] = 0x00;
      // Digests as latin1 strings: far cheaper per call than a Buffer each.
      const digest = hash(
        'sha256',
        new Uint8Array(arena, base + envelopeAt - 1, envelopeLength + 1),
        'latin1',
      );
      chunk[envelopeAt - 1] = saved;
      let intact = hashLength === HASH_SIZE;
      for (let i = 0; intact && i < HASH_SIZE; i++) intact = digest.charCodeAt(i) === chunk[hashAt + i];
      if (!intact) {
        failures.push({
          problem: 'envelope_altered',
          leafIndex,
          message: `entry ${leafIndex}: the stored envelope does not hash to the entry's leaf hash (the envelope was changed)`,
        });
      } else {
        let own = envelopeLength >= tailLength;
        for (let i = 0, at = envelopeEnd - tailLength; own && i < tailLength; i++)
          own = chunk[at + i] === tail[i];
        if (!own) {
          failures.push({
            problem: 'envelope_foreign',
            leafIndex,
            message: `entry ${leafIndex}: the envelope belongs to another workspace`,
          });
        }
      }
      const marker = contentMarkerAt(chunk, envelopeAt + BLOB_VALUE_OFFSET, envelopeEnd);
      if (marker < 0 || marker + CONTENT_MARKER.length + 64 > envelopeEnd) {
        failures.push({
          problem: 'envelope_malformed',
          leafIndex,
          message: `entry ${leafIndex}: the envelope records no contentSha256`,
        });
      } else {
        contentHexAt = marker + CONTENT_MARKER.length;
      }
      if ((erasedBits & bits.blob) === 0 && chunk[envelopeAt + BLOB_VALUE_OFFSET] === OPEN_BRACE) {
        const blobMarker = chunk.indexOf(BLOB_SHA_MARKER, envelopeAt + BLOB_VALUE_OFFSET);
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
        // The envelope records the hex digest: compare as text, no decoding.
        const hex = hash('sha256', new Uint8Array(arena, base + contentAt, contentLength), 'hex');
        let intact = true;
        for (let i = 0; intact && i < 64; i++) intact = hex.charCodeAt(i) === chunk[contentHexAt + i];
        if (!intact) {
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

  const count = hashAts.length;
  // The stored leaf hashes, in chunk order: the tree is built from what the ledger committed to
  // (an envelope changed alone fails above; changed with its leaf hash, the tree catches it).
  // A leaf hash of the wrong length failed above and enters the tree as zeros.
  const hashes = Buffer.alloc(count * HASH_SIZE);
  for (let i = 0; i < count; i++) {
    const at = hashAts[i]!;
    if (at >= 0) for (let j = 0, to = i * HASH_SIZE; j < HASH_SIZE; j++) hashes[to + j] = chunk[at + j]!;
  }
  const indexes = contiguous ? null : Float64Array.from(leafIndexes);
  const perfect = count > 1 && (count & (count - 1)) === 0 && first % count === 0;
  const subtreeRoot = contiguous && perfect ? subtreeRootOf(hashes, count) : null;
  return { count, first, indexes, hashes, subtreeRoot, failures, blobs, erased, bytesHashed };
}

/** Hex MTH of a perfect subtree given its leaf hashes, folded level by level. */
function subtreeRootOf(leafHashes: Buffer, count: number): string {
  const pair = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
  pair[0] = 0x01;
  // Folded in place: node i of a level overwrites what its children (2i, 2i+1) have been read from.
  const level = Buffer.from(leafHashes);
  for (let n = count; n > 1; n /= 2) {
    for (let i = 0; i < n / 2; i++) {
      const from = 2 * i * HASH_SIZE;
      for (let j = 0; j < 2 * HASH_SIZE; j++) pair[1 + j] = level[from + j]!;
      const digest = hash('sha256', pair, 'latin1');
      for (let j = 0, to = i * HASH_SIZE; j < HASH_SIZE; j++) level[to + j] = digest.charCodeAt(j);
    }
  }
  return level.toString('hex', 0, HASH_SIZE);
}
