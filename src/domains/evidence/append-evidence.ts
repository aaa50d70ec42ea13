/**
 * appendEvidence: the one way evidence enters a workspace's ledger.
 *
 * It runs inside the caller's transaction, so an import, a check run or a review decision and
 * the evidence it produces commit (or roll back) together. Inputs are validated in full before
 * anything is written; the ledger head row is then locked (`select … for update`), the items get
 * consecutive leaf indexes after the current tree size, the frontier (the tree's compact state)
 * advances, and the rows go in with a few multi-row inserts. Concurrent appenders in other
 * processes wait on the head lock, so each workspace keeps one consistent tree.
 */
import type { Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import { loadCatalog } from '../catalog/catalog.loader.ts';
import { sha256Hex } from './core/canonical-json.ts';
import { leafHash, MerkleTreeBuilder } from './core/merkle.ts';
import {
  type EvidenceEnvelope,
  type EvidenceInput,
  type PreparedEvidence,
  prepareEvidence,
} from './envelope.ts';
import {
  findBlobSizes,
  insertLeaves,
  lockLedgerHead,
  type NewLeaf,
  updateLedgerHead,
} from './evidence.repository.ts';

/** One appended item: its identity in the ledger and the envelope that was recorded. */
export interface EvidenceRecord {
  id: string;
  workspaceId: string;
  leafIndex: number;
  /** Hex RFC 9162 leaf hash: SHA-256(0x00 ‖ canonical envelope). */
  leafHash: string;
  /** Hex SHA-256 of the canonical envelope (the evidence hash auditors see). */
  envelopeSha256: string;
  envelope: EvidenceEnvelope;
}

/** Most items one call may append (callers with more split them across calls or transactions). */
export const maxAppendBatch = 50_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Appends evidence to the workspace's ledger within `trx` (a transaction scoped to
 * `workspaceId`, e.g. from `database.inWorkspace`). Throws `validation_failed` naming the item
 * and field (`evidence[3].controls[0]: …`) before writing anything if any input is bad.
 */
export async function appendEvidence(
  trx: Trx,
  workspaceId: string,
  inputs: EvidenceInput[],
): Promise<EvidenceRecord[]> {
  return appendToLedger(trx, workspaceId, inputs, {});
}

/** appendEvidence with the ledger's own record kinds allowed (redaction, disposal). */
export async function appendToLedger(
  trx: Trx,
  workspaceId: string,
  inputs: EvidenceInput[],
  options: { allowLedgerKinds?: boolean; now?: Date },
): Promise<EvidenceRecord[]> {
  return appendPrepared(trx, await prepareAppend(trx, workspaceId, inputs, options));
}

/** Evidence validated and enveloped, its ids fixed, not yet in the ledger. */
export interface PreparedAppend {
  readonly workspaceId: string;
  /** The evidence ids, in the order of the inputs. */
  readonly ids: string[];
  readonly items: (PreparedEvidence & { envelopeSha256: string })[];
}

/**
 * The first half of an append: validates and envelopes `inputs` (throwing `validation_failed`
 * naming the item and field) without touching the ledger. A caller that must cite the evidence
 * ids in other rows of the same transaction prepares first and appends last, so that the
 * workspace's ledger head — one row every writer of the workspace locks until it commits — is
 * held only for the end of its transaction.
 */
export async function prepareAppend(
  trx: Trx,
  workspaceId: string,
  inputs: EvidenceInput[],
  options: { allowLedgerKinds?: boolean; now?: Date } = {},
): Promise<PreparedAppend> {
  if (!Array.isArray(inputs)) {
    throw new AssayError('validation_failed', 'evidence: expected an array of evidence items', {
      field: 'evidence',
    });
  }
  if (inputs.length > maxAppendBatch) {
    throw new AssayError(
      'validation_failed',
      `evidence: at most ${maxAppendBatch} items per call, got ${inputs.length}`,
      { field: 'evidence' },
    );
  }
  const items = inputs.length === 0 ? [] : await prepareAll(trx, workspaceId, inputs, options);
  return { workspaceId, ids: items.map((item) => item.envelope.id), items };
}

/** The second half of an append: takes the ledger head and adds the prepared items as leaves. */
export async function appendPrepared(trx: Trx, prepared: PreparedAppend): Promise<EvidenceRecord[]> {
  const { workspaceId, items } = prepared;
  if (items.length === 0) return [];
  const head = await lockLedgerHead(trx, workspaceId);
  const builder = MerkleTreeBuilder.fromFrontier({ size: head.treeSize, hashes: head.frontier });
  const leaves: NewLeaf[] = new Array(items.length);
  const records: EvidenceRecord[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const hash = leafHash(item.envelopeText);
    builder.append(hash);
    const leafIndex = head.treeSize + i;
    const leafHashHex = hash.toString('hex');
    leaves[i] = {
      leafIndex,
      envelope: item.envelope,
      envelopeText: item.envelopeText,
      contentText: item.contentText,
      leafHashHex,
    };
    records[i] = {
      id: item.envelope.id,
      workspaceId,
      leafIndex,
      leafHash: leafHashHex,
      envelopeSha256: item.envelopeSha256,
      envelope: item.envelope,
    };
  }
  await insertLeaves(trx, workspaceId, leaves);
  const frontier = builder.frontier();
  await updateLedgerHead(trx, workspaceId, { treeSize: frontier.size, frontier: frontier.hashes });
  return records;
}

async function prepareAll(
  trx: Trx,
  workspaceId: string,
  inputs: EvidenceInput[],
  options: { allowLedgerKinds?: boolean; now?: Date },
): Promise<(PreparedEvidence & { envelopeSha256: string })[]> {
  // Collect every control and blob reference first: one query each, whatever the batch size.
  const controlRefs = new Set<string>();
  const blobRefs = new Set<string>();
  for (const input of inputs) {
    if (input === null || typeof input !== 'object') continue;
    if (Array.isArray(input.controls)) {
      for (const c of input.controls) if (typeof c === 'string') controlRefs.add(c.trim());
    }
    const sha = input.blob && typeof input.blob === 'object' ? input.blob.sha256 : undefined;
    if (typeof sha === 'string') blobRefs.add(sha.trim());
  }
  const workspace = await trx
    .selectFrom('workspaces')
    .leftJoin('workspace_scopes', 'workspace_scopes.workspace_id', 'workspaces.id')
    .select([
      'workspaces.catalog_version as workspace_catalog',
      'workspace_scopes.catalog_version as scope_catalog',
    ])
    .where('workspaces.id', '=', workspaceId)
    .executeTakeFirst();
  if (!workspace) {
    throw new AssayError(
      'workspace_not_found',
      `workspace ${workspaceId} does not exist (or is not this transaction's)`,
    );
  }
  const catalog = loadCatalog(workspace.scope_catalog ?? workspace.workspace_catalog);
  const criterionIds = new Set(catalog.criteria.map((c) => c.id));

  const templateByRef = new Map<string, string>();
  if (controlRefs.size > 0) {
    const refs = [...controlRefs];
    const uuids = refs.filter((r) => UUID.test(r)).map((r) => r.toLowerCase());
    const rows = await trx
      .selectFrom('controls')
      .select(['id', 'template_id'])
      .where('workspace_id', '=', workspaceId)
      .where((eb) =>
        uuids.length > 0
          ? eb.or([eb('template_id', 'in', refs), eb('id', 'in', uuids)])
          : eb('template_id', 'in', refs),
      )
      .execute();
    for (const row of rows) {
      templateByRef.set(row.template_id, row.template_id);
      templateByRef.set(row.id, row.template_id);
    }
  }
  const blobSizes = await findBlobSizes(
    trx,
    workspaceId,
    [...blobRefs].filter((s) => /^[0-9a-f]{64}$/.test(s)),
  );

  const now = (options.now ?? new Date()).toISOString();
  const context = {
    now,
    allowLedgerKinds: options.allowLedgerKinds ?? false,
    resolveControl(id: string, where: string): string {
      const template = templateByRef.get(id) ?? templateByRef.get(id.toLowerCase());
      if (template === undefined) {
        throw new AssayError(
          'validation_failed',
          `${where}: control "${id}" does not exist in this workspace`,
          {
            field: where,
          },
        );
      }
      return template;
    },
    checkCriterion(id: string, where: string): void {
      if (!criterionIds.has(id)) {
        throw new AssayError(
          'validation_failed',
          `${where}: "${id}" is not a Trust Services Criterion of catalog ${catalog.version}`,
          { field: where },
        );
      }
    },
    blobSize(sha256: string, where: string): number {
      const size = blobSizes.get(sha256);
      if (size === undefined) {
        throw new AssayError(
          'validation_failed',
          `${where}: no file with SHA-256 ${sha256} was uploaded to this workspace; upload it first`,
          { field: where },
        );
      }
      return size;
    },
  };
  return inputs.map((input, i) => {
    const item = prepareEvidence(`evidence[${i}]`, workspaceId, input, context);
    return { ...item, envelopeSha256: sha256Hex(item.envelopeText) };
  });
}
