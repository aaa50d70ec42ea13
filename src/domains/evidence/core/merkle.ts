/**
 * RFC 9162 §2.1 Merkle tree for the evidence ledger (one tree per workspace).
 *
 *   leaf hash   = SHA-256(0x00 ‖ leaf bytes)        leaf bytes = canonical envelope JSON
 *   node hash   = SHA-256(0x01 ‖ left ‖ right)
 *   empty tree  = SHA-256("")
 *   MTH(D[n])   = node(MTH(D[0:k]), MTH(D[k:n])), k = largest power of two < n
 *
 * Hashing paths are kept allocation-light: a ledger of a million items is re-verified end to end,
 * so node hashes are computed into one reused 65-byte buffer and written straight into
 * preallocated storage instead of allocating a Buffer per node.
 *
 * Tree sizes and indices are JS numbers (exact up to 2^53); bit arithmetic is done with
 * division so that sizes above 2^31 stay correct.
 */
import * as crypto from 'node:crypto';
import { AssayError } from '../../../errors.ts';

export const HASH_SIZE = 32;

type OneShotHash = (algorithm: string, data: crypto.BinaryLike, outputEncoding: 'latin1') => string;
// crypto.hash (Node ≥ 20.12) is a one-shot digest about 3× cheaper than createHash per call.
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

const LEAF_PREFIX = Buffer.from([0x00]);
const EMPTY_ROOT = crypto.createHash('sha256').digest();

/** Scratch buffer for node hashing: [0x01 | left (32) | right (32)]. Single-threaded, never escapes. */
const scratch = Buffer.alloc(1 + 2 * HASH_SIZE);
scratch[0] = 0x01;
/** Scratch for a leaf hash on its way into a builder (append copies it). */
const leafScratch = Buffer.alloc(HASH_SIZE);

/** Hashes the scratch buffer and writes the 32-byte digest to `out[offset..]`. */
function hashScratchInto(out: Buffer, offset: number): void {
  if (oneShot) {
    out.write(oneShot('sha256', scratch, 'latin1'), offset, HASH_SIZE, 'latin1');
  } else {
    crypto.createHash('sha256').update(scratch).digest().copy(out, offset);
  }
}

/** SHA-256(0x00 ‖ data): the RFC 9162 leaf hash. Strings are hashed as their UTF-8 bytes. */
export function leafHash(data: Uint8Array | string): Buffer {
  const out = Buffer.allocUnsafe(HASH_SIZE);
  leafHashInto(data, out, 0);
  return out;
}

function leafHashInto(data: Uint8Array | string, out: Buffer, offset: number): void {
  if (typeof data === 'string' && oneShot) {
    // A NUL character encodes to the single 0x00 byte, so this is SHA-256(0x00 ‖ UTF-8(data)).
    out.write(oneShot('sha256', `\0${data}`, 'latin1'), offset, HASH_SIZE, 'latin1');
    return;
  }
  const hash = crypto.createHash('sha256').update(LEAF_PREFIX);
  hash
    .update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    .digest()
    .copy(out, offset);
}

/** SHA-256(0x01 ‖ left ‖ right): the RFC 9162 interior node hash. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  assertHash(left, 'left');
  assertHash(right, 'right');
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_SIZE);
  const out = Buffer.allocUnsafe(HASH_SIZE);
  hashScratchInto(out, 0);
  return out;
}

/** MTH of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return Buffer.from(EMPTY_ROOT);
}

function assertHash(hash: Uint8Array, what: string): void {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
    throw new AssayError('validation_failed', `${what} must be a ${HASH_SIZE}-byte SHA-256 hash`);
  }
}

function assertSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AssayError('validation_failed', `${what} must be a non-negative safe integer, got ${value}`);
  }
}

/** Largest power of two strictly less than n (n ≥ 2): the RFC's split point k. */
export function splitPoint(n: number): number {
  if (n <= 0x80000000) return 2 ** (31 - Math.clz32(n - 1));
  let k = 2 ** 31;
  while (k * 2 < n) k *= 2;
  return k;
}

const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

// ---------------------------------------------------------------------------------------------
// Incremental builder (compact range)

/** Persistable state of a `MerkleTreeBuilder`: tree size and the perfect subtree roots, left to right. */
export interface MerkleFrontier {
  size: number;
  /** Hex roots of the perfect subtrees that make up the tree, largest (leftmost) first. */
  hashes: string[];
}

// Enough slots for any tree of up to 2^53 leaves.
const MAX_FRONTIER = 54;

/**
 * Appends leaf hashes one at a time keeping only O(log n) state: the roots of the perfect
 * subtrees the tree decomposes into (one per set bit of `size`). Appending a leaf merges the
 * trailing equal-sized subtrees, as in binary addition. The frontier can be saved and restored
 * so a workspace's ledger resumes appending without rereading its leaves.
 */
export class MerkleTreeBuilder {
  #size = 0;
  #count = 0;
  readonly #stack = Buffer.alloc(MAX_FRONTIER * HASH_SIZE);

  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash (not leaf data: pass `leafHash(bytes)`). */
  append(hash: Uint8Array): void {
    assertHash(hash, 'leaf hash');
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new AssayError('internal', 'Merkle tree is full');
    const stack = this.#stack;
    let count = this.#count;
    let carry = this.#size;
    if (!isOdd(carry)) {
      stack.set(hash, count * HASH_SIZE);
    } else {
      // Merge the new leaf with the trailing perfect subtrees of equal size.
      scratch.set(hash, 1 + HASH_SIZE);
      for (;;) {
        count--;
        stack.copy(scratch, 1, count * HASH_SIZE, (count + 1) * HASH_SIZE);
        carry = half(carry);
        if (!isOdd(carry)) break;
        hashScratchInto(scratch, 1 + HASH_SIZE);
      }
      hashScratchInto(stack, count * HASH_SIZE);
    }
    this.#count = count + 1;
    this.#size++;
  }

  /**
   * Appends a whole perfect subtree of `leaves` (a power of two) given its root, as if its
   * leaves were appended one by one; the tree's size must be a multiple of `leaves`.
   */
  appendSubtree(root: Uint8Array, leaves: number): void {
    assertHash(root, 'subtree root');
    if (leaves < 1 || (leaves & (leaves - 1)) !== 0 || this.#size % leaves !== 0) {
      throw new AssayError('internal', `cannot append a subtree of ${leaves} leaves at size ${this.#size}`);
    }
    if (this.#size + leaves > Number.MAX_SAFE_INTEGER) {
      throw new AssayError('internal', 'Merkle tree is full');
    }
    // In units of `leaves`, this is a leaf append: the same merge of equal trailing subtrees.
    const stack = this.#stack;
    let count = this.#count;
    let carry = this.#size / leaves;
    if (!isOdd(carry)) {
      stack.set(root, count * HASH_SIZE);
    } else {
      scratch.set(root, 1 + HASH_SIZE);
      for (;;) {
        count--;
        stack.copy(scratch, 1, count * HASH_SIZE, (count + 1) * HASH_SIZE);
        carry = half(carry);
        if (!isOdd(carry)) break;
        hashScratchInto(scratch, 1 + HASH_SIZE);
      }
      hashScratchInto(stack, count * HASH_SIZE);
    }
    this.#count = count + 1;
    this.#size += leaves;
  }

  /** Appends the leaf hash of `data` (canonical envelope bytes or text). */
  appendLeafData(data: Uint8Array | string): void {
    leafHashInto(data, leafScratch, 0);
    this.append(leafScratch);
  }

  /** MTH of the leaves appended so far. */
  root(): Buffer {
    const count = this.#count;
    if (count === 0) return emptyRoot();
    const out = Buffer.allocUnsafe(HASH_SIZE);
    this.#stack.copy(out, 0, (count - 1) * HASH_SIZE, count * HASH_SIZE);
    // Fold right to left: the smaller, later subtrees hang under the larger ones' right side.
    for (let i = count - 2; i >= 0; i--) {
      this.#stack.copy(scratch, 1, i * HASH_SIZE, (i + 1) * HASH_SIZE);
      out.copy(scratch, 1 + HASH_SIZE);
      hashScratchInto(out, 0);
    }
    return out;
  }

  frontier(): MerkleFrontier {
    const hashes: string[] = [];
    for (let i = 0; i < this.#count; i++) {
      hashes.push(this.#stack.toString('hex', i * HASH_SIZE, (i + 1) * HASH_SIZE));
    }
    return { size: this.#size, hashes };
  }

  static fromFrontier(frontier: MerkleFrontier): MerkleTreeBuilder {
    const { size, hashes } = frontier;
    assertSize(size, 'frontier size');
    if (!Array.isArray(hashes) || hashes.length !== popCount(size)) {
      throw new AssayError(
        'validation_failed',
        `A frontier for ${size} leaves must hold ${popCount(size)} subtree hashes, got ${Array.isArray(hashes) ? hashes.length : typeof hashes}`,
      );
    }
    const builder = new MerkleTreeBuilder();
    hashes.forEach((hex, i) => {
      if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) {
        throw new AssayError('validation_failed', `frontier hash ${i} is not 64 lowercase hex characters`);
      }
      builder.#stack.write(hex, i * HASH_SIZE, HASH_SIZE, 'hex');
    });
    builder.#size = size;
    builder.#count = hashes.length;
    return builder;
  }
}

function popCount(n: number): number {
  let count = 0;
  for (let x = n; x > 0; x = half(x)) if (isOdd(x)) count++;
  return count;
}

/** MTH over leaf hashes, streaming (O(log n) memory, n - 1 node hashes). */
export function rootFromLeafHashes(hashes: Iterable<Uint8Array>): Buffer {
  const builder = new MerkleTreeBuilder();
  for (const hash of hashes) builder.append(hash);
  return builder.root();
}

// ---------------------------------------------------------------------------------------------
// Proofs

/** Leaf hashes by index: an array, or a function for callers that keep them elsewhere. */
export type LeafHashSource = readonly Uint8Array[] | ((index: number) => Uint8Array);

/** MTH(D[start:end]) for ranges that arise in RFC 9162's recursions. */
type SubtreeHasher = (start: number, end: number) => Buffer;

function leafReader(source: LeafHashSource): (index: number) => Uint8Array {
  if (typeof source === 'function') return source;
  return (index) => {
    const hash = source[index];
    if (hash === undefined) throw new AssayError('validation_failed', `No leaf hash at index ${index}`);
    return hash;
  };
}

/** Subtree hashes computed from the leaves each time (O(end - start) hashes, O(log) memory). */
function hasherFromLeaves(source: LeafHashSource): SubtreeHasher {
  const read = leafReader(source);
  return (start, end) => {
    const builder = new MerkleTreeBuilder();
    for (let i = start; i < end; i++) builder.append(read(i));
    return builder.root();
  };
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1, siblings ordered from the leaf upwards. */
function auditPath(leafIndex: number, treeSize: number, subtree: SubtreeHasher): Buffer[] {
  const topDown: Buffer[] = [];
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (leafIndex < start + k) {
      topDown.push(subtree(start + k, end));
      end = start + k;
    } else {
      topDown.push(subtree(start, start + k));
      start += k;
    }
  }
  return topDown.reverse();
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1, in the RFC's order. */
function consistencyPath(m: number, n: number, subtree: SubtreeHasher): Buffer[] {
  const topDown: Buffer[] = [];
  let start = 0;
  let end = n;
  let remaining = m;
  let startFromOldRoot = true;
  while (remaining !== end - start) {
    const k = splitPoint(end - start);
    if (remaining <= k) {
      topDown.push(subtree(start + k, end));
      end = start + k;
    } else {
      topDown.push(subtree(start, start + k));
      start += k;
      remaining -= k;
      startFromOldRoot = false;
    }
  }
  // SUBPROOF(m, D[m], b): nothing when the old tree's root is known to the verifier (b = true).
  if (!startFromOldRoot) topDown.push(subtree(start, end));
  return topDown.reverse();
}

function checkInclusionArgs(leafIndex: number, treeSize: number): void {
  assertSize(leafIndex, 'leaf index');
  assertSize(treeSize, 'tree size');
  if (leafIndex >= treeSize) {
    throw new AssayError('validation_failed', `Leaf index ${leafIndex} is outside a tree of ${treeSize}`);
  }
}

function checkConsistencyArgs(m: number, n: number): void {
  assertSize(m, 'old tree size');
  assertSize(n, 'new tree size');
  if (m > n) throw new AssayError('validation_failed', `Old tree size ${m} exceeds new tree size ${n}`);
}

/**
 * Inclusion proof (audit path) for leaf `leafIndex` in the tree of the first `treeSize` leaves.
 * Computes the sibling subtrees from the leaves: O(treeSize) hashes. For many proofs over one
 * tree, build a `MerkleTree` once instead.
 */
export function inclusionProof(leafIndex: number, treeSize: number, leaves: LeafHashSource): Buffer[] {
  checkInclusionArgs(leafIndex, treeSize);
  return auditPath(leafIndex, treeSize, hasherFromLeaves(leaves));
}

/** Consistency proof that the tree of size `m` is a prefix of the tree of size `n` (0 ≤ m ≤ n). */
export function consistencyProof(m: number, n: number, leaves: LeafHashSource): Buffer[] {
  checkConsistencyArgs(m, n);
  if (m === 0 || m === n) return [];
  return consistencyPath(m, n, hasherFromLeaves(leaves));
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Writes node(left, right) into `out` (which may alias either input). */
function nodeInto(left: Uint8Array, right: Uint8Array, out: Buffer): void {
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_SIZE);
  hashScratchInto(out, 0);
}

function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/**
 * RFC 9162 §2.1.3.2: verifies that `leafHash` is leaf `leafIndex` of the tree of `treeSize`
 * whose root is `root`. Returns false (never throws) for any malformed input.
 */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isSize(leafIndex) || !isSize(treeSize) || leafIndex >= treeSize) return false;
  if (!isHash(leafHash) || !isHash(root) || !Array.isArray(proof)) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  const r = Buffer.from(leafHash);
  for (const p of proof) {
    if (!isHash(p) || sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      nodeInto(p, r, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      nodeInto(r, p, r);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalHashes(r, root);
}

/**
 * RFC 9162 §2.1.4.2: verifies that the tree of size `m` with root `oldRoot` is a prefix of the
 * tree of size `n` with root `newRoot`. Equal sizes need an empty proof and equal roots; an
 * empty old tree needs an empty proof and the empty-tree root. Returns false on malformed input.
 */
export function verifyConsistency(
  m: number,
  n: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  if (!isSize(m) || !isSize(n) || m > n) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !Array.isArray(proof)) return false;
  if (!proof.every(isHash)) return false;
  if (m === 0) return proof.length === 0 && equalHashes(oldRoot, EMPTY_ROOT);
  if (m === n) return proof.length === 0 && equalHashes(oldRoot, newRoot);
  if (proof.length === 0) return false;
  // A power-of-two old tree is itself a subtree of the new one; its root starts the walk.
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  const fr = Buffer.from(path[0]!);
  const sr = Buffer.from(path[0]!);
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      nodeInto(c, fr, fr);
      nodeInto(c, sr, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      nodeInto(sr, c, sr);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalHashes(fr, oldRoot) && equalHashes(sr, newRoot);
}

function isPowerOfTwo(x: number): boolean {
  let v = x;
  while (v > 1) {
    if (isOdd(v)) return false;
    v = half(v);
  }
  return v === 1;
}

// ---------------------------------------------------------------------------------------------
// Whole-tree index for serving many proofs

/**
 * All levels of a tree held in contiguous buffers (about 2 × 32 bytes per leaf), built in
 * n - 1 node hashes. Level L node j is MTH of leaves [j·2^L, min((j+1)·2^L, size)): pairing
 * neighbours and carrying an odd last node up unchanged yields exactly RFC 9162's left-balanced
 * tree. Proofs then cost O(log n) lookups, so exporting proofs for every evidence item of an
 * audit period stays linear. Historical sizes (< size) are supported for proofs and roots.
 */
export class MerkleTree {
  readonly size: number;
  readonly #levels: Buffer[];

  private constructor(levels: Buffer[], size: number) {
    this.#levels = levels;
    this.size = size;
  }

  /** From leaf hashes: an array of 32-byte hashes or one buffer of concatenated hashes. */
  static fromLeafHashes(leaves: readonly Uint8Array[] | Uint8Array): MerkleTree {
    let level: Buffer;
    if (leaves instanceof Uint8Array) {
      if (leaves.length % HASH_SIZE !== 0) {
        throw new AssayError(
          'validation_failed',
          `Concatenated leaf hashes must be a multiple of ${HASH_SIZE} bytes`,
        );
      }
      level = Buffer.from(leaves);
    } else {
      level = Buffer.allocUnsafe(leaves.length * HASH_SIZE);
      leaves.forEach((hash, i) => {
        assertHash(hash, `leaf hash ${i}`);
        level.set(hash, i * HASH_SIZE);
      });
    }
    const size = level.length / HASH_SIZE;
    const levels = [level];
    let width = size;
    while (width > 1) {
      const nextWidth = Math.ceil(width / 2);
      const next = Buffer.allocUnsafe(nextWidth * HASH_SIZE);
      const pairs = Math.floor(width / 2);
      for (let j = 0; j < pairs; j++) {
        level.copy(scratch, 1, 2 * j * HASH_SIZE, (2 * j + 2) * HASH_SIZE);
        hashScratchInto(next, j * HASH_SIZE);
      }
      if (width % 2 === 1) level.copy(next, pairs * HASH_SIZE, (width - 1) * HASH_SIZE, width * HASH_SIZE);
      levels.push(next);
      level = next;
      width = nextWidth;
    }
    return new MerkleTree(levels, size);
  }

  leafHash(index: number): Buffer {
    checkInclusionArgs(index, this.size);
    return this.#node(0, index);
  }

  /** Root of the tree of the first `treeSize` leaves (default: all). */
  root(treeSize: number = this.size): Buffer {
    this.#checkSize(treeSize);
    return treeSize === 0 ? emptyRoot() : this.#subtree(0, treeSize);
  }

  inclusionProof(leafIndex: number, treeSize: number = this.size): Buffer[] {
    this.#checkSize(treeSize);
    checkInclusionArgs(leafIndex, treeSize);
    return auditPath(leafIndex, treeSize, (a, b) => this.#subtree(a, b));
  }

  consistencyProof(m: number, n: number = this.size): Buffer[] {
    this.#checkSize(n);
    checkConsistencyArgs(m, n);
    if (m === 0 || m === n) return [];
    return consistencyPath(m, n, (a, b) => this.#subtree(a, b));
  }

  #checkSize(treeSize: number): void {
    assertSize(treeSize, 'tree size');
    if (treeSize > this.size) {
      throw new AssayError('validation_failed', `Tree size ${treeSize} exceeds the ${this.size} leaves held`);
    }
  }

  #node(level: number, index: number): Buffer {
    const buf = this.#levels[level]!;
    return Buffer.from(buf.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE));
  }

  /** MTH(D[start:end]); a stored node when the range is one, else split per the RFC. */
  #subtree(start: number, end: number): Buffer {
    const width = end - start;
    let level = 0;
    while (2 ** level < width) level++;
    const span = 2 ** level;
    // A stored node covers [j·span, min((j+1)·span, size)); usable if it matches the range.
    if (start % span === 0 && (width === span || end === this.size)) return this.#node(level, start / span);
    const k = splitPoint(width);
    return nodeHash(this.#subtree(start, start + k), this.#subtree(start + k, end));
  }
}
