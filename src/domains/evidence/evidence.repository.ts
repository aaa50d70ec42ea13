/**
 * SQL for the evidence ledger. bytea columns travel as hex or base64 text (both engines decode
 * those natively and fast) and large reads come a chunk of leaves at a time without a JS object
 * per row — leaf hashes aggregated into one value, verification's leaves as binary records (see
 * readVerificationChunk) — so a million-leaf ledger streams in a few hundred round trips.
 */
import { sql } from 'kysely';
import type { DatabaseKind, Trx } from '../../db/database.ts';
import { type BinaryRows, binaryRowsMarker, dataRowHeaderSize } from '../../db/pglite-binary.ts';
import { type CopiedRows, copyBinaryMarker } from '../../db/postgres-copy.ts';
import type { EvidenceEnvelope } from './envelope.ts';

export interface LedgerHead {
  treeSize: number;
  frontier: string[];
}

/**
 * Locks the workspace's ledger head (creating it on first use) until the transaction ends.
 * Every writer of the tree goes through here, so leaf indexes are handed out one writer at a
 * time, consecutively, across all processes sharing the database.
 */
export async function lockLedgerHead(trx: Trx, workspaceId: string): Promise<LedgerHead> {
  const head = () =>
    trx
      .selectFrom('evidence_ledger_heads')
      .select(['tree_size', 'frontier'])
      .where('workspace_id', '=', workspaceId)
      .forUpdate();
  // The head exists after a workspace's first append: one statement then, on every append after.
  let row = await head().executeTakeFirst();
  if (!row) {
    await trx
      .insertInto('evidence_ledger_heads')
      .values({ workspace_id: workspaceId, tree_size: 0, frontier: [] })
      .onConflict((oc) => oc.column('workspace_id').doNothing())
      .execute();
    row = await head().executeTakeFirstOrThrow();
  }
  return { treeSize: Number(row.tree_size), frontier: row.frontier };
}

export async function readLedgerHead(trx: Trx, workspaceId: string): Promise<LedgerHead> {
  const row = await trx
    .selectFrom('evidence_ledger_heads')
    .select(['tree_size', 'frontier'])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return row ? { treeSize: Number(row.tree_size), frontier: row.frontier } : { treeSize: 0, frontier: [] };
}

export async function updateLedgerHead(trx: Trx, workspaceId: string, head: LedgerHead): Promise<void> {
  await trx
    .updateTable('evidence_ledger_heads')
    .set({ tree_size: head.treeSize, frontier: head.frontier, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .execute();
}

export interface NewLeaf {
  leafIndex: number;
  envelope: EvidenceEnvelope;
  envelopeText: string;
  contentText: string;
  leafHashHex: string;
}

/** Rows per insert statement: large enough to amortise the round trip, small enough for memory. */
const insertBatch = 10_000;

/** Multi-row insert: one statement per batch, each column passed as one array. */
export async function insertLeaves(trx: Trx, workspaceId: string, leaves: NewLeaf[]): Promise<void> {
  for (let start = 0; start < leaves.length; start += insertBatch) {
    const batch = leaves.slice(start, start + insertBatch);
    const rows = batch.map((leaf) => {
      const e = leaf.envelope;
      return {
        leaf_index: leaf.leafIndex,
        id: e.id,
        kind: e.kind,
        controls: textArrayLiteral(e.proves.controls),
        criteria: textArrayLiteral(e.proves.criteria),
        subject_type: e.subject?.type ?? null,
        subject_id: e.subject?.id ?? null,
        subject_name: e.subject?.name ?? null,
        effective_at: e.effectiveAt,
        collected_at: e.collectedAt,
        stale_after: e.staleAfter,
        collector_type: e.collector.type,
        collector_id: e.collector.id,
        content_sha256: e.contentSha256,
        content: leaf.contentText,
        blob_sha256: e.blob?.sha256 ?? null,
        blob_size: e.blob?.size ?? null,
        blob_media_type: e.blob?.mediaType ?? null,
        blob_file_name: e.blob?.fileName ?? null,
        envelope: leaf.envelopeText,
        leaf_hash: leaf.leafHashHex,
      };
    });
    await sql`
      insert into evidence_items (
        workspace_id, leaf_index, id, kind, control_ids, criterion_ids, subject_type, subject_id,
        subject_name, effective_at, collected_at, stale_after, collector_type, collector_id,
        content_sha256, content, blob_sha256, blob_size, blob_media_type, blob_file_name, envelope, leaf_hash
      )
      select ${workspaceId}::uuid, u.leaf_index, u.id, u.kind,
        u.controls::text[], u.criteria::text[],
        u.subject_type, u.subject_id, u.subject_name, u.effective_at, u.collected_at, u.stale_after,
        u.collector_type, u.collector_id, u.content_sha256, convert_to(u.content, 'UTF8'), u.blob_sha256,
        u.blob_size, u.blob_media_type, u.blob_file_name, convert_to(u.envelope, 'UTF8'), decode(u.leaf_hash, 'hex')
      from json_to_recordset(${JSON.stringify(rows)}::json) as u(leaf_index bigint, id uuid, kind text,
        controls text, criteria text, subject_type text, subject_id text, subject_name text,
        effective_at timestamptz, collected_at timestamptz, stale_after timestamptz, collector_type text,
        collector_id text, content_sha256 text, content text, blob_sha256 text, blob_size bigint,
        blob_media_type text, blob_file_name text, envelope text, leaf_hash text)
    `.execute(trx);
  }
}

/** A PostgreSQL array literal of strings, each quoted and escaped (`{"AC-01","CC6.1"}`). */
function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// Blobs

export async function registerBlob(trx: Trx, workspaceId: string, sha256: string, size: number) {
  await trx
    .insertInto('evidence_blobs')
    .values({ workspace_id: workspaceId, sha256, size })
    .onConflict((oc) => oc.columns(['workspace_id', 'sha256']).doNothing())
    .execute();
}

export async function findBlobSizes(trx: Trx, workspaceId: string, shas: string[]) {
  if (shas.length === 0) return new Map<string, number>();
  const rows = await trx
    .selectFrom('evidence_blobs')
    .select(['sha256', 'size'])
    .where('workspace_id', '=', workspaceId)
    .where('sha256', 'in', shas)
    .execute();
  return new Map(rows.map((r) => [r.sha256, Number(r.size)]));
}

// ---------------------------------------------------------------------------------------------
// Reading items

/** Columns every read of an item returns; the envelope and content come back as text. */
function itemColumns() {
  return [
    'leaf_index',
    'id',
    'kind',
    'control_ids',
    'criterion_ids',
    'subject_type',
    'subject_id',
    'subject_name',
    'effective_at',
    'collected_at',
    'stale_after',
    'collector_type',
    'collector_id',
    'content_sha256',
    'blob_sha256',
    'blob_size',
    'blob_media_type',
    'blob_file_name',
    'erased',
    'erased_by',
    'erased_at',
    'appended_at',
  ] as const;
}

export interface ItemRow {
  leaf_index: number;
  id: string;
  kind: string;
  control_ids: string[];
  criterion_ids: string[];
  subject_type: string | null;
  subject_id: string | null;
  subject_name: string | null;
  effective_at: Date;
  collected_at: Date;
  stale_after: Date | null;
  collector_type: string;
  collector_id: string;
  content_sha256: string;
  blob_sha256: string | null;
  blob_size: number | null;
  blob_media_type: string | null;
  blob_file_name: string | null;
  erased: number;
  erased_by: number | null;
  erased_at: Date | null;
  appended_at: Date;
  envelope_text: string | null;
  leaf_hash_hex: string;
}

export interface ItemRowWithContent extends ItemRow {
  content_text: string | null;
}

function selectItems(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('evidence_items')
    .select(itemColumns())
    .select([
      sql<string | null>`convert_from(envelope, 'UTF8')`.as('envelope_text'),
      sql<string>`encode(leaf_hash, 'hex')`.as('leaf_hash_hex'),
    ])
    .where('workspace_id', '=', workspaceId);
}

export async function findItem(
  trx: Trx,
  workspaceId: string,
  evidenceId: string,
): Promise<ItemRowWithContent | undefined> {
  const row = await selectItems(trx, workspaceId)
    .select(sql<string | null>`convert_from(content, 'UTF8')`.as('content_text'))
    .where('id', '=', evidenceId)
    .executeTakeFirst();
  return row as ItemRowWithContent | undefined;
}

export async function findItemByLeaf(
  trx: Trx,
  workspaceId: string,
  leafIndex: number,
): Promise<ItemRowWithContent | undefined> {
  const row = await selectItems(trx, workspaceId)
    .select(sql<string | null>`convert_from(content, 'UTF8')`.as('content_text'))
    .where('leaf_index', '=', leafIndex)
    .executeTakeFirst();
  return row as ItemRowWithContent | undefined;
}

export interface ItemFilter {
  kind?: string | undefined;
  control?: string | undefined;
  subjectType?: string | undefined;
  subjectId?: string | undefined;
  stale?: boolean | undefined;
  /** Only items with a leaf index below this (pages go newest first). */
  before?: number | undefined;
  limit: number;
  now: Date;
}

export async function listItems(trx: Trx, workspaceId: string, filter: ItemFilter): Promise<ItemRow[]> {
  let query = selectItems(trx, workspaceId);
  if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
  if (filter.control !== undefined)
    query = query.where(sql<boolean>`control_ids @> array[${filter.control}]::text[]`);
  if (filter.subjectType !== undefined) query = query.where('subject_type', '=', filter.subjectType);
  if (filter.subjectId !== undefined) query = query.where('subject_id', '=', filter.subjectId);
  if (filter.stale === true) query = query.where('stale_after', '<=', filter.now);
  if (filter.stale === false)
    query = query.where((eb) => eb.or([eb('stale_after', 'is', null), eb('stale_after', '>', filter.now)]));
  if (filter.before !== undefined) query = query.where('leaf_index', '<', filter.before);
  const rows = await query.orderBy('leaf_index', 'desc').limit(filter.limit).execute();
  return rows as ItemRow[];
}

/** Leaf hashes [0, treeSize) concatenated, read in chunks. */
export async function readLeafHashes(trx: Trx, workspaceId: string, treeSize: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(treeSize * 32);
  const chunk = 200_000;
  for (let start = 0; start < treeSize; start += chunk) {
    const end = Math.min(treeSize, start + chunk);
    const { rows } = await sql<{ hashes: string | null; n: number }>`
      select encode(string_agg(leaf_hash, ''::bytea), 'base64') as hashes, count(*)::int as n
      from (select leaf_hash from evidence_items
            where workspace_id = ${workspaceId} and leaf_index >= ${start} and leaf_index < ${end}
            order by leaf_index) s`.execute(trx);
    const row = rows[0];
    if (!row || row.n !== end - start || row.hashes === null) {
      throw new Error(`ledger leaves ${start}..${end - 1} are incomplete`);
    }
    const bytes = Buffer.from(row.hashes, 'base64');
    bytes.copy(out, start * 32);
  }
  return out;
}

/**
 * For the rest of the transaction, plan reads of the ledger as ordered walks of its primary key.
 * Verification reads every leaf in chunks by leaf-index range; right after a bulk append the
 * statistics can be stale or the range a large share of the table, and the planner would then
 * scan the whole table and sort it for every chunk (quadratic in the ledger's size).
 */
export async function preferLedgerOrderScans(trx: Trx): Promise<void> {
  await sql`select set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
    set_config('max_parallel_workers_per_gather', '0', true)`.execute(trx);
}

/**
 * One chunk of leaves for verification, in ledger order, as records of five fields in
 * PostgreSQL's binary row form: int2 field count (5), then per field an int4 length (-1 for
 * null) and that many bytes — leaf index (int8), erased bits (int2), stored leaf hash, envelope,
 * content. The leaf index in every record lets the verifier notice should an engine ever feed
 * rows out of order.
 *
 * The embedded database hands its result rows over as written (binary rows), each record behind
 * the 5-byte header of its DataRow message; a server sends the same records through a binary
 * COPY (its driver would decode every field of an ordinary result as text).
 */
export interface LedgerChunk {
  records: Buffer;
  /** Bytes before each record (a protocol message header, or none). */
  recordHeader: number;
}

export async function readVerificationChunk(
  trx: Trx,
  engine: DatabaseKind,
  workspaceId: string,
  start: number,
  end: number,
): Promise<LedgerChunk> {
  if (engine === 'pglite') {
    const { rows } = await sql<BinaryRows>`${sql.raw(binaryRowsMarker)}
      select leaf_index, erased, leaf_hash, envelope, content from evidence_items
      where workspace_id = ${workspaceId} and leaf_index >= ${start} and leaf_index < ${end}
      order by leaf_index`.execute(trx);
    return { records: rows[0]?.data ?? Buffer.alloc(0), recordHeader: dataRowHeaderSize };
  }
  const { rows } = await sql<CopiedRows>`${sql.raw(copyBinaryMarker)}
    copy (select leaf_index, erased, leaf_hash, envelope, content from evidence_items
          where workspace_id = ${workspaceId} and leaf_index >= ${start} and leaf_index < ${end}
          order by leaf_index) to stdout (format binary)`.execute(trx);
  return { records: rows[0]?.data ?? Buffer.alloc(0), recordHeader: 0 };
}

/** The highest leaf index stored for the workspace (-1 for none): one step down the primary key. */
export async function maxLeafIndex(trx: Trx, workspaceId: string): Promise<number> {
  const row = await trx
    .selectFrom('evidence_items')
    .select(sql<number | null>`max(leaf_index)`.as('max_leaf'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return row?.max_leaf === null || row?.max_leaf === undefined ? -1 : Number(row.max_leaf);
}

export async function countItems(trx: Trx, workspaceId: string): Promise<{ count: number; maxLeaf: number }> {
  const row = await trx
    .selectFrom('evidence_items')
    .select([
      sql<number>`count(*)::bigint`.as('count'),
      sql<number>`coalesce(max(leaf_index), -1)`.as('max_leaf'),
    ])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), maxLeaf: Number(row.max_leaf) };
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

export interface CheckpointRow {
  tree_size: number;
  root_hash: string;
  issued_at: Date;
  key_id: string;
  body: string;
  signature: string;
}

export async function listCheckpointRows(trx: Trx, workspaceId: string): Promise<CheckpointRow[]> {
  return trx
    .selectFrom('evidence_checkpoints')
    .select(['tree_size', 'root_hash', 'issued_at', 'key_id', 'body', 'signature'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('tree_size')
    .execute() as Promise<CheckpointRow[]>;
}

export async function latestCheckpointRow(trx: Trx, workspaceId: string): Promise<CheckpointRow | undefined> {
  return trx
    .selectFrom('evidence_checkpoints')
    .select(['tree_size', 'root_hash', 'issued_at', 'key_id', 'body', 'signature'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('tree_size', 'desc')
    .limit(1)
    .executeTakeFirst() as Promise<CheckpointRow | undefined>;
}

export async function findCheckpointRow(
  trx: Trx,
  workspaceId: string,
  treeSize: number,
): Promise<CheckpointRow | undefined> {
  return trx
    .selectFrom('evidence_checkpoints')
    .select(['tree_size', 'root_hash', 'issued_at', 'key_id', 'body', 'signature'])
    .where('workspace_id', '=', workspaceId)
    .where('tree_size', '=', treeSize)
    .executeTakeFirst() as Promise<CheckpointRow | undefined>;
}

/** The first checkpoint that covers a leaf (its tree holds more leaves than the index). */
export async function firstCheckpointCovering(
  trx: Trx,
  workspaceId: string,
  leafIndex: number,
): Promise<CheckpointRow | undefined> {
  return trx
    .selectFrom('evidence_checkpoints')
    .select(['tree_size', 'root_hash', 'issued_at', 'key_id', 'body', 'signature'])
    .where('workspace_id', '=', workspaceId)
    .where('tree_size', '>', leafIndex)
    .orderBy('tree_size')
    .limit(1)
    .executeTakeFirst() as Promise<CheckpointRow | undefined>;
}

export async function insertCheckpointRow(trx: Trx, workspaceId: string, row: CheckpointRow): Promise<void> {
  await trx
    .insertInto('evidence_checkpoints')
    .values({ workspace_id: workspaceId, ...row })
    .execute();
}
