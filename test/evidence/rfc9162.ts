/**
 * An independent implementation of RFC 9162 §2.1 for checking what the API serves: written from
 * the RFC's text with nothing shared with src/domains/evidence/core (plain recursion and
 * createHash, no scratch buffers, no frontier).
 */
import { createHash } from 'node:crypto';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

export const leafOf = (data: Uint8Array | string): Buffer =>
  sha256(Buffer.from([0]), typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
const node = (left: Uint8Array, right: Uint8Array): Buffer => sha256(Buffer.from([1]), left, right);

/** MTH(D[n]) of §2.1.1, by its recursive definition, over leaf hashes. */
export function merkleRoot(leafHashes: Buffer[]): Buffer {
  const n = leafHashes.length;
  if (n === 0) return sha256();
  if (n === 1) return leafHashes[0]!;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return node(merkleRoot(leafHashes.slice(0, k)), merkleRoot(leafHashes.slice(k)));
}

const odd = (x: number) => x % 2 === 1;

/** §2.1.3.2: verifying an inclusion proof. */
export function checkInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Buffer,
  path: Buffer[],
  root: Buffer,
): boolean {
  if (leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = node(p, r);
      if (!odd(fn)) {
        do {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      r = node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** §2.1.4.2: verifying a consistency proof (0 < first < second). */
export function checkConsistency(
  firstSize: number,
  secondSize: number,
  firstHash: Buffer,
  secondHash: Buffer,
  proof: Buffer[],
): boolean {
  if (proof.length === 0) return false;
  const path = [...proof];
  if ((firstSize & (firstSize - 1)) === 0) path.unshift(firstHash);
  let fn = firstSize - 1;
  let sn = secondSize - 1;
  if (odd(fn)) {
    while (odd(fn)) {
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      if (!odd(fn)) {
        do {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      sr = node(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0;
}
