import type { Insertable, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import type { Trx } from '../../../db/database.ts';
import { isUuid } from '../shared/values.ts';
import type {
  VendorCuecsTable,
  VendorDocumentsTable,
  VendorReviewsTable,
  VendorsTable,
} from './vendors.tables.ts';

export type VendorRow = Selectable<VendorsTable>;
export type VendorDocumentRow = Selectable<VendorDocumentsTable>;
export type VendorCuecRow = Selectable<VendorCuecsTable>;
export type VendorReviewRow = Selectable<VendorReviewsTable>;

export async function listVendorRows(trx: Trx, workspaceId: string, asOf?: Date) {
  let q = trx.selectFrom('vendors').selectAll().where('workspace_id', '=', workspaceId);
  if (asOf) q = q.where('created_at', '<=', asOf);
  return q.orderBy(sql`lower(name)`).execute();
}

export async function findVendor(trx: Trx, workspaceId: string, ref: string) {
  return trx
    .selectFrom('vendors')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) => (isUuid(ref) ? eb('id', '=', ref) : eb(sql`lower(name)`, '=', ref.trim().toLowerCase())))
    .executeTakeFirst();
}

export async function insertVendor(trx: Trx, values: Insertable<VendorsTable>) {
  return trx.insertInto('vendors').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateVendorRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<VendorsTable>,
) {
  return trx
    .updateTable('vendors')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listDocumentRows(
  trx: Trx,
  workspaceId: string,
  options: { vendorId?: string; asOf?: Date } = {},
) {
  let q = trx.selectFrom('vendor_documents').selectAll().where('workspace_id', '=', workspaceId);
  if (options.vendorId) q = q.where('vendor_id', '=', options.vendorId);
  if (options.asOf) q = q.where('received_at', '<=', options.asOf);
  return q.orderBy('vendor_id').orderBy('period_end').orderBy('kind').execute();
}

export async function findDocument(trx: Trx, workspaceId: string, vendorId: string, id: string) {
  if (!isUuid(id)) return undefined;
  return trx
    .selectFrom('vendor_documents')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('vendor_id', '=', vendorId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findDocumentByKey(
  trx: Trx,
  workspaceId: string,
  vendorId: string,
  kind: string,
  periodEnd: Date,
) {
  return trx
    .selectFrom('vendor_documents')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('vendor_id', '=', vendorId)
    .where('kind', '=', kind as VendorDocumentRow['kind'])
    .where('period_end', '=', periodEnd)
    .executeTakeFirst();
}

export async function insertDocument(trx: Trx, values: Insertable<VendorDocumentsTable>) {
  return trx.insertInto('vendor_documents').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateDocumentRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<VendorDocumentsTable>,
) {
  return trx
    .updateTable('vendor_documents')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listCuecRows(trx: Trx, workspaceId: string, documentIds?: string[]) {
  if (documentIds && documentIds.length === 0) return [];
  let q = trx.selectFrom('vendor_cuecs').selectAll().where('workspace_id', '=', workspaceId);
  if (documentIds) q = q.where('document_id', 'in', documentIds);
  return q.orderBy('document_id').orderBy('reference').execute();
}

/** A document's CUEC list is replaced whole: it is one statement in the vendor's report. */
export async function replaceCuecs(
  trx: Trx,
  workspaceId: string,
  documentId: string,
  cuecs: { reference: string; description: string; controlId: string | null }[],
) {
  await trx
    .deleteFrom('vendor_cuecs')
    .where('workspace_id', '=', workspaceId)
    .where('document_id', '=', documentId)
    .execute();
  if (cuecs.length === 0) return [];
  return trx
    .insertInto('vendor_cuecs')
    .values(
      cuecs.map((c) => ({
        workspace_id: workspaceId,
        document_id: documentId,
        reference: c.reference,
        description: c.description,
        control_id: c.controlId,
      })),
    )
    .returningAll()
    .execute();
}

export async function insertReview(trx: Trx, values: Insertable<VendorReviewsTable>) {
  return trx.insertInto('vendor_reviews').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function listReviewRows(trx: Trx, workspaceId: string, vendorId?: string) {
  let q = trx.selectFrom('vendor_reviews').selectAll().where('workspace_id', '=', workspaceId);
  if (vendorId) q = q.where('vendor_id', '=', vendorId);
  return q.orderBy('reviewed_at').orderBy('id').execute();
}
