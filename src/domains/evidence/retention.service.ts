/**
 * Keeping and letting go of evidence.
 *
 * - Retention: each kind of evidence is kept at least N days after it happened — its effective
 *   time — (default 730:
 *   an audit period plus a year, configurable per kind and per workspace). Disposal before then
 *   is refused (`retention_not_elapsed`).
 * - Legal holds: while a hold matches an item (by item, kind, control, subject, or the whole
 *   workspace), it can be neither disposed of nor redacted (`legal_hold_active`).
 * - Redaction (privacy erasure) removes an item's payload and file — and, if asked, its envelope —
 *   but keeps its leaf hash, so the tree and every proof still verify. Retention does not block
 *   it (an erasure request can come at any time); a legal hold does.
 * - Disposal (retention elapsed) removes payload, file and envelope alike.
 *
 * Both are recorded in the ledger itself: a redaction or disposal record (an evidence item)
 * says which entry, which parts, who asked and why, and carries the entry's leaf hash, so
 * verification can tell an authorised erasure from a deletion.
 */
import { sql } from 'kysely';
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { insertAuditEntry } from '../audit/audit.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { appendToLedger, type EvidenceRecord } from './append-evidence.ts';
import type { BlobStore } from './core/blob-store.ts';
import { type EvidenceInput, ledgerRecordKinds } from './envelope.ts';
import {
  type ErasedPart,
  type ErasureRecordContent,
  erasedPartNames,
  erasureBits,
  erasureBitsOf,
} from './erasure-record.ts';

/** Default minimum retention: a 12-month audit period plus one year. */
export const defaultRetentionDays = 730;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KIND = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

function bad(field: string, message: string): never {
  throw new AssayError('validation_failed', `${field}: ${message}`, { field });
}

function reasonOf(value: unknown, field = 'reason'): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.trim().length > 1000) {
    bad(field, 'give the reason (1–1000 characters)');
  }
  return value.trim();
}

function actorName(actor: Actor) {
  return { type: actor.type, id: actor.id, name: actor.name ?? null };
}

function collectorOf(actor: Actor): EvidenceInput['collector'] {
  const type = actor.type === 'connector' || actor.type === 'system' ? actor.type : 'user';
  return { type, id: actor.id, name: actor.name ?? null };
}

// ---------------------------------------------------------------------------------------------
// Retention policies

export interface RetentionPolicies {
  /** Days for kinds without their own policy. */
  defaultDays: number;
  policies: { kind: string; days: number; updatedAt: string }[];
}

export async function retentionPoliciesIn(trx: Trx, workspaceId: string): Promise<RetentionPolicies> {
  const rows = await trx
    .selectFrom('evidence_retention_policies')
    .select(['kind', 'retention_days', 'updated_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('kind')
    .execute();
  const fallback = rows.find((r) => r.kind === '*');
  return {
    defaultDays: fallback ? fallback.retention_days : defaultRetentionDays,
    policies: rows.map((r) => ({
      kind: r.kind,
      days: r.retention_days,
      updatedAt: new Date(r.updated_at).toISOString(),
    })),
  };
}

export function retentionDaysFor(policies: RetentionPolicies, kind: string): number {
  return policies.policies.find((p) => p.kind === kind)?.days ?? policies.defaultDays;
}

/** Kept until `days` after it happened (its effective time: what audit periods are about). */
export function retainedUntil(item: { effectiveAt: string }, days: number): string {
  return new Date(Date.parse(item.effectiveAt) + days * 86_400_000).toISOString();
}

export async function listRetentionPolicies(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) => retentionPoliciesIn(trx, workspace.id));
}

/** Sets the minimum retention of one kind (`*`: the workspace default). */
export async function setRetentionPolicy(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: { kind: string; days: number },
): Promise<RetentionPolicies> {
  const kind = typeof input.kind === 'string' ? input.kind.trim() : '';
  if (kind !== '*' && !KIND.test(kind))
    bad('kind', 'an evidence kind such as access_review.decision, or * for the default');
  if (!Number.isInteger(input.days) || input.days < 1 || input.days > 36_500) {
    bad('days', 'a whole number of days from 1 to 36500');
  }
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    await trx
      .insertInto('evidence_retention_policies')
      .values({ workspace_id: workspace.id, kind, retention_days: input.days, updated_at: new Date() })
      .onConflict((oc) =>
        oc
          .columns(['workspace_id', 'kind'])
          .doUpdateSet({ retention_days: input.days, updated_at: new Date() }),
      )
      .execute();
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'evidence.retention_set',
      targetType: 'evidence_retention',
      targetId: kind,
      details: { days: input.days },
    });
    return retentionPoliciesIn(trx, workspace.id);
  });
}

// ---------------------------------------------------------------------------------------------
// Legal holds

export interface LegalHold {
  id: string;
  evidenceId: string | null;
  kind: string | null;
  control: string | null;
  subject: { type: string; id: string } | null;
  reason: string;
  placedBy: string;
  placedAt: string;
  releasedBy: string | null;
  releasedAt: string | null;
  releaseReason: string | null;
}

type HoldRow = {
  id: string;
  evidence_id: string | null;
  kind: string | null;
  control_id: string | null;
  subject_type: string | null;
  subject_id: string | null;
  reason: string;
  placed_by: string;
  placed_at: Date;
  released_by: string | null;
  released_at: Date | string | null;
  release_reason: string | null;
};

function presentHold(row: HoldRow): LegalHold {
  return {
    id: row.id,
    evidenceId: row.evidence_id,
    kind: row.kind,
    control: row.control_id,
    subject: row.subject_type && row.subject_id ? { type: row.subject_type, id: row.subject_id } : null,
    reason: row.reason,
    placedBy: row.placed_by,
    placedAt: new Date(row.placed_at).toISOString(),
    releasedBy: row.released_by,
    releasedAt: row.released_at === null ? null : new Date(row.released_at).toISOString(),
    releaseReason: row.release_reason,
  };
}

export interface PlaceHoldInput {
  evidenceId?: string | undefined;
  kind?: string | undefined;
  control?: string | undefined;
  subject?: { type: string; id: string } | undefined;
  reason: string;
}

/** Places a legal hold; with no criterion it holds every item of the workspace. */
export async function placeLegalHold(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: PlaceHoldInput,
): Promise<LegalHold> {
  const reason = reasonOf(input.reason);
  if (input.evidenceId !== undefined && !UUID.test(input.evidenceId))
    bad('evidenceId', 'must be an evidence id');
  if (input.kind !== undefined && !KIND.test(input.kind))
    bad('kind', `"${input.kind}" is not an evidence kind`);
  if (input.subject !== undefined && (!input.subject.type?.trim() || !input.subject.id?.trim())) {
    bad('subject', 'give both the subject type and id');
  }
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    let controlId: string | null = null;
    if (input.control !== undefined) {
      const control = await trx
        .selectFrom('controls')
        .select('template_id')
        .where('workspace_id', '=', workspace.id)
        .where((eb) =>
          UUID.test(input.control!)
            ? eb('id', '=', input.control!.toLowerCase())
            : eb('template_id', '=', input.control!),
        )
        .executeTakeFirst();
      if (!control)
        throw new AssayError(
          'control_not_found',
          `control "${input.control}" does not exist in "${workspace.slug}"`,
        );
      controlId = control.template_id;
    }
    if (input.evidenceId !== undefined) {
      const item = await trx
        .selectFrom('evidence_items')
        .select('id')
        .where('workspace_id', '=', workspace.id)
        .where('id', '=', input.evidenceId.toLowerCase())
        .executeTakeFirst();
      if (!item)
        throw new AssayError(
          'evidence_not_found',
          `evidence ${input.evidenceId} does not exist in "${workspace.slug}"`,
        );
    }
    const row = await trx
      .insertInto('evidence_legal_holds')
      .values({
        workspace_id: workspace.id,
        evidence_id: input.evidenceId?.toLowerCase() ?? null,
        kind: input.kind ?? null,
        control_id: controlId,
        subject_type: input.subject?.type.trim() ?? null,
        subject_id: input.subject?.id.trim() ?? null,
        reason,
        placed_by: actor.id,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'evidence.legal_hold_placed',
      targetType: 'evidence_legal_hold',
      targetId: row.id,
      details: { evidenceId: row.evidence_id, kind: row.kind, control: row.control_id, reason },
    });
    return presentHold(row as HoldRow);
  });
}

export async function listLegalHolds(
  database: Database,
  workspaceRef: string,
  options: { includeReleased?: boolean } = {},
): Promise<LegalHold[]> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    let query = trx.selectFrom('evidence_legal_holds').selectAll().where('workspace_id', '=', workspace.id);
    if (!options.includeReleased) query = query.where('released_at', 'is', null);
    const rows = await query.orderBy('placed_at').execute();
    return rows.map((r) => presentHold(r as HoldRow));
  });
}

export async function releaseLegalHold(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  holdId: string,
  input: { reason: string },
): Promise<LegalHold> {
  const reason = reasonOf(input.reason);
  if (!UUID.test(holdId))
    throw new AssayError('validation_failed', `hold: "${holdId}" is not a hold id`, { field: 'hold' });
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const row = await trx
      .updateTable('evidence_legal_holds')
      .set({ released_at: new Date(), released_by: actor.id, release_reason: reason })
      .where('workspace_id', '=', workspace.id)
      .where('id', '=', holdId.toLowerCase())
      .where('released_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!row) {
      throw new AssayError('evidence_not_found', `no active legal hold ${holdId} in "${workspace.slug}"`);
    }
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'evidence.legal_hold_released',
      targetType: 'evidence_legal_hold',
      targetId: row.id,
      details: { reason },
    });
    return presentHold(row as HoldRow);
  });
}

/** Active holds matching the item. */
export async function holdsOnItem(
  trx: Trx,
  workspaceId: string,
  item: {
    id: string;
    kind: string;
    control_ids: string[];
    subject_type: string | null;
    subject_id: string | null;
  },
): Promise<string[]> {
  const rows = await trx
    .selectFrom('evidence_legal_holds')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('released_at', 'is', null)
    .where((eb) => eb.or([eb('evidence_id', 'is', null), eb('evidence_id', '=', item.id)]))
    .where((eb) => eb.or([eb('kind', 'is', null), eb('kind', '=', item.kind)]))
    .where((eb) =>
      eb.or([
        eb('control_id', 'is', null),
        item.control_ids.length > 0 ? eb('control_id', 'in', item.control_ids) : eb.val(false),
      ]),
    )
    .where((eb) =>
      eb.or([
        eb('subject_type', 'is', null),
        eb.and([
          eb('subject_type', '=', item.subject_type ?? ''),
          eb('subject_id', '=', item.subject_id ?? ''),
        ]),
      ]),
    )
    .orderBy('placed_at')
    .execute();
  return rows.map((r) => r.id);
}

// ---------------------------------------------------------------------------------------------
// Erasure: redaction and disposal

type ErasableRow = {
  leaf_index: number;
  id: string;
  kind: string;
  control_ids: string[];
  subject_type: string | null;
  subject_id: string | null;
  effective_at: Date;
  collected_at: Date;
  content_sha256: string;
  blob_sha256: string | null;
  erased: number;
  envelope_sha256: string | null;
  leaf_hash_hex: string;
};

async function lockItem(
  trx: Trx,
  workspaceId: string,
  evidenceId: string,
  slug: string,
): Promise<ErasableRow> {
  if (!UUID.test(evidenceId)) {
    throw new AssayError('validation_failed', `evidence: "${evidenceId}" is not an evidence id`, {
      field: 'evidence',
    });
  }
  const row = await trx
    .selectFrom('evidence_items')
    .select([
      'leaf_index',
      'id',
      'kind',
      'control_ids',
      'subject_type',
      'subject_id',
      'effective_at',
      'collected_at',
      'content_sha256',
      'blob_sha256',
      'erased',
    ])
    .select([
      sql<string | null>`encode(sha256(envelope), 'hex')`.as('envelope_sha256'),
      sql<string>`encode(leaf_hash, 'hex')`.as('leaf_hash_hex'),
    ])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', evidenceId.toLowerCase())
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AssayError('evidence_not_found', `evidence ${evidenceId} does not exist in "${slug}"`);
  return row as ErasableRow;
}

interface Erasure {
  row: ErasableRow;
  parts: ErasedPart[];
  retention?: { days: number; until: string };
}

/** Appends one record per erasure, then erases the parts, all within `trx`. */
async function eraseItems(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  recordKind: string,
  reason: string,
  erasures: Erasure[],
  now: Date,
): Promise<EvidenceRecord[]> {
  const inputs: EvidenceInput[] = erasures.map(({ row, parts, retention }) => {
    const all = erasedPartNames(row.erased | erasureBitsOf(parts));
    const content: ErasureRecordContent = {
      evidenceId: row.id,
      leafIndex: Number(row.leaf_index),
      leafHash: row.leaf_hash_hex,
      envelopeSha256: row.envelope_sha256,
      contentSha256: row.content_sha256,
      blobSha256: row.blob_sha256,
      erased: all,
      reason,
      requestedBy: actorName(actor),
      ...(retention ? { retention } : {}),
    };
    return {
      kind: recordKind,
      subject: { type: 'evidence', id: row.id, name: null },
      effectiveAt: now,
      collectedAt: now,
      collector: collectorOf(actor),
      content,
    };
  });
  const records = await appendToLedger(trx, workspaceId, inputs, { allowLedgerKinds: true, now });
  for (let i = 0; i < erasures.length; i++) {
    const { row, parts } = erasures[i]!;
    const bits = row.erased | erasureBitsOf(parts);
    await sql`
      update evidence_items set
        content = case when ${bits & erasureBits.content} <> 0 then null else content end,
        envelope = case when ${bits & erasureBits.envelope} <> 0 then null else envelope end,
        subject_name = case when ${bits & erasureBits.envelope} <> 0 then null else subject_name end,
        erased = ${bits}, erased_by = ${records[i]!.leafIndex}, erased_at = ${now}
      where workspace_id = ${workspaceId} and leaf_index = ${row.leaf_index}`.execute(trx);
  }
  return records;
}

/**
 * Removes an erased file once nothing still holds it (the blob store is shared and deduplicated):
 * no un-erased evidence in any workspace references it, and no other workspace uploaded the same
 * bytes. This workspace's upload registration goes too, so the file cannot be referenced again
 * without being uploaded again. Runs after the erasure committed.
 */
async function deleteUnreferencedBlob(
  database: Database,
  store: BlobStore,
  workspaceId: string,
  sha: string,
) {
  const { rows } = await sql<{ own: number; refs: number; others: number }>`
    select
      (select count(*)::int from evidence_items where workspace_id = ${workspaceId}
        and blob_sha256 = ${sha} and (erased & ${erasureBits.blob}) = 0) as own,
      (select count(*)::int from evidence_items
        where blob_sha256 = ${sha} and (erased & ${erasureBits.blob}) = 0) as refs,
      (select count(*)::int from evidence_blobs where sha256 = ${sha} and workspace_id <> ${workspaceId}) as others
  `.execute(database.db);
  const counts = rows[0] ?? { own: 0, refs: 0, others: 0 };
  if (counts.own > 0) return;
  await database.inWorkspace(workspaceId, (trx) =>
    trx
      .deleteFrom('evidence_blobs')
      .where('workspace_id', '=', workspaceId)
      .where('sha256', '=', sha)
      .execute(),
  );
  if (counts.refs === 0 && counts.others === 0) await store.delete(sha);
}

export interface ErasureResult {
  evidenceId: string;
  leafIndex: number;
  erased: ErasedPart[];
  /** The redaction or disposal record appended to the ledger. */
  record: { id: string; leafIndex: number; kind: string };
}

function refuseLedgerRecords(row: ErasableRow) {
  if (row.kind.startsWith('evidence.')) {
    throw new AssayError(
      'validation_failed',
      `evidence ${row.id} is a ${row.kind} record; the ledger's own records cannot be erased`,
      { field: 'evidence' },
    );
  }
}

async function refuseHeld(trx: Trx, workspaceId: string, row: ErasableRow, what: string) {
  const holds = await holdsOnItem(trx, workspaceId, row);
  if (holds.length > 0) {
    throw new AssayError(
      'legal_hold_active',
      `evidence ${row.id} is under legal hold (${holds.join(', ')}); it cannot be ${what} until the hold is released`,
      { holds },
    );
  }
}

/**
 * Privacy erasure: removes the payload and file (and with `parts: ['envelope']` the envelope
 * too — it names the subject), keeping the leaf hash; records who redacted what and why.
 */
export async function redactEvidence(
  database: Database,
  store: BlobStore,
  actor: Actor,
  workspaceRef: string,
  evidenceId: string,
  input: { reason: string; parts?: ErasedPart[] | undefined },
): Promise<ErasureResult> {
  const reason = reasonOf(input.reason);
  const requested = new Set<ErasedPart>(
    input.parts && input.parts.length > 0 ? input.parts : ['content', 'blob'],
  );
  for (const part of requested) {
    if (!(part in erasureBits)) bad('parts', `"${part}" is not content, blob or envelope`);
  }
  // Without its payload and file an envelope is all that is left; erasing it takes them too.
  if (requested.has('envelope')) {
    requested.add('content');
    requested.add('blob');
  }
  const workspace = await getWorkspace(database, workspaceRef);
  const now = new Date();
  const result = await database.inWorkspace(workspace.id, async (trx) => {
    const row = await lockItem(trx, workspace.id, evidenceId, workspace.slug);
    refuseLedgerRecords(row);
    const parts = [...requested].filter((p) => p !== 'blob' || row.blob_sha256 !== null);
    const fresh = parts.filter((p) => (row.erased & erasureBits[p]) === 0);
    if (fresh.length === 0) {
      throw new AssayError('already_redacted', `evidence ${row.id}: ${parts.join(', ')} already erased`);
    }
    await refuseHeld(trx, workspace.id, row, 'redacted');
    const [record] = await eraseItems(
      trx,
      workspace.id,
      actor,
      ledgerRecordKinds.redaction,
      reason,
      [{ row, parts: fresh }],
      now,
    );
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'evidence.redacted',
      targetType: 'evidence',
      targetId: row.id,
      details: { parts: fresh, reason, record: record!.id },
    });
    return {
      row,
      result: {
        evidenceId: row.id,
        leafIndex: Number(row.leaf_index),
        erased: erasedPartNames(row.erased | erasureBitsOf(fresh)),
        record: { id: record!.id, leafIndex: record!.leafIndex, kind: ledgerRecordKinds.redaction },
      },
    };
  });
  if (result.result.erased.includes('blob') && result.row.blob_sha256 !== null) {
    await deleteUnreferencedBlob(database, store, workspace.id, result.row.blob_sha256);
  }
  return result.result;
}

/** Disposes of one item whose retention has elapsed: payload, file and envelope go. */
export async function disposeEvidence(
  database: Database,
  store: BlobStore,
  actor: Actor,
  workspaceRef: string,
  evidenceId: string,
  input: { reason: string; now?: Date },
): Promise<ErasureResult> {
  const reason = reasonOf(input.reason);
  const workspace = await getWorkspace(database, workspaceRef);
  const now = input.now ?? new Date();
  const result = await database.inWorkspace(workspace.id, async (trx) => {
    const row = await lockItem(trx, workspace.id, evidenceId, workspace.slug);
    refuseLedgerRecords(row);
    if ((row.erased & erasureBits.envelope) !== 0) {
      throw new AssayError('already_redacted', `evidence ${row.id} was already disposed of`);
    }
    const policies = await retentionPoliciesIn(trx, workspace.id);
    const days = retentionDaysFor(policies, row.kind);
    const until = retainedUntil({ effectiveAt: new Date(row.effective_at).toISOString() }, days);
    if (Date.parse(until) > now.getTime()) {
      throw new AssayError(
        'retention_not_elapsed',
        `evidence ${row.id} (${row.kind}) must be kept until ${until} (retention ${days} days)`,
        { retainedUntil: until, days },
      );
    }
    await refuseHeld(trx, workspace.id, row, 'disposed of');
    const parts: ErasedPart[] =
      row.blob_sha256 === null ? ['content', 'envelope'] : ['content', 'blob', 'envelope'];
    const [record] = await eraseItems(
      trx,
      workspace.id,
      actor,
      ledgerRecordKinds.disposal,
      reason,
      [{ row, parts, retention: { days, until } }],
      now,
    );
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'evidence.disposed',
      targetType: 'evidence',
      targetId: row.id,
      details: { reason, retainedUntil: until, record: record!.id },
    });
    return {
      row,
      result: {
        evidenceId: row.id,
        leafIndex: Number(row.leaf_index),
        erased: erasedPartNames(row.erased | erasureBitsOf(parts)),
        record: { id: record!.id, leafIndex: record!.leafIndex, kind: ledgerRecordKinds.disposal },
      },
    };
  });
  if (result.row.blob_sha256 !== null) {
    await deleteUnreferencedBlob(database, store, workspace.id, result.row.blob_sha256);
  }
  return result.result;
}
