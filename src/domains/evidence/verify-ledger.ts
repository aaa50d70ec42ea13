/**
 * Re-verifies a workspace's whole ledger from what is stored, trusting nothing derived:
 *
 * - every envelope hashes to its stored leaf hash and belongs to this workspace;
 * - every payload hashes to the contentSha256 its envelope records;
 * - every referenced file is present and hashes to the sha256 its envelope records;
 * - leaves are consecutive, and the tree rebuilt from them has, at every checkpoint's size,
 *   exactly the root that checkpoint signed; the ledger head agrees with the tree;
 * - every checkpoint is well formed and signed by the workspace key that was current when it
 *   was issued, and issue times never go backwards;
 * - every erased payload, file or envelope is accounted for by a redaction or disposal record
 *   in the ledger naming that entry and its leaf hash.
 *
 * Failures name the entry (leaf index and evidence id) and what does not match; the first one
 * in ledger order is `firstFailure`.
 *
 * Speed: leaves are read in chunks along the primary key as binary records (see
 * readVerificationChunk), which the embedded database hands over as it wrote them; envelopes
 * are hashed from their stored canonical bytes (never re-serialised), the two hashes an
 * envelope records are found by byte search rather than by parsing JSON (its canonical shape is
 * fixed, see envelope.ts), and each aligned chunk of 2^k leaves is folded level by level into
 * one subtree root, so the tree costs one node hash per leaf and O(log n) memory. The per-entry
 * checks live in core/ledger-check.ts.
 */
import type { DatabaseKind, Trx } from '../../db/database.ts';
import { isAssayError } from '../../errors.ts';
import type { BlobStore } from './core/blob-store.ts';
import { type Keyring, verifyCheckpointWithKeyring } from './core/checkpoint.ts';
import { type ChunkCheck, type ChunkCheckContext, checkChunk } from './core/ledger-check.ts';
import { emptyRoot, MerkleTreeBuilder } from './core/merkle.ts';
import { type EvidenceEnvelope, ledgerRecordKinds } from './envelope.ts';
import { erasedPartNames, erasureBits } from './erasure-record.ts';
import {
  type CheckpointRow,
  type LedgerChunk,
  listCheckpointRows,
  maxLeafIndex,
  preferLedgerOrderScans,
  readLedgerHead,
  readVerificationChunk,
} from './evidence.repository.ts';
import { keyringOf, type LedgerKey, listLedgerKeys } from './ledger-keys.ts';

export type LedgerProblem =
  | 'entry_missing'
  | 'entry_unrecorded'
  | 'envelope_altered'
  | 'envelope_foreign'
  | 'envelope_malformed'
  | 'envelope_missing'
  | 'content_altered'
  | 'content_missing'
  | 'blob_missing'
  | 'blob_altered'
  | 'erasure_unrecorded'
  | 'tree_mismatch'
  | 'checkpoint_invalid'
  | 'checkpoint_beyond_ledger'
  | 'head_mismatch';

export interface LedgerFailure {
  problem: LedgerProblem;
  /** The entry's position in the ledger (null when the failure is not about one entry). */
  leafIndex: number | null;
  evidenceId: string | null;
  checkpointTreeSize?: number;
  blobSha256?: string;
  message: string;
}

export interface LedgerVerification {
  ok: boolean;
  workspaceId: string;
  /** Entries verified (the ledger head's tree size). */
  treeSize: number;
  /** Hex root recomputed from the stored leaves. */
  rootHash: string;
  checkpoints: number;
  blobs: number;
  erased: number;
  /** Envelope and content bytes hashed (for comparing with the raw SHA-256 rate). */
  bytesHashed: number;
  keys: { keyId: string; createdAt: string; retiredAt: string | null }[];
  latestCheckpoint: { treeSize: number; rootHash: string; issuedAt: string; keyId: string } | null;
  firstFailure: LedgerFailure | null;
  /** At most 100, in ledger order. */
  failures: LedgerFailure[];
  failureCount: number;
  timings: { readMs: number; checkMs: number; blobMs: number; totalMs: number };
}

const maxReportedFailures = 100;

interface ExpectedRoot {
  treeSize: number;
  rootHash: string;
  issuedAt: string;
}

interface Failure extends LedgerFailure {
  /** Sort key: where in the ledger the problem lies. */
  position: number;
}

/**
 * Puts the per-chunk checks (core/ledger-check.ts) together in ledger order: consecutive
 * leaves, the tree rebuilt from them against every checkpoint, and the failures, file
 * references and erasures found. No database access (the benchmark drives it directly).
 */
export class LeafScanner {
  readonly builder = new MerkleTreeBuilder();
  /** Next expected leaf index. */
  next = 0;
  bytesHashed = 0;
  /** Blob sha256 → first leaf index referencing it (entries whose file was erased excluded). */
  readonly blobs = new Map<string, number>();
  /** Leaf indexes with an erased part, to be matched with their erasure records. */
  readonly erased: number[] = [];
  readonly failures: Failure[] = [];
  readonly context: ChunkCheckContext;
  #treeBroken = false;
  #lastMatched = 0;
  #expected: ExpectedRoot[];
  #expectedAt = 0;

  constructor(workspaceId: string, expectedRoots: ExpectedRoot[]) {
    this.context = { workspaceTail: `"workspace":"${workspaceId}"}`, erasureBits: { ...erasureBits } };
    this.#expected = [...expectedRoots].sort((a, b) => a.treeSize - b.treeSize);
    this.#checkRoots();
  }

  /** Checkpoints whose size the tree has reached. */
  #checkRoots(): void {
    while (this.#expectedAt < this.#expected.length) {
      const expected = this.#expected[this.#expectedAt]!;
      if (expected.treeSize > this.builder.size) return;
      this.#expectedAt++;
      if (this.#treeBroken) continue;
      const root = expected.treeSize === 0 ? emptyRoot() : this.builder.root();
      if (root.toString('hex') !== expected.rootHash) {
        const from = this.#lastMatched;
        const to = expected.treeSize - 1;
        this.failures.push({
          problem: 'tree_mismatch',
          leafIndex: from,
          evidenceId: null,
          checkpointTreeSize: expected.treeSize,
          message:
            `entries ${from}–${to} do not rebuild the root signed by the checkpoint of size ${expected.treeSize} ` +
            `(issued ${expected.issuedAt}): an entry and its stored leaf hash were changed together, or entries were moved`,
          position: from,
        });
        // Later checkpoints would only repeat this; the per-entry checks carry on.
        this.#treeBroken = true;
      } else {
        this.#lastMatched = expected.treeSize;
      }
    }
  }

  /** Checks one chunk (see readVerificationChunk for the layout). */
  feed(chunk: LedgerChunk): void {
    this.absorb(checkChunk(chunk.records, chunk.recordHeader, this.context));
  }

  /** Takes in one checked chunk; chunks must come in ledger order. */
  absorb(check: ChunkCheck): void {
    if (check.count > 0) this.#tree(check);
    // After the sequence failures, so that an entry out of order is named first.
    for (const f of check.failures) {
      this.failures.push({ ...f, evidenceId: null, position: f.leafIndex });
    }
    for (const [sha, leafIndex] of check.blobs) {
      if (!this.blobs.has(sha)) this.blobs.set(sha, leafIndex);
    }
    for (const leafIndex of check.erased) this.erased.push(leafIndex);
    this.bytesHashed += check.bytesHashed;
  }

  #tree(check: ChunkCheck): void {
    const hashes = check.hashes;
    const nextCheckpoint = this.#expected[this.#expectedAt]?.treeSize ?? Number.POSITIVE_INFINITY;
    if (
      check.indexes === null &&
      check.first === this.next &&
      !this.#treeBroken &&
      check.subtreeRoot !== null &&
      this.builder.size === this.next &&
      // A checkpoint inside the chunk needs the root at a size the subtree skips over.
      !(nextCheckpoint > this.next && nextCheckpoint < this.next + check.count)
    ) {
      this.builder.appendSubtree(Buffer.from(check.subtreeRoot, 'hex'), check.count);
      this.next += check.count;
      if (nextCheckpoint === this.builder.size) this.#checkRoots();
      return;
    }
    for (let i = 0; i < check.count; i++) {
      const leafIndex = check.indexes === null ? check.first + i : check.indexes[i]!;
      this.#sequence(leafIndex);
      if (!this.#treeBroken) {
        this.builder.append(hashes.subarray(i * 32, i * 32 + 32));
        if (
          this.#expectedAt < this.#expected.length &&
          this.#expected[this.#expectedAt]!.treeSize === this.builder.size
        ) {
          this.#checkRoots();
        }
      }
    }
  }

  /** Leaves must be consecutive: a gap or a leaf out of order breaks the tree. */
  #sequence(leafIndex: number): void {
    if (leafIndex !== this.next) {
      if (leafIndex > this.next) {
        this.failures.push({
          problem: 'entry_missing',
          leafIndex: this.next,
          evidenceId: null,
          message:
            leafIndex === this.next + 1
              ? `entry ${this.next} is missing from the ledger`
              : `entries ${this.next}–${leafIndex - 1} are missing from the ledger`,
          position: this.next,
        });
      } else {
        this.failures.push({
          problem: 'entry_missing',
          leafIndex,
          evidenceId: null,
          message: `entry ${leafIndex} appears out of order`,
          position: leafIndex,
        });
      }
      // Without those leaves the tree cannot be rebuilt; entries are still checked one by one.
      this.#treeBroken = true;
      this.next = leafIndex;
    }
    this.next++;
  }

  /** Checkpoints beyond the entries seen: their leaves are missing. */
  finish(): void {
    for (; this.#expectedAt < this.#expected.length; this.#expectedAt++) {
      const expected = this.#expected[this.#expectedAt]!;
      if (expected.treeSize <= this.next) continue;
      this.failures.push({
        problem: 'checkpoint_beyond_ledger',
        leafIndex: this.next,
        evidenceId: null,
        checkpointTreeSize: expected.treeSize,
        message: `the checkpoint of size ${expected.treeSize} was signed, but the ledger holds only ${this.next} entries: entries ${this.next}–${expected.treeSize - 1} are missing`,
        position: this.next,
      });
    }
  }

  get treeBroken(): boolean {
    return this.#treeBroken;
  }
}

function checkCheckpoints(
  workspaceId: string,
  rows: CheckpointRow[],
  keyring: Keyring,
): { expected: ExpectedRoot[]; failures: Failure[] } {
  const expected: ExpectedRoot[] = [];
  const failures: Failure[] = [];
  let previousIssued = '';
  for (const row of rows) {
    const size = Number(row.tree_size);
    const fail = (message: string) =>
      failures.push({
        problem: 'checkpoint_invalid',
        leafIndex: null,
        evidenceId: null,
        checkpointTreeSize: size,
        message: `checkpoint of size ${size}: ${message}`,
        position: size,
      });
    const result = verifyCheckpointWithKeyring(row.body, row.signature, keyring);
    if (!result.ok) {
      fail(result.message);
      continue;
    }
    const fields = result.checkpoint;
    if (fields.workspaceId !== workspaceId) {
      fail(`it is signed for ledger assay/${fields.workspaceId}, not this workspace's`);
      continue;
    }
    if (
      fields.treeSize !== size ||
      fields.rootHash !== row.root_hash ||
      fields.keyId !== row.key_id ||
      Date.parse(fields.issuedAt) !== new Date(row.issued_at).getTime()
    ) {
      fail('its stored tree size, root, key or time differ from the signed text');
    }
    if (fields.issuedAt < previousIssued) {
      fail(`issued at ${fields.issuedAt}, before the smaller checkpoint issued at ${previousIssued}`);
    }
    previousIssued = fields.issuedAt;
    expected.push({ treeSize: fields.treeSize, rootHash: fields.rootHash, issuedAt: fields.issuedAt });
  }
  return { expected, failures };
}

export interface VerifyOptions {
  /**
   * Leaves per database round trip (default 4,096: on a server, larger chunks were measured
   * slower, the server's next chunk waiting in the socket while this one is checked). A power of
   * two lets each chunk enter the tree as one perfect subtree.
   */
  chunkRows?: number;
}

/**
 * Verifies the workspace's ledger within `trx` (a transaction scoped to the workspace).
 * Entries appended while it runs are left to the next verification.
 */
export async function verifyLedgerIn(
  trx: Trx,
  engine: DatabaseKind,
  workspaceId: string,
  blobStore: BlobStore,
  options: VerifyOptions = {},
): Promise<LedgerVerification> {
  const started = performance.now();
  // Checkpoints before the head: a checkpoint never exceeds the head it was signed from and
  // the head only grows, so any checkpoint past the head read next means lost entries.
  const checkpointRows = await listCheckpointRows(trx, workspaceId);
  const keys = await listLedgerKeys(trx, workspaceId);
  const head = await readLedgerHead(trx, workspaceId);
  const { expected, failures: checkpointFailures } = checkCheckpoints(
    workspaceId,
    checkpointRows,
    keyringOf(keys),
  );

  const scanner = new LeafScanner(workspaceId, expected);
  const chunkRows = options.chunkRows ?? 4_096;
  let readMs = 0;
  let checkMs = 0;
  await preferLedgerOrderScans(trx);
  // Ask for the next chunk before checking the current one: a server prepares it meanwhile.
  // (Checking on a worker thread as well was measured 1.2-1.5x faster on 2 cores, short of
  // what the added thread and loader-free checker would be worth: see docs/scaling.md.)
  const read = (start: number) =>
    start < head.treeSize
      ? readVerificationChunk(trx, engine, workspaceId, start, Math.min(head.treeSize, start + chunkRows))
      : undefined;
  let reading = read(0);
  for (let start = 0; reading !== undefined; start += chunkRows) {
    const t0 = performance.now();
    const chunk = await reading;
    // The embedded database does its reading within this call, before it returns.
    reading = read(start + chunkRows);
    const t1 = performance.now();
    scanner.feed(chunk);
    readMs += t1 - t0;
    checkMs += performance.now() - t1;
  }
  if (scanner.next < head.treeSize) {
    scanner.failures.push({
      problem: 'entry_missing',
      leafIndex: scanner.next,
      evidenceId: null,
      message:
        scanner.next === head.treeSize - 1
          ? `entry ${scanner.next} is missing from the ledger`
          : `entries ${scanner.next}–${head.treeSize - 1} are missing from the ledger`,
      position: scanner.next,
    });
  }
  scanner.finish();
  const failures: Failure[] = [...scanner.failures, ...checkpointFailures];

  const rootHash = scanner.builder.root().toString('hex');
  if (!scanner.treeBroken && scanner.builder.size === head.treeSize) {
    const frontier = scanner.builder.frontier();
    if (frontier.hashes.join() !== head.frontier.join()) {
      failures.push({
        problem: 'head_mismatch',
        leafIndex: null,
        evidenceId: null,
        message: `the ledger head's frontier does not match the tree rebuilt from its ${head.treeSize} entries`,
        position: head.treeSize,
      });
    }
  }
  // Rows past the head were never acknowledged as part of the ledger (allowing for appends
  // that committed while this ran).
  const maxLeaf = await maxLeafIndex(trx, workspaceId);
  if (maxLeaf >= head.treeSize) {
    const now = await readLedgerHead(trx, workspaceId);
    if (maxLeaf >= now.treeSize) {
      failures.push({
        problem: 'entry_unrecorded',
        leafIndex: now.treeSize,
        evidenceId: null,
        message: `entries from ${now.treeSize} to ${maxLeaf} are stored beyond the ledger head (size ${now.treeSize})`,
        position: now.treeSize,
      });
    }
  }

  failures.push(...(await checkErasures(trx, workspaceId, scanner.erased)));

  const blobStarted = performance.now();
  for (const [sha, leafIndex] of scanner.blobs) {
    let intact: boolean;
    try {
      intact = await blobStore.verify(sha);
    } catch (error) {
      if (isAssayError(error) && error.code === 'blob_not_found') {
        failures.push({
          problem: 'blob_missing',
          leafIndex,
          evidenceId: null,
          blobSha256: sha,
          message: `entry ${leafIndex}: its file ${sha} is missing from the blob store`,
          position: leafIndex,
        });
        continue;
      }
      throw error;
    }
    if (!intact) {
      failures.push({
        problem: 'blob_altered',
        leafIndex,
        evidenceId: null,
        blobSha256: sha,
        message: `entry ${leafIndex}: its stored file no longer hashes to ${sha} (the file was changed)`,
        position: leafIndex,
      });
    }
  }
  const blobMs = performance.now() - blobStarted;

  failures.sort((a, b) => a.position - b.position);
  await nameEntries(trx, workspaceId, failures.slice(0, maxReportedFailures));
  const latest = checkpointRows.at(-1);
  return {
    ok: failures.length === 0,
    workspaceId,
    treeSize: head.treeSize,
    rootHash,
    checkpoints: checkpointRows.length,
    blobs: scanner.blobs.size,
    erased: scanner.erased.length,
    bytesHashed: scanner.bytesHashed,
    keys: keys.map((k: LedgerKey) => ({ keyId: k.keyId, createdAt: k.createdAt, retiredAt: k.retiredAt })),
    latestCheckpoint: latest
      ? {
          treeSize: Number(latest.tree_size),
          rootHash: latest.root_hash,
          issuedAt: new Date(latest.issued_at).toISOString(),
          keyId: latest.key_id,
        }
      : null,
    firstFailure: failures[0] ? strip(failures[0]) : null,
    failures: failures.slice(0, maxReportedFailures).map(strip),
    failureCount: failures.length,
    timings: {
      readMs: Math.round(readMs),
      checkMs: Math.round(checkMs),
      blobMs: Math.round(blobMs),
      totalMs: Math.round(performance.now() - started),
    },
  };
}

function strip(failure: Failure): LedgerFailure {
  const { position: _position, ...rest } = failure;
  return rest;
}

/** Adds the evidence id to every failure about one entry, and to its message. */
async function nameEntries(trx: Trx, workspaceId: string, failures: Failure[]): Promise<void> {
  const indexes = [...new Set(failures.map((f) => f.leafIndex).filter((i): i is number => i !== null))];
  if (indexes.length === 0) return;
  const rows = await trx
    .selectFrom('evidence_items')
    .select(['leaf_index', 'id'])
    .where('workspace_id', '=', workspaceId)
    .where('leaf_index', 'in', indexes)
    .execute();
  const ids = new Map(rows.map((r) => [Number(r.leaf_index), r.id]));
  for (const failure of failures) {
    if (failure.leafIndex === null) continue;
    const id = ids.get(failure.leafIndex);
    if (id === undefined) continue;
    failure.evidenceId = id;
    failure.message = failure.message.replace(
      new RegExp(`^entry ${failure.leafIndex}(?=[: ])`),
      `entry ${failure.leafIndex} (evidence ${id})`,
    );
  }
}

/** Each erased part must be covered by the redaction or disposal record the entry points to. */
async function checkErasures(trx: Trx, workspaceId: string, leafIndexes: number[]): Promise<Failure[]> {
  const failures: Failure[] = [];
  const recordKinds: string[] = Object.values(ledgerRecordKinds);
  for (let start = 0; start < leafIndexes.length; start += 5_000) {
    const batch = leafIndexes.slice(start, start + 5_000);
    const rows = await trx
      .selectFrom('evidence_items as target')
      .leftJoin('evidence_items as record', (join) =>
        join
          .onRef('record.workspace_id', '=', 'target.workspace_id')
          .onRef('record.leaf_index', '=', 'target.erased_by'),
      )
      .select((eb) => [
        'target.leaf_index as leaf_index',
        'target.id as id',
        'target.erased as erased',
        'target.erased_by as erased_by',
        eb.fn<string>('encode', ['target.leaf_hash', eb.val('hex')]).as('leaf_hash_hex'),
        eb.fn<string | null>('convert_from', ['record.envelope', eb.val('UTF8')]).as('record_envelope'),
        eb.fn<string | null>('convert_from', ['record.content', eb.val('UTF8')]).as('record_content'),
      ])
      .where('target.workspace_id', '=', workspaceId)
      .where('target.leaf_index', 'in', batch)
      .execute();
    for (const row of rows) {
      const leafIndex = Number(row.leaf_index);
      const problem = erasureProblem(row, leafIndex, recordKinds);
      if (problem) {
        failures.push({
          problem: 'erasure_unrecorded',
          leafIndex,
          evidenceId: null,
          message: `entry ${leafIndex}: ${erasedPartNames(row.erased).join(', ')} erased, but ${problem}`,
          position: leafIndex,
        });
      }
    }
  }
  return failures;
}

function erasureProblem(
  row: {
    id: string;
    erased: number;
    erased_by: number | null;
    leaf_hash_hex: string;
    record_envelope: string | null;
    record_content: string | null;
  },
  leafIndex: number,
  recordKinds: string[],
): string | null {
  if (row.erased_by === null || row.record_envelope === null || row.record_content === null) {
    return 'no redaction or disposal record in the ledger accounts for it';
  }
  if (Number(row.erased_by) <= leafIndex) return 'the erasure record it names precedes it';
  let envelope: EvidenceEnvelope;
  let content: { evidenceId?: unknown; leafIndex?: unknown; leafHash?: unknown; erased?: unknown };
  try {
    envelope = JSON.parse(row.record_envelope);
    content = JSON.parse(row.record_content);
  } catch {
    return 'its erasure record is unreadable';
  }
  if (!recordKinds.includes(envelope.kind))
    return `entry ${row.erased_by} is not a redaction or disposal record`;
  if (
    content.evidenceId !== row.id ||
    content.leafIndex !== leafIndex ||
    content.leafHash !== row.leaf_hash_hex
  ) {
    return `the erasure record (entry ${row.erased_by}) is about another entry`;
  }
  const recorded = Array.isArray(content.erased) ? content.erased : [];
  const missing = erasedPartNames(row.erased).filter((part) => !recorded.includes(part));
  if (missing.length > 0)
    return `the erasure record (entry ${row.erased_by}) does not cover ${missing.join(', ')}`;
  return null;
}
