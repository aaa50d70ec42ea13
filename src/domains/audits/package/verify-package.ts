/**
 * Offline verification of an auditor package (`assay verify FILE.zip`): needs nothing but the
 * zip. It checks, and names the first file that fails:
 *
 * 1. the manifest's summary is signed by the ledger key it names, that key is in
 *    ledger/public-keys.json and its id is the hash of the key (confirm the id with the client);
 * 2. the file listing in the manifest hashes to the signed listing digest;
 * 3. the checkpoint named in the summary is in ledger/checkpoints.json, signed by a key of the
 *    keyring within its lifetime, with the summary's root;
 * 4. every file in the zip is listed in the manifest with its SHA-256 and size, and every listed
 *    file is in the zip;
 * 5. every evidence envelope hashes to the leaf of its inclusion proof, and every proof leads to
 *    the signed checkpoint's root (RFC 9162); every payload hashes to its envelope's
 *    contentSha256; every blob hashes to its name.
 *
 * The zip is read entry by entry as a stream; what is kept in memory is the manifest's file list
 * and one leaf hash per evidence item.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { AssayError } from '../../../errors.ts';
import { canonicalize } from '../../evidence/core/canonical-json.ts';
import {
  type Keyring,
  keyIdFromPublicKey,
  verifyCheckpoint,
  verifyCheckpointWithKeyring,
} from '../../evidence/core/checkpoint.ts';
import { leafHash, verifyInclusion } from '../../evidence/core/merkle.ts';
import {
  blobPathPattern,
  evidencePathPattern,
  manifestPath,
  type PackageManifest,
  type PackageProof,
  type PackageSummary,
  packageFormat,
  proofPathPattern,
  signingContext,
} from './package-format.ts';

export interface PackageVerification {
  ok: boolean;
  /** Files whose hash was checked (the manifest included). */
  filesChecked: number;
  evidence: number;
  proofs: number;
  blobs: number;
  summary: PackageSummary | null;
  /** The ledger key that signed the package: confirm it with the client out of band. */
  keyId: string | null;
  failure: { file: string; reason: string } | null;
}

class Failure extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** Files read whole to be parsed (everything but blobs); bigger ones are a failure of their own. */
const maxParsedBytes = 64 * 1024 * 1024;

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true },
      (error, zip) =>
        error
          ? reject(new AssayError('package_unreadable', `${path} is not a readable zip: ${error.message}`))
          : resolve(zip),
    ),
  );
}

/** Calls `visit` for each entry in order, one at a time. */
async function eachEntry(zip: ZipFile, visit: (entry: Entry) => Promise<void>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: Entry) => {
      visit(entry).then(
        () => zip.readEntry(),
        (error) => reject(error),
      );
    });
    zip.on('end', () => resolve());
    zip.on('error', (error: Error) =>
      reject(error instanceof Failure ? error : new Failure('(zip)', `unreadable: ${error.message}`)),
    );
    zip.readEntry();
  });
}

function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))),
  );
}

/** Hashes an entry as it streams; keeps the bytes when `keep` (for files that are parsed). */
async function readEntry(
  zip: ZipFile,
  entry: Entry,
  keep: boolean,
): Promise<{ sha256: string; size: number; bytes: Buffer | null }> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const stream = await openEntry(zip, entry);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      if (keep) {
        if (size > maxParsedBytes) throw new Error(`larger than ${maxParsedBytes} bytes`);
        chunks.push(chunk);
      }
    }
  } catch (error) {
    throw new Failure(entry.fileName, `cannot be read: ${(error as Error).message}`);
  }
  return { sha256: hash.digest('hex'), size, bytes: keep ? Buffer.concat(chunks) : null };
}

function parseJson<T>(file: string, bytes: Buffer): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (error) {
    throw new Failure(file, `is not valid JSON (${(error as Error).message})`);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

function checkManifestShape(manifest: PackageManifest): void {
  const fail = (reason: string): never => {
    throw new Failure(manifestPath, reason);
  };
  if (manifest === null || typeof manifest !== 'object') fail('is not a manifest object');
  const { summary, signature, files } = manifest;
  if (!summary || summary.format !== packageFormat) fail(`is not an ${packageFormat} manifest`);
  if (signature?.algorithm !== 'Ed25519' || typeof signature.value !== 'string')
    fail('has no Ed25519 signature');
  if (!Array.isArray(files)) fail('lists no files');
  for (const [i, f] of files.entries()) {
    if (
      !f ||
      typeof f.path !== 'string' ||
      typeof f.sha256 !== 'string' ||
      !HEX64.test(f.sha256) ||
      !Number.isSafeInteger(f.size)
    ) {
      fail(`file entry ${i} is malformed`);
    }
  }
}

export async function verifyPackage(path: string): Promise<PackageVerification> {
  const result: PackageVerification = {
    ok: false,
    filesChecked: 0,
    evidence: 0,
    proofs: 0,
    blobs: 0,
    summary: null,
    keyId: null,
    failure: null,
  };
  const first = await openZip(path);
  const second = await openZip(path).catch((error) => {
    first.close();
    throw error;
  });
  try {
    await verifyInto(first, second, result);
    result.ok = true;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    result.failure = { file: error.file, reason: error.reason };
  } finally {
    first.close();
    second.close();
  }
  return result;
}

async function verifyInto(first: ZipFile, second: ZipFile, result: PackageVerification): Promise<void> {
  // Pass 1: find the manifest and the ledger files the rest is checked against.
  const special = new Map<string, Entry>();
  const wanted = new Set([manifestPath, 'ledger/public-keys.json', 'ledger/checkpoints.json']);
  const seenNames = new Set<string>();
  let duplicate: string | null = null;
  await eachEntry(first, async (entry) => {
    if (wanted.has(entry.fileName)) {
      if (special.has(entry.fileName)) duplicate ??= entry.fileName;
      special.set(entry.fileName, entry);
    }
  });
  if (duplicate) throw new Failure(duplicate, 'appears twice in the zip');
  const manifestEntry = special.get(manifestPath);
  if (!manifestEntry) throw new Failure(manifestPath, 'is missing: this is not an Assay auditor package');
  const manifestRead = await readEntry(first, manifestEntry, true);
  result.filesChecked += 1;
  const manifest = parseJson<PackageManifest>(manifestPath, manifestRead.bytes!);
  checkManifestShape(manifest);
  const { summary, signature } = manifest;
  result.summary = summary;
  result.keyId = signature.keyId;

  const listed = new Map<string, { sha256: string; size: number; seen: boolean }>();
  const listing = createHash('sha256');
  for (const f of manifest.files) {
    if (listed.has(f.path) || f.path === manifestPath) {
      throw new Failure(manifestPath, `lists ${f.path} twice`);
    }
    listed.set(f.path, { sha256: f.sha256, size: f.size, seen: false });
    listing.update(`${f.sha256}  ${f.path}\n`);
  }
  if (
    summary.files?.count !== manifest.files.length ||
    summary.files.listingSha256 !== listing.digest('hex')
  ) {
    throw new Failure(manifestPath, 'its file list does not match the signed summary');
  }

  const readListed = async (name: string, keep: boolean) => {
    const entry = special.get(name);
    const expected = listed.get(name);
    if (!entry) throw new Failure(name, 'is missing from the zip');
    if (!expected) throw new Failure(name, 'is not listed in the manifest');
    const read = await readEntry(first, entry, keep);
    if (read.sha256 !== expected.sha256 || read.size !== expected.size) {
      throw new Failure(name, 'its SHA-256 or size differs from the manifest');
    }
    return read;
  };

  // The keyring, and the package's own signature.
  const keysRead = await readListed('ledger/public-keys.json', true);
  const keys = parseJson<
    { keyId: string; publicKeyPem: string; createdAt: string; retiredAt: string | null }[]
  >('ledger/public-keys.json', keysRead.bytes!);
  if (!Array.isArray(keys)) throw new Failure('ledger/public-keys.json', 'is not a list of keys');
  const keyring: Keyring = {
    keys: keys.map((k) => ({
      keyId: k.keyId,
      publicKeyPem: k.publicKeyPem,
      createdAt: k.createdAt,
      ...(k.retiredAt ? { retiredAt: k.retiredAt } : {}),
    })),
  };
  const signer = keys.find((k) => k.keyId === signature.keyId);
  let signerId: string | null = null;
  try {
    signerId = signer ? keyIdFromPublicKey(signer.publicKeyPem) : null;
  } catch {
    signerId = null;
  }
  if (!signer || signerId !== signature.keyId) {
    throw new Failure(
      manifestPath,
      `is signed by key ${signature.keyId}, which ledger/public-keys.json does not hold`,
    );
  }
  if (!verifyCheckpoint(`${signingContext}${canonicalize(summary)}`, signature.value, signer.publicKeyPem)) {
    throw new Failure(manifestPath, `its signature by key ${signature.keyId} does not verify`);
  }

  // The checkpoint the proofs lead to.
  const checkpointsRead = await readListed('ledger/checkpoints.json', true);
  const checkpoints = parseJson<{ treeSize: number; body: string; signature: string }[]>(
    'ledger/checkpoints.json',
    checkpointsRead.bytes!,
  );
  const used = Array.isArray(checkpoints)
    ? checkpoints.find((c) => c && c.treeSize === summary.checkpoint.treeSize)
    : undefined;
  if (!used) {
    throw new Failure('ledger/checkpoints.json', `has no checkpoint of size ${summary.checkpoint.treeSize}`);
  }
  const checked = verifyCheckpointWithKeyring(used.body, used.signature, keyring);
  if (!checked.ok) throw new Failure('ledger/checkpoints.json', checked.message);
  if (checked.checkpoint.rootHash !== summary.checkpoint.rootHash) {
    throw new Failure('ledger/checkpoints.json', 'the signed checkpoint has another root than the summary');
  }
  const root = Buffer.from(checked.checkpoint.rootHash, 'hex');
  const treeSize = checked.checkpoint.treeSize;

  // Pass 2: every entry, in order.
  const proven = new Map<string, string>();
  const pendingEnvelopes = new Map<string, { path: string; leafHash: string }[]>();
  const contentHashes = new Map<string, string>();
  const pendingContents = new Map<string, { path: string; sha256: string }[]>();
  await eachEntry(second, async (entry) => {
    const name = entry.fileName;
    if (name.endsWith('/')) return;
    if (seenNames.has(name)) throw new Failure(name, 'appears twice in the zip');
    seenNames.add(name);
    if (name === manifestPath) return;
    const expected = listed.get(name);
    if (!expected) throw new Failure(name, 'is not listed in the manifest');
    expected.seen = true;
    const evidence = evidencePathPattern.exec(name);
    const proofMatch = proofPathPattern.exec(name);
    const blob = blobPathPattern.exec(name);
    const read = await readEntry(second, entry, !blob);
    result.filesChecked += 1;
    if (read.sha256 !== expected.sha256 || read.size !== expected.size) {
      throw new Failure(name, 'its SHA-256 or size differs from the manifest');
    }
    if (blob) {
      if (read.sha256 !== blob[1]) throw new Failure(name, 'its content does not hash to its name');
      result.blobs += 1;
      return;
    }
    if (evidence && !evidence[3]) {
      const id = evidence[2]!;
      const envelope = parseJson<{ id?: unknown; contentSha256?: unknown }>(name, read.bytes!);
      if (envelope.id !== id)
        throw new Failure(name, `is the envelope of ${String(envelope.id)}, not of ${id}`);
      if (typeof envelope.contentSha256 === 'string') {
        contentHashes.set(id, envelope.contentSha256);
        for (const c of pendingContents.get(id) ?? []) {
          if (c.sha256 !== envelope.contentSha256)
            throw new Failure(c.path, "does not hash to its envelope's contentSha256");
        }
        pendingContents.delete(id);
      }
      const leaf = leafHash(read.bytes!).toString('hex');
      const provenLeaf = proven.get(id);
      if (provenLeaf !== undefined) {
        if (provenLeaf !== leaf)
          throw new Failure(name, 'does not hash to the leaf its inclusion proof proves');
      } else {
        pendingEnvelopes.set(id, [...(pendingEnvelopes.get(id) ?? []), { path: name, leafHash: leaf }]);
      }
      result.evidence += 1;
      return;
    }
    if (evidence?.[3]) {
      const id = evidence[2]!;
      const wantedHash = contentHashes.get(id);
      if (wantedHash === undefined) {
        pendingContents.set(id, [...(pendingContents.get(id) ?? []), { path: name, sha256: read.sha256 }]);
      } else if (wantedHash !== read.sha256) {
        throw new Failure(name, "does not hash to its envelope's contentSha256");
      }
      return;
    }
    if (proofMatch) {
      const id = proofMatch[1]!;
      const proof = parseJson<PackageProof>(name, read.bytes!);
      const hashes = Array.isArray(proof.proof) ? proof.proof : [];
      if (
        proof.evidenceId !== id ||
        proof.treeSize !== treeSize ||
        typeof proof.leafHash !== 'string' ||
        !HEX64.test(proof.leafHash) ||
        !hashes.every((h) => typeof h === 'string' && HEX64.test(h)) ||
        !verifyInclusion(
          proof.leafIndex,
          treeSize,
          Buffer.from(proof.leafHash, 'hex'),
          hashes.map((h) => Buffer.from(h, 'hex')),
          root,
        )
      ) {
        throw new Failure(name, `does not prove ${id} is in the signed checkpoint of ${treeSize} entries`);
      }
      proven.set(id, proof.leafHash);
      for (const e of pendingEnvelopes.get(id) ?? []) {
        if (e.leafHash !== proof.leafHash) {
          throw new Failure(e.path, 'does not hash to the leaf its inclusion proof proves');
        }
      }
      pendingEnvelopes.delete(id);
      result.proofs += 1;
    }
  });
  for (const [name, file] of listed) {
    if (!file.seen && name !== 'ledger/public-keys.json' && name !== 'ledger/checkpoints.json') {
      throw new Failure(name, 'is listed in the manifest but missing from the zip');
    }
  }
  for (const envelopes of pendingEnvelopes.values()) {
    throw new Failure(envelopes[0]!.path, 'has no inclusion proof in ledger/proofs/');
  }
  for (const contents of pendingContents.values()) {
    throw new Failure(contents[0]!.path, 'has no envelope to check it against');
  }
}
