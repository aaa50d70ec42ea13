import { Type } from 'typebox';
import { DateTime, iso, Nullable } from '../shared/http.ts';
import { currentAssurance } from './assurance.ts';
import type { VendorCuecRow, VendorDocumentRow, VendorReviewRow, VendorRow } from './vendors.repository.ts';

export const VendorSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    service: Type.String(),
    dataAccessed: Type.Array(Type.String()),
    criticality: Type.String(),
    inScope: Type.Boolean(),
    owner: Nullable(Type.String()),
    contractStart: Nullable(DateTime),
    contractEnd: Nullable(DateTime),
    status: Type.String(),
    reviewCadenceDays: Type.Integer(),
    lastReviewedAt: Nullable(DateTime),
    assurance: Type.Object({
      state: Type.String({ description: 'current, warning, stale or none' }),
      documentId: Nullable(Type.String()),
      kind: Nullable(Type.String()),
      periodEnd: Nullable(DateTime),
      staleFrom: Nullable(DateTime),
    }),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Vendor' },
);

export const VendorDocumentSchema = Type.Object(
  {
    id: Type.String(),
    vendorId: Type.String(),
    kind: Type.String(),
    periodStart: Nullable(DateTime),
    periodEnd: DateTime,
    auditor: Type.String(),
    opinion: Nullable(Type.String()),
    exceptionsNoted: Type.Boolean(),
    exceptionsSummary: Type.String(),
    categories: Type.Array(Type.String()),
    services: Type.Array(Type.String()),
    subserviceOrganizations: Type.Array(Type.Object({ name: Type.String(), method: Type.String() })),
    equivalentToReport: Type.Boolean({ description: 'false for a bridging letter' }),
    receivedAt: DateTime,
    reviewedBy: Nullable(Type.String()),
    reviewedAt: Nullable(DateTime),
    notes: Type.String(),
    reportSha256: Nullable(Type.String()),
    evidenceId: Nullable(Type.String()),
    cuecs: Type.Array(
      Type.Object({ reference: Type.String(), description: Type.String(), control: Nullable(Type.String()) }),
    ),
  },
  { $id: 'VendorDocument' },
);

export const VendorReviewSchema = Type.Object({
  id: Type.String(),
  reviewedAt: DateTime,
  reviewer: Type.String(),
  outcome: Type.String(),
  notes: Type.String(),
  evidenceId: Nullable(Type.String()),
});

export function presentVendor(row: VendorRow, documents: VendorDocumentRow[], asOf: Date) {
  const current = currentAssurance(
    documents.filter((d) => d.vendor_id === row.id),
    asOf,
  );
  return {
    id: row.id,
    name: row.name,
    service: row.service,
    dataAccessed: row.data_accessed,
    criticality: row.criticality,
    inScope: row.in_scope,
    owner: row.owner,
    contractStart: iso(row.contract_start),
    contractEnd: iso(row.contract_end),
    status: row.status,
    reviewCadenceDays: row.review_cadence_days,
    lastReviewedAt: iso(row.last_reviewed_at),
    assurance: {
      state: current.state,
      documentId: current.document?.id ?? null,
      kind: current.document?.kind ?? null,
      periodEnd: iso(current.document?.period_end),
      staleFrom: iso(current.window?.staleFrom),
    },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function presentDocument(doc: VendorDocumentRow, cuecs: VendorCuecRow[]) {
  return {
    id: doc.id,
    vendorId: doc.vendor_id,
    kind: doc.kind,
    periodStart: iso(doc.period_start),
    periodEnd: doc.period_end.toISOString(),
    auditor: doc.auditor,
    opinion: doc.opinion,
    exceptionsNoted: doc.exceptions_noted,
    exceptionsSummary: doc.exceptions_summary,
    categories: doc.categories,
    services: doc.services,
    subserviceOrganizations: doc.subservice_organizations,
    equivalentToReport: doc.kind !== 'bridging_letter',
    receivedAt: doc.received_at.toISOString(),
    reviewedBy: doc.reviewed_by,
    reviewedAt: iso(doc.reviewed_at),
    notes: doc.notes,
    reportSha256: doc.blob_sha256,
    evidenceId: doc.evidence_id,
    cuecs: cuecs
      .filter((c) => c.document_id === doc.id)
      .map((c) => ({ reference: c.reference, description: c.description, control: c.control_id })),
  };
}

export function presentReview(row: VendorReviewRow) {
  return {
    id: row.id,
    reviewedAt: row.reviewed_at.toISOString(),
    reviewer: row.reviewer,
    outcome: row.outcome,
    notes: row.notes,
    evidenceId: row.evidence_id,
  };
}
