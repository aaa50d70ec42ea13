/**
 * A client, whole, out of one Assay and into another: every row of every workspace-owned table,
 * the evidence blobs, the ledger (envelopes copied byte for byte, so every leaf hash and signed
 * checkpoint stays valid) and the public halves of the ledger signing keys, in a zip whose
 * manifest lists each file's SHA-256.
 *
 * What does not move, and why (also listed in the manifest):
 * - ledger private keys: an installation's keys stay sealed where they are. Imported keys are
 *   public-only and retired, so old checkpoints still verify; the new installation signs the
 *   next checkpoint with a fresh key of its own.
 * - rows holding secrets sealed under ASSAY_SECRET_KEY (connector credentials, notification
 *   channels, …): that key differs between installations, so those records are re-entered.
 * - people, memberships and tokens: accounts belong to an installation, not a workspace.
 * - the link to the MSP's template (the template stays with the MSP); overrides are kept.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import yauzl from 'yauzl';
import { ZipFile } from 'yazl';
import type { Database, Trx } from '../../db/database.ts';
import { migrationsFingerprint } from '../../db/migrate.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { FileBlobStore } from '../evidence/core/blob-store.ts';
import { assertReach, type Reach } from '../msp/portfolio.service.ts';
import { findWorkspaceBySlugOrId } from '../workspaces/workspaces.repository.ts';

export const exportFormat = 'assay-workspace-export';
const sealedPrefix = 'assay-secret:v1:';
const withheldKeyMarker = 'withheld:v0:private key stays with the installation that created it';
/** Workspace-owned tables that describe a relationship with another workspace. */
const relationshipTables = new Set(['msp_template_links']);

export interface ExportManifest {
  format: typeof exportFormat;
  version: 1;
  exportedAt: string;
  schema: string;
  workspace: {
    id: string;
    slug: string;
    name: string;
    kind: string;
    catalogVersion: string;
    createdAt: string;
    parent: string | null;
  };
  tables: { table: string; rows: number; file: string }[];
  blobs: string[];
  withheld: { table: string; rows: number; reason: string }[];
  files: Record<string, { sha256: string; size: number }>;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface TablePlan {
  ordered: string[];
  excluded: Map<string, string>;
}

/** Workspace-owned tables in an order that satisfies their foreign keys. */
async function planTables(trx: Trx): Promise<TablePlan> {
  const tables = (
    await sql<{ name: string }>`
      select c.relname as name from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attname = 'workspace_id' and not a.attisdropped
      where c.relkind in ('r', 'p') and not c.relispartition and n.nspname = current_schema()
      order by c.relname`.execute(trx)
  ).rows.map((r) => r.name);
  const fks = (
    await sql<{ from_table: string; to_table: string }>`
      select distinct cf.relname as from_table, ct.relname as to_table
      from pg_constraint k join pg_class cf on cf.oid = k.conrelid join pg_class ct on ct.oid = k.confrelid
      where k.contype = 'f'`.execute(trx)
  ).rows;
  const owned = new Set(tables);
  const excluded = new Map<string, string>();
  for (const t of relationshipTables)
    if (owned.has(t)) excluded.set(t, 'a link to the MSP, which stays behind');
  // A table that refers to something outside the workspace's tables (people, installation data)
  // cannot be recreated elsewhere; nor can one that refers to such a table.
  let changed = true;
  while (changed) {
    changed = false;
    for (const fk of fks) {
      if (!owned.has(fk.from_table) || excluded.has(fk.from_table)) continue;
      if (fk.to_table === 'workspaces' || fk.to_table === fk.from_table) continue;
      if (!owned.has(fk.to_table)) {
        excluded.set(fk.from_table, `refers to ${fk.to_table}, which belongs to the installation`);
        changed = true;
      } else if (excluded.has(fk.to_table)) {
        excluded.set(fk.from_table, `refers to ${fk.to_table}, which does not move`);
        changed = true;
      }
    }
  }
  const included = tables.filter((t) => !excluded.has(t));
  const ordered: string[] = [];
  const placed = new Set<string>();
  while (ordered.length < included.length) {
    const before = ordered.length;
    for (const t of included) {
      if (placed.has(t)) continue;
      const deps = fks.filter((f) => f.from_table === t && f.to_table !== t && included.includes(f.to_table));
      if (deps.every((d) => placed.has(d.to_table))) {
        ordered.push(t);
        placed.add(t);
      }
    }
    if (ordered.length === before) {
      throw new AssayError(
        'internal',
        `workspace tables refer to each other in a cycle: ${included.filter((t) => !placed.has(t)).join(', ')}`,
      );
    }
  }
  return { ordered, excluded };
}

function holdsSealedSecret(row: Record<string, unknown>): boolean {
  return Object.values(row).some((v) => typeof v === 'string' && v.startsWith(sealedPrefix));
}

export async function zipBuffer(files: Map<string, Buffer>): Promise<Buffer> {
  const zip = new ZipFile();
  const mtime = new Date(Date.UTC(2020, 0, 1));
  for (const [path, data] of files) zip.addBuffer(data, path, { mtime, compress: data.length > 1024 });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `assay tenant export SLUG --out FILE.zip`: the zip's bytes and its manifest. */
export async function exportWorkspace(
  database: Database,
  blobStore: FileBlobStore,
  actor: Actor,
  workspaceRef: string,
  reach: Reach,
): Promise<{ zip: Buffer; manifest: ExportManifest }> {
  const workspace = await findWorkspaceBySlugOrId(database.db, workspaceRef);
  if (!workspace)
    throw new AssayError('workspace_not_found', `workspace "${workspaceRef}" does not exist`, {
      field: 'tenant',
    });
  assertReach(reach, workspace, workspaceRef);
  if (workspace.kind === 'msp') {
    throw new AssayError(
      'validation_failed',
      `workspace "${workspace.slug}" is an MSP: export its clients one by one`,
      { field: 'tenant' },
    );
  }
  const files = new Map<string, Buffer>();
  const manifest: ExportManifest = {
    format: exportFormat,
    version: 1,
    exportedAt: new Date().toISOString(),
    schema: migrationsFingerprint(),
    workspace: {
      id: workspace.id,
      slug: workspace.slug,
      name: workspace.name,
      kind: workspace.kind,
      catalogVersion: workspace.catalog_version,
      createdAt: workspace.created_at.toISOString(),
      parent: null,
    },
    tables: [],
    blobs: [],
    withheld: [],
    files: {},
  };
  // One transaction: a consistent picture of the workspace (the ledger and its head agree).
  await database.inSystem(async (trx) => {
    await sql`set transaction isolation level repeatable read`.execute(trx);
    if (workspace.parent_id)
      manifest.workspace.parent = (await findWorkspaceBySlugOrId(trx, workspace.parent_id))?.slug ?? null;
    const plan = await planTables(trx);
    for (const [table, reason] of plan.excluded) {
      const n = await sql<{
        n: number;
      }>`select count(*)::int as n from ${sql.table(table)} where workspace_id = ${workspace.id}`.execute(
        trx,
      );
      const rows = n.rows[0]?.n ?? 0;
      if (rows > 0) manifest.withheld.push({ table, rows, reason });
    }
    const withheldSecrets = new Set<string>();
    for (const table of plan.ordered) {
      const result = await sql<{ rows: Record<string, unknown>[] }>`
        select coalesce(jsonb_agg(to_jsonb(t)), '[]'::jsonb) as rows from ${sql.table(table)} t where workspace_id = ${workspace.id}`.execute(
        trx,
      );
      let rows = result.rows[0]?.rows ?? [];
      if (table === 'evidence_signing_keys') {
        rows = rows.map((r) => ({ ...r, private_key_sealed: withheldKeyMarker }));
      }
      // Sealed secrets cannot be opened elsewhere; the rows holding them are re-entered there.
      if (rows.some(holdsSealedSecret)) {
        withheldSecrets.add(table);
        manifest.withheld.push({
          table,
          rows: rows.length,
          reason: 'holds secrets sealed with this installation’s ASSAY_SECRET_KEY: re-enter them',
        });
        continue;
      }
      if (rows.length === 0) continue;
      const file = `tables/${table}.json`;
      files.set(file, Buffer.from(JSON.stringify(rows)));
      manifest.tables.push({ table, rows: rows.length, file });
    }
    // Children of withheld tables cannot be restored without them.
    const fks = (
      await sql<{ from_table: string; to_table: string }>`
        select distinct cf.relname as from_table, ct.relname as to_table
        from pg_constraint k join pg_class cf on cf.oid = k.conrelid join pg_class ct on ct.oid = k.confrelid
        where k.contype = 'f'`.execute(trx)
    ).rows;
    let changed = true;
    while (changed) {
      changed = false;
      for (const entry of [...manifest.tables]) {
        const dep = fks.find(
          (f) =>
            f.from_table === entry.table && f.to_table !== entry.table && withheldSecrets.has(f.to_table),
        );
        if (!dep) continue;
        withheldSecrets.add(entry.table);
        manifest.tables = manifest.tables.filter((e) => e !== entry);
        files.delete(entry.file);
        manifest.withheld.push({
          table: entry.table,
          rows: entry.rows,
          reason: `refers to ${dep.to_table}, which is re-entered`,
        });
        changed = true;
      }
    }
    const blobs = await trx
      .selectFrom('evidence_blobs')
      .select('sha256')
      .where('workspace_id', '=', workspace.id)
      .orderBy('sha256')
      .execute();
    for (const { sha256: hash } of blobs) {
      if (!(await blobStore.has(hash))) continue; // erased payloads keep only their hash
      const chunks: Buffer[] = [];
      for await (const chunk of blobStore.open(hash) as AsyncIterable<Buffer>) chunks.push(chunk);
      files.set(`blobs/${hash}`, Buffer.concat(chunks));
      manifest.blobs.push(hash);
    }
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'workspace.exported',
      targetType: 'workspace',
      targetId: workspace.id,
      details: {
        tables: manifest.tables.length,
        blobs: manifest.blobs.length,
        withheld: manifest.withheld.map((w) => w.table),
      },
    });
  });
  for (const [path, data] of files) manifest.files[path] = { sha256: sha256(data), size: data.length };
  files.set('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2)));
  return { zip: await zipBuffer(files), manifest };
}

export async function readZip(bytes: Buffer, label: string): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, z) =>
      error || !z
        ? reject(
            new AssayError(
              'package_unreadable',
              `${label} is not a readable zip: ${error?.message ?? 'empty'}`,
            ),
          )
        : resolve(z),
    ),
  );
  const files = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/')) return zip.readEntry();
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream)
          return reject(
            new AssayError('package_unreadable', `${label}: ${entry.fileName}: ${error?.message}`),
          );
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', reject);
        stream.on('end', () => {
          if (files.has(entry.fileName))
            return reject(new AssayError('package_unreadable', `${label}: ${entry.fileName} appears twice`));
          files.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.on('end', () => resolve());
    zip.on('error', (e: Error) => reject(new AssayError('package_unreadable', `${label}: ${e.message}`)));
    zip.readEntry();
  });
  return files;
}

export interface ImportResult {
  workspace: { id: string; slug: string; name: string; parent: string | null };
  tables: { table: string; rows: number }[];
  blobs: number;
  withheld: ExportManifest['withheld'];
  signingKeys: string;
}

/** `assay tenant import FILE.zip`: checks every file against the manifest, then restores it all in one transaction. */
export async function importWorkspace(
  database: Database,
  blobStore: FileBlobStore,
  actor: Actor,
  path: string,
  options: { parent?: string | undefined } = {},
): Promise<ImportResult> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new AssayError('validation_failed', `${path}: cannot read the file`, { field: 'file' });
  }
  const files = await readZip(bytes, path);
  const manifestBytes = files.get('manifest.json');
  if (!manifestBytes)
    throw new AssayError('package_unreadable', `${path}: no manifest.json (not an Assay workspace export)`, {
      file: path,
    });
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8'));
  } catch {
    throw new AssayError('package_unreadable', `${path}: manifest.json is not valid JSON`, {
      file: 'manifest.json',
    });
  }
  if (manifest.format !== exportFormat || manifest.version !== 1) {
    throw new AssayError(
      'package_unreadable',
      `${path}: manifest.json is not an Assay workspace export (version 1)`,
      { file: 'manifest.json' },
    );
  }
  // Every file must match the manifest before anything is written.
  for (const [name, data] of files) {
    if (name === 'manifest.json') continue;
    const listed = manifest.files[name];
    if (!listed)
      throw new AssayError('package_verification_failed', `${path}: ${name} is not listed in the manifest`, {
        file: name,
      });
    if (sha256(data) !== listed.sha256)
      throw new AssayError(
        'package_verification_failed',
        `${path}: ${name} does not match its SHA-256 in the manifest`,
        { file: name },
      );
  }
  for (const name of Object.keys(manifest.files)) {
    if (!files.has(name))
      throw new AssayError(
        'package_verification_failed',
        `${path}: ${name} is listed in the manifest but missing`,
        { file: name },
      );
  }
  const ws = manifest.workspace;
  // Blobs first (content-addressed: storing one twice is harmless, and a failed import leaves only unreferenced blobs).
  for (const hash of manifest.blobs) {
    const data = files.get(`blobs/${hash}`);
    if (!data) continue;
    await blobStore.put(Readable.from([data]), { expectedSha256: hash });
  }
  return database.inSystem(async (trx) => {
    if (await findWorkspaceBySlugOrId(trx, ws.id)) {
      throw new AssayError(
        'workspace_exists',
        `workspace ${ws.id} (${ws.slug}) already exists in this installation`,
        { field: 'file' },
      );
    }
    if (await findWorkspaceBySlugOrId(trx, ws.slug)) {
      throw new AssayError('workspace_exists', `workspace "${ws.slug}" already exists in this installation`, {
        field: 'slug',
      });
    }
    let parentId: string | null = null;
    const parentRef = options.parent;
    if (parentRef !== undefined) {
      const parent = await findWorkspaceBySlugOrId(trx, parentRef);
      if (!parent)
        throw new AssayError('parent_workspace_not_found', `parent workspace "${parentRef}" does not exist`, {
          field: 'parent',
        });
      if (parent.kind !== 'msp')
        throw new AssayError('parent_not_msp', `workspace "${parent.slug}" is not an MSP workspace`, {
          field: 'parent',
        });
      parentId = parent.id;
    }
    // The same id: evidence envelopes name their workspace, and their hashes must not change.
    await sql`insert into workspaces (id, slug, name, kind, parent_id, catalog_version, created_at)
      values (${ws.id}, ${ws.slug}, ${ws.name}, ${ws.kind}, ${parentId}, ${ws.catalogVersion}, ${ws.createdAt})`.execute(
      trx,
    );
    const known = new Set(
      (
        await sql<{
          name: string;
        }>`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.relkind in ('r', 'p') and n.nspname = current_schema()`.execute(trx)
      ).rows.map((r) => r.name),
    );
    const restored: ImportResult['tables'] = [];
    for (const entry of manifest.tables) {
      if (!known.has(entry.table)) {
        throw new AssayError(
          'package_unreadable',
          `${path}: table ${entry.table} does not exist in this installation (upgrade Assay first)`,
          {
            file: entry.file,
          },
        );
      }
      let rows = JSON.parse((files.get(entry.file) as Buffer).toString('utf8')) as Record<string, unknown>[];
      if (entry.table === 'evidence_signing_keys') {
        // Public halves only, all retired: they verify the checkpoints they signed; a new key signs from here.
        const now = new Date().toISOString();
        rows = rows.map((r) => ({
          ...r,
          private_key_sealed: withheldKeyMarker,
          retired_at: r.retired_at ?? now,
        }));
      }
      const columns = (
        await sql<{ name: string; identity: boolean }>`
          select column_name as name, is_identity = 'YES' as identity from information_schema.columns
          where table_schema = current_schema() and table_name = ${entry.table} and is_generated = 'NEVER'
          order by ordinal_position`.execute(trx)
      ).rows;
      const cols = sql.join(columns.map((c) => sql.id(c.name)));
      try {
        await sql`insert into ${sql.table(entry.table)} (${cols}) overriding system value
          select ${cols} from jsonb_populate_recordset(null::${sql.table(entry.table)}, ${JSON.stringify(rows)}::jsonb)`.execute(
          trx,
        );
      } catch (error) {
        throw new AssayError('import_rejected', `${path}: ${entry.file}: ${(error as Error).message}`, {
          file: entry.file,
        });
      }
      for (const c of columns.filter((x) => x.identity)) {
        await sql`select setval(pg_get_serial_sequence(${entry.table}, ${c.name}),
          greatest((select coalesce(max(${sql.id(c.name)}), 0) from ${sql.table(entry.table)}), 1))`.execute(
          trx,
        );
      }
      restored.push({ table: entry.table, rows: rows.length });
    }
    await recordAudit(trx, {
      workspaceId: ws.id,
      actor,
      action: 'workspace.imported',
      targetType: 'workspace',
      targetId: ws.id,
      details: {
        exportedAt: manifest.exportedAt,
        tables: restored.length,
        blobs: manifest.blobs.length,
        withheld: manifest.withheld.map((w) => w.table),
      },
    });
    return {
      workspace: { id: ws.id, slug: ws.slug, name: ws.name, parent: parentRef ?? null },
      tables: restored,
      blobs: manifest.blobs.length,
      withheld: manifest.withheld,
      signingKeys:
        'public keys imported (retired); the next checkpoint is signed with a new key of this installation',
    };
  });
}
