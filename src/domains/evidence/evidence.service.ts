/**
 * The evidence ledger service.
 *
 * For other domains (ingest, checks, reviews), the entry point is
 *
 *   appendEvidence(trx: Trx, workspaceId: string, inputs: EvidenceInput[]): Promise<EvidenceRecord[]>
 *
 * called inside their own workspace transaction (`database.inWorkspace`), so their changes and
 * the evidence they produce commit together. Files are streamed in first with
 * `evidenceBlobStore(config).put(stream)` + `registerEvidenceBlob(trx, workspaceId, result)` (or
 * `storeEvidenceBlob`) and referenced by sha256 in `EvidenceInput.blob`. The scheduler calls
 * `checkpointDueWorkspaces` and `createCheckpoint` (or `runDueCheckpoints`).
 *
 * The rest of this module serves the API and the CLI: add, list, show, proofs, verification,
 * key rotation, freshness; retention, holds and erasure live in retention.service.ts.
 */
import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { insertAuditEntry } from '../audit/audit.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { appendEvidence, type EvidenceRecord } from './append-evidence.ts';
import { type Checkpoint, createCheckpoint, presentCheckpoint } from './checkpoints.ts';
import type { BlobStore, PutResult } from './core/blob-store.ts';
import { parseCheckpointBody } from './core/checkpoint.ts';
import {
  leafHash as computeLeafHash,
  consistencyProof,
  inclusionProof,
  MerkleTreeBuilder,
  verifyConsistency,
  verifyInclusion,
} from './core/merkle.ts';
import type { EvidenceInput } from './envelope.ts';
import { erasureBits } from './erasure-record.ts';
import { presentDetail, presentItem } from './evidence.presenter.ts';
import {
  findCheckpointRow,
  findItem,
  type ItemFilter,
  latestCheckpointRow,
  listCheckpointRows,
  listItems,
  lockLedgerHead,
  readLeafHashes,
  readLedgerHead,
  registerBlob,
} from './evidence.repository.ts';
import { type LedgerKey, listLedgerKeys, rotateLedgerKey } from './ledger-keys.ts';
import { holdsOnItem, retainedUntil, retentionDaysFor, retentionPoliciesIn } from './retention.service.ts';
import { type LedgerVerification, type VerifyOptions, verifyLedgerIn } from './verify-ledger.ts';

export { appendEvidence, type EvidenceRecord, maxAppendBatch } from './append-evidence.ts';
export {
  type Checkpoint,
  checkpointDueWorkspaces,
  createCheckpoint,
  createCheckpointIn,
  runDueCheckpoints,
} from './checkpoints.ts';
export type { EvidenceEnvelope, EvidenceInput } from './envelope.ts';
export { evidenceBlobStore, registerEvidenceBlob, storeEvidenceBlob } from './evidence-blobs.ts';
export type { LedgerFailure, LedgerVerification } from './verify-ledger.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function evidenceIdOf(value: string): string {
  if (!UUID.test(value)) {
    throw new AssayError('validation_failed', `evidence: "${value}" is not an evidence id`, {
      field: 'evidence',
    });
  }
  return value.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Adding evidence

/** Appends evidence for the API and CLI (own transaction, with an audit-trail entry). */
export async function addEvidence(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  inputs: EvidenceInput[],
): Promise<EvidenceRecord[]> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const records = await appendEvidence(trx, workspace.id, inputs);
    if (records.length > 0) {
      await insertAuditEntry(trx, {
        workspaceId: workspace.id,
        actor,
        action: 'evidence.appended',
        targetType: 'evidence',
        targetId: records.length === 1 ? records[0]!.id : `${records.length} items`,
        details: {
          count: records.length,
          firstLeaf: records[0]!.leafIndex,
          lastLeaf: records.at(-1)!.leafIndex,
          kinds: [...new Set(records.map((r) => r.envelope.kind))],
        },
      });
    }
    return records;
  });
}

/**
 * Streams an upload into the blob store, then registers it for the workspace (in a short
 * transaction of its own: a large upload never holds one open).
 */
export async function uploadEvidenceBlob(
  database: Database,
  store: BlobStore,
  workspaceRef: string,
  source: Readable | AsyncIterable<Uint8Array | string>,
  options: { expectedSha256?: string | undefined } = {},
): Promise<PutResult> {
  const workspace = await getWorkspace(database, workspaceRef);
  if (options.expectedSha256 !== undefined && !/^[0-9a-f]{64}$/.test(options.expectedSha256)) {
    throw new AssayError('validation_failed', 'sha256: must be 64 lowercase hex characters', {
      field: 'sha256',
    });
  }
  const result = await store.put(
    source,
    options.expectedSha256 === undefined ? {} : { expectedSha256: options.expectedSha256 },
  );
  await database.inWorkspace(workspace.id, (trx) =>
    registerBlob(trx, workspace.id, result.sha256, result.size),
  );
  return result;
}

/**
 * Adds one item with its file in one step (CLI): the file streams into the blob store, then the
 * registration and the evidence commit together. If the evidence is refused, a file this call
 * stored and nobody else registered is removed again, so bad input leaves nothing behind.
 */
export async function addEvidenceWithFile(
  database: Database,
  store: BlobStore,
  actor: Actor,
  workspaceRef: string,
  input: EvidenceInput,
  file: {
    source: Readable | AsyncIterable<Uint8Array | string>;
    mediaType: string;
    fileName: string | null;
    expectedSha256?: string | undefined;
  },
): Promise<EvidenceRecord> {
  const workspace = await getWorkspace(database, workspaceRef);
  if (file.expectedSha256 !== undefined && !/^[0-9a-f]{64}$/.test(file.expectedSha256)) {
    throw new AssayError('validation_failed', 'sha256: must be 64 lowercase hex characters', {
      field: 'sha256',
    });
  }
  const stored = await store.put(
    file.source,
    file.expectedSha256 === undefined ? {} : { expectedSha256: file.expectedSha256 },
  );
  try {
    const [record] = await database.inWorkspace(workspace.id, async (trx) => {
      await registerBlob(trx, workspace.id, stored.sha256, stored.size);
      const records = await appendEvidence(trx, workspace.id, [
        { ...input, blob: { sha256: stored.sha256, mediaType: file.mediaType, fileName: file.fileName } },
      ]);
      await insertAuditEntry(trx, {
        workspaceId: workspace.id,
        actor,
        action: 'evidence.appended',
        targetType: 'evidence',
        targetId: records[0]!.id,
        details: { count: 1, firstLeaf: records[0]!.leafIndex, blobSha256: stored.sha256 },
      });
      return records;
    });
    return record!;
  } catch (error) {
    if (stored.created) {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from evidence_blobs where sha256 = ${stored.sha256}`.execute(database.db);
      if ((rows[0]?.n ?? 0) === 0) await store.delete(stored.sha256);
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading evidence

export async function listEvidence(
  database: Database,
  workspaceRef: string,
  filter: Omit<ItemFilter, 'now' | 'limit'> & { limit?: number | undefined },
  now: Date = new Date(),
) {
  const workspace = await getWorkspace(database, workspaceRef);
  const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
  const rows = await database.inWorkspace(workspace.id, (trx) =>
    listItems(trx, workspace.id, { ...filter, limit, now }),
  );
  const items = rows.map((row) => presentItem(row, now));
  const last = items.at(-1);
  return { items, next: items.length === limit && last ? last.leafIndex : null };
}

async function requireItem(trx: Trx, workspaceId: string, slug: string, evidenceId: string) {
  const row = await findItem(trx, workspaceId, evidenceIdOf(evidenceId));
  if (!row) throw new AssayError('evidence_not_found', `evidence ${evidenceId} does not exist in "${slug}"`);
  return row;
}

export async function getEvidence(
  database: Database,
  workspaceRef: string,
  evidenceId: string,
  now = new Date(),
) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const row = await requireItem(trx, workspace.id, workspace.slug, evidenceId);
    const policies = await retentionPoliciesIn(trx, workspace.id);
    const view = presentItem(row, now);
    return presentDetail(row, now, {
      retainedUntil: retainedUntil(view, retentionDaysFor(policies, view.kind)),
      legalHolds: await holdsOnItem(trx, workspace.id, row),
    });
  });
}

/** The item's file as a stream, if it has one and it was not erased. */
export async function openEvidenceBlob(
  database: Database,
  store: BlobStore,
  workspaceRef: string,
  evidenceId: string,
) {
  const workspace = await getWorkspace(database, workspaceRef);
  const row = await database.inWorkspace(workspace.id, (trx) =>
    requireItem(trx, workspace.id, workspace.slug, evidenceId),
  );
  const view = presentItem(row, new Date());
  if (view.blob === null) {
    throw new AssayError('blob_not_found', `evidence ${row.id} has no file`);
  }
  if ((row.erased & erasureBits.blob) !== 0) {
    throw new AssayError('blob_not_found', `the file of evidence ${row.id} was erased`);
  }
  return { stream: store.open(view.blob.sha256), blob: view.blob };
}

// ---------------------------------------------------------------------------------------------
// Ledger state, checkpoints and proofs

export interface LedgerStatus {
  workspaceId: string;
  treeSize: number;
  rootHash: string;
  latestCheckpoint: Checkpoint | null;
  keys: LedgerKey[];
}

export async function ledgerStatus(database: Database, workspaceRef: string): Promise<LedgerStatus> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const head = await readLedgerHead(trx, workspace.id);
    const latest = await latestCheckpointRow(trx, workspace.id);
    return {
      workspaceId: workspace.id,
      treeSize: head.treeSize,
      rootHash: MerkleTreeBuilder.fromFrontier({ size: head.treeSize, hashes: head.frontier })
        .root()
        .toString('hex'),
      latestCheckpoint: latest ? presentCheckpoint(latest) : null,
      keys: await listLedgerKeys(trx, workspace.id),
    };
  });
}

export async function listCheckpoints(database: Database, workspaceRef: string): Promise<Checkpoint[]> {
  const workspace = await getWorkspace(database, workspaceRef);
  const rows = await database.inWorkspace(workspace.id, (trx) => listCheckpointRows(trx, workspace.id));
  return rows.map(presentCheckpoint);
}

export async function checkpointNow(database: Database, actor: Actor, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  const result = await createCheckpoint(database, workspace.id);
  if (result.created) {
    await database.inWorkspace(workspace.id, (trx) =>
      insertAuditEntry(trx, {
        workspaceId: workspace.id,
        actor,
        action: 'evidence.checkpoint_created',
        targetType: 'evidence_checkpoint',
        targetId: String(result.checkpoint.treeSize),
        details: { rootHash: result.checkpoint.rootHash, keyId: result.checkpoint.keyId },
      }),
    );
  }
  return result;
}

export async function rotateKey(database: Database, actor: Actor, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    await lockLedgerHead(trx, workspace.id);
    // A new key's lifetime must start after everything already signed.
    const last = await latestCheckpointRow(trx, workspace.id);
    const keys = await listLedgerKeys(trx, workspace.id);
    let now = Date.now();
    if (last) now = Math.max(now, new Date(last.issued_at).getTime());
    for (const key of keys) now = Math.max(now, Date.parse(key.createdAt));
    const rotated = await rotateLedgerKey(trx, workspace.id, new Date(now));
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'evidence.ledger_key_rotated',
      targetType: 'evidence_signing_key',
      targetId: rotated.current.keyId,
      details: { retired: rotated.retired?.keyId ?? null },
    });
    return rotated;
  });
}

async function checkpointFor(trx: Trx, workspaceId: string, treeSize: number | undefined) {
  const row =
    treeSize === undefined
      ? await latestCheckpointRow(trx, workspaceId)
      : await findCheckpointRow(trx, workspaceId, treeSize);
  if (!row) {
    throw new AssayError(
      'checkpoint_not_found',
      treeSize === undefined
        ? 'the ledger has no checkpoint yet; create one (assay evidence checkpoint, or POST …/evidence-ledger/checkpoints)'
        : `there is no checkpoint of tree size ${treeSize}`,
    );
  }
  return row;
}

export interface InclusionProofView {
  evidenceId: string;
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  envelopeSha256: string | null;
  /** Hex sibling hashes from the leaf upwards (RFC 9162 §2.1.3.1). */
  proof: string[];
  checkpoint: Checkpoint;
  ledgerKey: LedgerKey;
  /** The verification recipe's input files (docs/evidence-verification.md), by file name. */
  files: Record<string, string>;
}

/** Reads leaf hashes [0, treeSize) once; proofs then index into them. */
async function leafSource(trx: Trx, workspaceId: string, treeSize: number) {
  const hashes = await readLeafHashes(trx, workspaceId, treeSize);
  return (index: number) => hashes.subarray(index * 32, index * 32 + 32);
}

/**
 * The item's inclusion proof against a checkpoint (default: the latest), with the checkpoint,
 * the signing key and the files of the auditor's recipe. The proof is checked before it is
 * served: a ledger that no longer matches its checkpoint yields `ledger_verification_failed`.
 */
export async function evidenceProof(
  database: Database,
  workspaceRef: string,
  evidenceId: string,
  options: { treeSize?: number | undefined } = {},
): Promise<InclusionProofView> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const row = await requireItem(trx, workspace.id, workspace.slug, evidenceId);
    const checkpointRow = await checkpointFor(trx, workspace.id, options.treeSize);
    const checkpoint = presentCheckpoint(checkpointRow);
    const leafIndex = Number(row.leaf_index);
    if (leafIndex >= checkpoint.treeSize) {
      throw new AssayError(
        'evidence_not_checkpointed',
        `evidence ${row.id} (entry ${leafIndex}) was appended after the checkpoint of size ${checkpoint.treeSize}; ` +
          'create a checkpoint first (assay evidence checkpoint)',
      );
    }
    const read = await leafSource(trx, workspace.id, checkpoint.treeSize);
    const leaf = read(leafIndex);
    if (row.envelope_text !== null && !computeLeafHash(row.envelope_text).equals(leaf)) {
      throw new AssayError(
        'ledger_verification_failed',
        `entry ${leafIndex} (evidence ${row.id}): the stored envelope was changed`,
      );
    }
    const proof = inclusionProof(leafIndex, checkpoint.treeSize, read);
    const signed = parseCheckpointBody(checkpoint.body);
    if (!verifyInclusion(leafIndex, checkpoint.treeSize, leaf, proof, Buffer.from(signed.rootHash, 'hex'))) {
      throw new AssayError(
        'ledger_verification_failed',
        `the ledger no longer matches its checkpoint of size ${checkpoint.treeSize}; run assay evidence verify`,
      );
    }
    const keys = await listLedgerKeys(trx, workspace.id);
    const key = keys.find((k) => k.keyId === checkpoint.keyId);
    if (!key)
      throw new AssayError(
        'ledger_verification_failed',
        `the checkpoint's key ${checkpoint.keyId} is unknown`,
      );
    const proofHex = proof.map((h) => h.toString('hex'));
    const files: Record<string, string> = {
      'inclusion-proof.txt': proofHex.map((h) => `${h}\n`).join(''),
      'leaf-index.txt': `${leafIndex}\n`,
      'checkpoint.txt': checkpoint.body,
      'checkpoint.sig': `${checkpoint.signature}\n`,
      'ledger-key.pem': key.publicKeyPem,
    };
    if (row.envelope_text !== null) files['envelope.json'] = row.envelope_text;
    return {
      evidenceId: row.id,
      leafIndex,
      treeSize: checkpoint.treeSize,
      leafHash: leaf.toString('hex'),
      envelopeSha256: presentItem(row, new Date()).envelopeSha256,
      proof: proofHex,
      checkpoint,
      ledgerKey: key,
      files,
    };
  });
}

export interface ConsistencyProofView {
  fromTreeSize: number;
  toTreeSize: number;
  fromRootHash: string;
  toRootHash: string;
  /** Hex hashes in RFC 9162 §2.1.4.1 order. */
  proof: string[];
  fromCheckpoint: Checkpoint | null;
  toCheckpoint: Checkpoint | null;
}

/**
 * Consistency proof that the tree of `from` leaves is a prefix of the tree of `to` leaves
 * (default: the latest checkpoint's size); the checkpoints of those sizes come along if any.
 */
export async function ledgerConsistency(
  database: Database,
  workspaceRef: string,
  input: { from: number; to?: number | undefined },
): Promise<ConsistencyProofView> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const head = await readLedgerHead(trx, workspace.id);
    const to = input.to ?? Number((await checkpointFor(trx, workspace.id, undefined)).tree_size);
    const from = input.from;
    if (
      !Number.isSafeInteger(from) ||
      from < 0 ||
      !Number.isSafeInteger(to) ||
      from > to ||
      to > head.treeSize
    ) {
      throw new AssayError(
        'validation_failed',
        `from/to: need 0 ≤ from ≤ to ≤ ${head.treeSize} (the ledger's size), got from=${from} to=${to}`,
        { field: 'from' },
      );
    }
    const read = await leafSource(trx, workspace.id, to);
    const rootOf = (size: number) => {
      const builder = new MerkleTreeBuilder();
      for (let i = 0; i < size; i++) builder.append(read(i));
      return builder.root();
    };
    const fromRoot = rootOf(from);
    const toRoot = rootOf(to);
    const proof = consistencyProof(from, to, read);
    if (!verifyConsistency(from, to, proof, fromRoot, toRoot)) {
      throw new AssayError('internal', 'a consistency proof failed its own check');
    }
    const fromRow = await findCheckpointRow(trx, workspace.id, from);
    const toRow = await findCheckpointRow(trx, workspace.id, to);
    for (const row of [fromRow, toRow]) {
      if (row && row.root_hash !== (Number(row.tree_size) === from ? fromRoot : toRoot).toString('hex')) {
        throw new AssayError(
          'ledger_verification_failed',
          `the ledger no longer matches its checkpoint of size ${row.tree_size}; run assay evidence verify`,
        );
      }
    }
    return {
      fromTreeSize: from,
      toTreeSize: to,
      fromRootHash: fromRoot.toString('hex'),
      toRootHash: toRoot.toString('hex'),
      proof: proof.map((h) => h.toString('hex')),
      fromCheckpoint: fromRow ? presentCheckpoint(fromRow) : null,
      toCheckpoint: toRow ? presentCheckpoint(toRow) : null,
    };
  });
}

/** Recomputes everything (see verify-ledger.ts); `ok: false` names the first bad entry. */
export async function verifyLedger(
  database: Database,
  store: BlobStore,
  workspaceRef: string,
  options: VerifyOptions = {},
): Promise<LedgerVerification> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) =>
    verifyLedgerIn(trx, database.kind, workspace.id, store, options),
  );
}

// ---------------------------------------------------------------------------------------------
// Freshness

export interface ControlFreshness {
  control: string;
  title: string;
  frequency: string;
  evidenceCount: number;
  status: 'fresh' | 'stale' | 'missing';
  newest: {
    id: string;
    kind: string;
    effectiveAt: string;
    ageSeconds: number;
    staleAfter: string | null;
    stale: boolean;
  } | null;
}

/** Per active control: its newest evidence (by effective time), that evidence's age, and staleness. */
export async function evidenceFreshness(
  database: Database,
  workspaceRef: string,
  now: Date = new Date(),
): Promise<{ workspace: string; at: string; controls: ControlFreshness[] }> {
  const workspace = await getWorkspace(database, workspaceRef);
  const rows = await database.inWorkspace(workspace.id, async (trx) => {
    const result = await sql<{
      template_id: string;
      title: string;
      frequency: string;
      evidence_count: number;
      id: string | null;
      kind: string | null;
      effective_at: Date | null;
      stale_after: Date | null;
    }>`
      select c.template_id, c.title, c.frequency, coalesce(n.count, 0)::int as evidence_count,
             latest.id, latest.kind, latest.effective_at, latest.stale_after
      from controls c
      left join lateral (
        select e.id, e.kind, e.effective_at, e.stale_after from evidence_items e
        where e.workspace_id = c.workspace_id and e.control_ids @> array[c.template_id]
          and (e.erased & ${erasureBits.envelope}) = 0
        order by e.effective_at desc, e.leaf_index desc limit 1
      ) latest on true
      left join lateral (
        select count(*) as count from evidence_items e
        where e.workspace_id = c.workspace_id and e.control_ids @> array[c.template_id]
      ) n on true
      where c.workspace_id = ${workspace.id} and c.active
      order by c.template_id`.execute(trx);
    return result.rows;
  });
  const controls = rows.map((row): ControlFreshness => {
    if (row.id === null || row.effective_at === null) {
      return {
        control: row.template_id,
        title: row.title,
        frequency: row.frequency,
        evidenceCount: row.evidence_count,
        status: 'missing',
        newest: null,
      };
    }
    const staleAfter = row.stale_after === null ? null : new Date(row.stale_after).toISOString();
    const stale = staleAfter !== null && Date.parse(staleAfter) <= now.getTime();
    const effectiveAt = new Date(row.effective_at).toISOString();
    return {
      control: row.template_id,
      title: row.title,
      frequency: row.frequency,
      evidenceCount: row.evidence_count,
      status: stale ? 'stale' : 'fresh',
      newest: {
        id: row.id,
        kind: row.kind ?? '',
        effectiveAt,
        ageSeconds: Math.max(0, Math.floor((now.getTime() - Date.parse(effectiveAt)) / 1000)),
        staleAfter,
        stale,
      },
    };
  });
  return { workspace: workspace.slug, at: now.toISOString(), controls };
}
