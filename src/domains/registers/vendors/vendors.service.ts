/**
 * The vendor register (CC9.2): the inventory, each vendor's assurance documents with their
 * complementary user entity controls, and the periodic vendor reviews. Every record is evidence.
 */
import type { Database, Trx } from '../../../db/database.ts';
import { AssayError } from '../../../errors.ts';
import type { Actor } from '../../audit/actor.ts';
import { recordSignificantChange } from '../risks/significant-changes.ts';
import {
  appendRegisterEvidence,
  audit,
  notFound,
  type RegisterContext,
  readContext,
  registerContext,
  requireControls,
  type WriteOptions,
} from '../shared/context.ts';
import { evaluateRegister } from '../shared/evaluate.ts';
import {
  completeRegisterTasks,
  listRegisterTasks,
  openRegisterTask,
} from '../shared/registers.repository.ts';
import {
  addDays,
  bool,
  integer,
  invalid,
  isoDay,
  list,
  oneOf,
  optionalInstant,
  optionalOneOf,
  optionalText,
  patch,
  prose,
  text,
} from '../shared/values.ts';
import { assuranceWindow, isReport } from './assurance.ts';
import {
  findDocument,
  findDocumentByKey,
  findVendor,
  insertDocument,
  insertReview,
  insertVendor,
  listCuecRows,
  listDocumentRows,
  listReviewRows,
  listVendorRows,
  replaceCuecs,
  updateDocumentRow,
  updateVendorRow,
  type VendorCuecRow,
  type VendorDocumentRow,
  type VendorRow,
} from './vendors.repository.ts';
import type { Opinion, SubserviceOrganization, VendorDocumentKind } from './vendors.tables.ts';

/** The monitors the vendor register feeds. */
export const vendorChecks = [
  'vendor.report_stale',
  'vendor.opinion_qualified',
  'vendor.cuec_unmapped',
] as const;

export const criticalities = ['low', 'medium', 'high', 'critical'] as const;
export const documentKinds = ['soc2_type1', 'soc2_type2', 'iso27001', 'bridging_letter'] as const;
export const opinions = ['unqualified', 'qualified', 'adverse', 'disclaimer'] as const;
export const reviewOutcomes = ['approved', 'approved_with_conditions', 'rejected'] as const;
export const trustCategories = [
  'security',
  'availability',
  'confidentiality',
  'processing_integrity',
  'privacy',
] as const;

// --- inventory --------------------------------------------------------------------------------

export interface VendorInput {
  name?: unknown;
  service?: unknown;
  dataAccessed?: unknown;
  criticality?: unknown;
  inScope?: unknown;
  owner?: unknown;
  contractStart?: unknown;
  contractEnd?: unknown;
  status?: unknown;
  reviewCadenceDays?: unknown;
}

export interface VendorValues {
  name?: string;
  service?: string;
  dataAccessed?: string[];
  criticality?: (typeof criticalities)[number];
  inScope?: boolean;
  owner?: string | null;
  contractStart?: Date | null;
  contractEnd?: Date | null;
  status?: 'active' | 'offboarded';
  reviewCadenceDays?: number;
}

/** Checks the fields given; `create` also requires the name and criticality. */
export function normalizeVendor(input: VendorInput, mode: 'create' | 'update'): VendorValues {
  const values: VendorValues = {
    name: patch(input.name, (v) => text('name', v)),
    service: patch(input.service, (v) => prose('service', v, 2000)),
    dataAccessed: patch(input.dataAccessed, (v) => list('dataAccessed', v)),
    criticality: patch(input.criticality, (v) => oneOf('criticality', v, criticalities)),
    inScope: patch(input.inScope, (v) => bool('inScope', v, true)),
    owner: patch(input.owner, (v) => optionalText('owner', v)),
    contractStart: patch(input.contractStart, (v) => optionalInstant('contractStart', v)),
    contractEnd: patch(input.contractEnd, (v) => optionalInstant('contractEnd', v)),
    status: patch(input.status, (v) => oneOf('status', v, ['active', 'offboarded'] as const)),
    reviewCadenceDays: patch(input.reviewCadenceDays, (v) => integer('reviewCadenceDays', v, 1, 3660)),
  };
  if (mode === 'create') {
    if (values.name === undefined) text('name', undefined);
    if (values.criticality === undefined) oneOf('criticality', undefined, criticalities);
  }
  if (values.contractStart && values.contractEnd && values.contractEnd < values.contractStart) {
    invalid('contractEnd', 'must not be before contractStart');
  }
  return values;
}

function inventoryEvidence(ctx: RegisterContext, row: VendorRow, change: 'added' | 'updated') {
  return {
    kind: 'vendor.inventory_entry',
    controls: ['VEN-01', ...(change === 'added' ? ['VEN-02'] : [])],
    criteria: ['CC9.2'],
    subject: { type: 'vendor', id: row.id, name: row.name },
    effectiveAt: ctx.now,
    content: { change, vendor: vendorContent(row) },
  };
}

function vendorContent(row: VendorRow) {
  return {
    name: row.name,
    service: row.service,
    dataAccessed: row.data_accessed,
    criticality: row.criticality,
    inScope: row.in_scope,
    owner: row.owner,
    contractStart: row.contract_start ? isoDay(row.contract_start) : null,
    contractEnd: row.contract_end ? isoDay(row.contract_end) : null,
    status: row.status,
    reviewCadenceDays: row.review_cadence_days,
  };
}

async function openReviewTask(trx: Trx, ctx: RegisterContext, vendor: VendorRow, dueAt: Date) {
  if (vendor.status !== 'active' || !vendor.in_scope) return;
  await openRegisterTask(trx, {
    workspaceId: ctx.workspaceId,
    kind: 'vendor_review',
    key: `vendor:${vendor.id}`,
    title: `Review vendor ${vendor.name}: assurance report, exceptions and complementary controls`,
    assignee: vendor.owner,
    dueAt,
    createdAt: ctx.now,
    details: { vendorId: vendor.id, vendor: vendor.name },
  });
}

export async function createVendorIn(trx: Trx, ctx: RegisterContext, values: VendorValues) {
  if (await findVendor(trx, ctx.workspaceId, values.name!)) {
    throw new AssayError(
      'register_record_exists',
      `vendor "${values.name}" already exists in "${ctx.slug}"`,
      {
        field: 'name',
      },
    );
  }
  const inserted = await insertVendor(trx, {
    workspace_id: ctx.workspaceId,
    name: values.name!,
    service: values.service ?? '',
    data_accessed: values.dataAccessed ?? [],
    criticality: values.criticality!,
    in_scope: values.inScope ?? true,
    owner: values.owner ?? null,
    contract_start: values.contractStart ?? null,
    contract_end: values.contractEnd ?? null,
    status: values.status ?? 'active',
    review_cadence_days: values.reviewCadenceDays ?? 365,
    created_at: ctx.now,
    updated_at: ctx.now,
  });
  await appendRegisterEvidence(trx, ctx, [inventoryEvidence(ctx, inserted, 'added')]);
  await audit(trx, ctx, 'vendor.created', 'vendor', inserted.id, { name: inserted.name });
  // Due diligence before onboarding (VEN-02): the first review is due within 30 days.
  await openReviewTask(trx, ctx, inserted, addDays(ctx.now, 30));
  if (inserted.in_scope) await newVendorIsSignificant(trx, ctx, inserted);
  return inserted;
}

/** A new in-scope vendor is a significant change: the risk assessment must consider it (CC3.4). */
async function newVendorIsSignificant(trx: Trx, ctx: RegisterContext, vendor: VendorRow) {
  await recordSignificantChange(trx, ctx, {
    kind: 'new_vendor',
    sourceKey: `vendor:${vendor.id}`,
    description: `New in-scope vendor ${vendor.name} (${vendor.criticality} criticality${vendor.data_accessed.length > 0 ? `, accesses ${vendor.data_accessed.join(', ')}` : ''})`,
  });
}

export async function updateVendorIn(
  trx: Trx,
  ctx: RegisterContext,
  current: VendorRow,
  values: VendorValues,
) {
  if (values.name !== undefined && values.name.toLowerCase() !== current.name.toLowerCase()) {
    if (await findVendor(trx, ctx.workspaceId, values.name)) {
      throw new AssayError(
        'register_record_exists',
        `vendor "${values.name}" already exists in "${ctx.slug}"`,
        {
          field: 'name',
        },
      );
    }
  }
  const start = values.contractStart !== undefined ? values.contractStart : current.contract_start;
  const end = values.contractEnd !== undefined ? values.contractEnd : current.contract_end;
  if (start && end && end < start) invalid('contractEnd', 'must not be before contractStart');
  const next = {
    name: values.name ?? current.name,
    service: values.service ?? current.service,
    data_accessed: values.dataAccessed ?? current.data_accessed,
    criticality: values.criticality ?? current.criticality,
    in_scope: values.inScope ?? current.in_scope,
    owner: values.owner !== undefined ? values.owner : current.owner,
    contract_start: start,
    contract_end: end,
    status: values.status ?? current.status,
    review_cadence_days: values.reviewCadenceDays ?? current.review_cadence_days,
  };
  const before = JSON.stringify(vendorContent(current));
  const updated = { ...current, ...next };
  if (JSON.stringify(vendorContent(updated)) === before) return { row: current, changed: false };
  const row = await updateVendorRow(trx, ctx.workspaceId, current.id, { ...next, updated_at: ctx.now });
  await appendRegisterEvidence(trx, ctx, [inventoryEvidence(ctx, row, 'updated')]);
  await audit(trx, ctx, 'vendor.updated', 'vendor', row.id, {
    before: JSON.parse(before),
    after: vendorContent(row),
  });
  if (row.in_scope && !current.in_scope) await newVendorIsSignificant(trx, ctx, row);
  if (row.status === 'offboarded' && current.status !== 'offboarded') {
    await completeRegisterTasks(trx, ctx.workspaceId, 'vendor_review', `vendor:${row.id}`, ctx.now);
  }
  return { row, changed: true };
}

export async function requireVendor(trx: Trx, ctx: RegisterContext, ref: string) {
  return (await findVendor(trx, ctx.workspaceId, ref)) ?? notFound('vendor', ref, ctx);
}

export async function createVendor(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: VendorInput,
  options: WriteOptions = {},
) {
  const values = normalizeVendor(input, 'create');
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const row = await database.inWorkspace(ctx.workspaceId, (trx) => createVendorIn(trx, ctx, values));
  await evaluateRegister(database, ctx, vendorChecks, options.evaluate);
  return row;
}

export async function updateVendor(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  vendorRef: string,
  input: VendorInput,
  options: WriteOptions = {},
) {
  const values = normalizeVendor(input, 'update');
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const { row } = await database.inWorkspace(ctx.workspaceId, async (trx) =>
    updateVendorIn(trx, ctx, await requireVendor(trx, ctx, vendorRef), values),
  );
  await evaluateRegister(database, ctx, vendorChecks, options.evaluate);
  return row;
}

// --- assurance documents ----------------------------------------------------------------------

export interface CuecInput {
  reference?: unknown;
  description?: unknown;
  control?: unknown;
}

export interface DocumentInput {
  kind?: unknown;
  periodStart?: unknown;
  periodEnd?: unknown;
  auditor?: unknown;
  opinion?: unknown;
  exceptionsNoted?: unknown;
  exceptionsSummary?: unknown;
  categories?: unknown;
  services?: unknown;
  subserviceOrganizations?: unknown;
  receivedAt?: unknown;
  reviewedBy?: unknown;
  reviewedAt?: unknown;
  notes?: unknown;
  reportSha256?: unknown;
  cuecs?: unknown;
}

export interface DocumentValues {
  kind: VendorDocumentKind;
  periodStart: Date | null;
  periodEnd: Date;
  auditor: string;
  opinion: Opinion | null;
  exceptionsNoted: boolean;
  exceptionsSummary: string;
  categories: string[];
  services: string[];
  subserviceOrganizations: SubserviceOrganization[];
  receivedAt: Date | null;
  reviewedBy: string | null;
  reviewedAt: Date | null;
  notes: string;
  reportSha256: string | null;
  cuecs: { reference: string; description: string; controlId: string | null }[] | undefined;
}

const subserviceText = /^(.+?)\s*\((carve[_ -]?out|inclusive)\)$/i;

/** Subservice organisations as a list of {name, method} or as text: `AWS (carve_out); Stripe (inclusive)`. */
export function parseSubserviceOrganizations(field: string, value: unknown): SubserviceOrganization[] {
  if (value === undefined || value === null || value === '') return [];
  const items: unknown[] =
    typeof value === 'string' ? value.split(';').filter((s) => s.trim() !== '') : (value as unknown[]);
  if (!Array.isArray(items)) invalid(field, 'must be a list');
  return items.map((item, i) => {
    if (typeof item === 'string') {
      const match = subserviceText.exec(item.trim());
      if (!match)
        invalid(`${field}[${i}]`, `"${item.trim()}" must read "Name (carve_out)" or "Name (inclusive)"`);
      return {
        name: text(`${field}[${i}].name`, match[1]),
        method: match[2]!.toLowerCase().startsWith('carve') ? 'carve_out' : 'inclusive',
      };
    }
    const o = (item ?? {}) as { name?: unknown; method?: unknown };
    return {
      name: text(`${field}[${i}].name`, o.name),
      method: oneOf(`${field}[${i}].method`, o.method, ['carve_out', 'inclusive'] as const),
    };
  });
}

export function formatSubserviceOrganizations(orgs: SubserviceOrganization[]): string {
  return orgs.map((o) => `${o.name} (${o.method})`).join('; ');
}

export function normalizeCuecs(field: string, value: unknown) {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) invalid(field, 'must be a list of {reference, description, control}');
  const seen = new Set<string>();
  return value.map((item: CuecInput, i) => {
    const reference = text(`${field}[${i}].reference`, item?.reference, 60);
    if (seen.has(reference.toLowerCase()))
      invalid(`${field}[${i}].reference`, `"${reference}" appears twice`);
    seen.add(reference.toLowerCase());
    return {
      reference,
      description: text(`${field}[${i}].description`, item?.description, 4000),
      controlId: optionalText(`${field}[${i}].control`, item?.control, 40)?.toUpperCase() ?? null,
    };
  });
}

export function normalizeDocument(input: DocumentInput): DocumentValues {
  const kind = oneOf('kind', input.kind, documentKinds);
  const report = isReport(kind);
  const periodStart = optionalInstant('periodStart', input.periodStart);
  const periodEnd = optionalInstant('periodEnd', input.periodEnd) ?? invalid('periodEnd', 'is required');
  if (periodStart && periodStart > periodEnd) invalid('periodStart', 'must not be after periodEnd');
  if (kind === 'soc2_type2' && !periodStart)
    invalid('periodStart', 'a Type II report covers a period: give its start');
  const opinion = optionalOneOf('opinion', input.opinion, opinions);
  if (report && !opinion)
    invalid('opinion', `a SOC 2 report states an opinion: one of ${opinions.join(', ')}`);
  if (!report && opinion)
    invalid('opinion', `only a SOC 2 report carries an auditor's opinion, not a ${kind}`);
  const auditor = prose('auditor', input.auditor, 200);
  if (kind !== 'bridging_letter' && auditor === '')
    invalid('auditor', 'name the audit firm or certification body');
  const categories = list('categories', input.categories).map((c) => c.toLowerCase().replace(/[ -]/g, '_'));
  categories.forEach((c, i) => {
    oneOf(`categories[${i}]`, c, trustCategories);
  });
  const reportSha256 = optionalText('reportSha256', input.reportSha256, 64)?.toLowerCase() ?? null;
  if (reportSha256 && !/^[0-9a-f]{64}$/.test(reportSha256))
    invalid('reportSha256', 'must be 64 hex characters');
  const cuecs = normalizeCuecs('cuecs', input.cuecs);
  if (cuecs && cuecs.length > 0 && !report)
    invalid('cuecs', 'only a SOC 2 report lists complementary user entity controls');
  return {
    kind,
    periodStart,
    periodEnd,
    auditor,
    opinion,
    exceptionsNoted: bool('exceptionsNoted', input.exceptionsNoted, false),
    exceptionsSummary: prose('exceptionsSummary', input.exceptionsSummary),
    categories,
    services: list('services', input.services),
    subserviceOrganizations: parseSubserviceOrganizations(
      'subserviceOrganizations',
      input.subserviceOrganizations,
    ),
    receivedAt: optionalInstant('receivedAt', input.receivedAt),
    reviewedBy: optionalText('reviewedBy', input.reviewedBy),
    reviewedAt: optionalInstant('reviewedAt', input.reviewedAt),
    notes: prose('notes', input.notes),
    reportSha256,
    cuecs,
  };
}

const evidenceKindOf: Record<VendorDocumentKind, string> = {
  soc2_type1: 'vendor.soc2_report',
  soc2_type2: 'vendor.soc2_report',
  iso27001: 'vendor.iso27001_certificate',
  bridging_letter: 'vendor.bridging_letter',
};

export function documentContent(doc: VendorDocumentRow, cuecs: VendorCuecRow[]) {
  return {
    kind: doc.kind,
    periodStart: doc.period_start ? isoDay(doc.period_start) : null,
    periodEnd: isoDay(doc.period_end),
    auditor: doc.auditor,
    opinion: doc.opinion,
    exceptionsNoted: doc.exceptions_noted,
    exceptionsSummary: doc.exceptions_summary,
    categories: doc.categories,
    services: doc.services,
    subserviceOrganizations: doc.subservice_organizations,
    receivedAt: doc.received_at.toISOString(),
    reviewedBy: doc.reviewed_by,
    reviewedAt: doc.reviewed_at?.toISOString() ?? null,
    notes: doc.notes,
    reportSha256: doc.blob_sha256,
    // A bridging letter only covers the gap after a report: it is not assurance on its own.
    equivalentToReport: doc.kind !== 'bridging_letter',
    cuecs: cuecs.map((c) => ({ reference: c.reference, description: c.description, control: c.control_id })),
  };
}

export async function documentEvidence(
  trx: Trx,
  ctx: RegisterContext,
  vendor: VendorRow,
  doc: VendorDocumentRow,
  cuecs: VendorCuecRow[],
) {
  const window = assuranceWindow(doc);
  const [evidenceId] = await appendRegisterEvidence(trx, ctx, [
    {
      kind: evidenceKindOf[doc.kind],
      controls: ['VEN-03'],
      criteria: ['CC9.2'],
      subject: { type: 'vendor', id: vendor.id, name: vendor.name },
      effectiveAt: doc.received_at,
      staleAfter: window?.staleFrom ?? null,
      content: { vendor: vendor.name, document: documentContent(doc, cuecs) },
    },
  ]);
  return updateDocumentRow(trx, ctx.workspaceId, doc.id, { evidence_id: evidenceId ?? null });
}

/** Adds a document, or (same vendor, kind and period end) corrects the one on file. */
export async function upsertDocumentIn(
  trx: Trx,
  ctx: RegisterContext,
  vendor: VendorRow,
  values: DocumentValues,
) {
  const cuecControls = (values.cuecs ?? []).map((c) => c.controlId).filter((c): c is string => c !== null);
  await requireControls(trx, ctx, 'cuecs.control', [...new Set(cuecControls)]);
  const existing = await findDocumentByKey(trx, ctx.workspaceId, vendor.id, values.kind, values.periodEnd);
  const fields = {
    period_start: values.periodStart,
    auditor: values.auditor,
    opinion: values.opinion,
    exceptions_noted: values.exceptionsNoted,
    exceptions_summary: values.exceptionsSummary,
    categories: values.categories,
    services: values.services,
    subservice_organizations: JSON.stringify(values.subserviceOrganizations),
    reviewed_by: values.reviewedBy,
    reviewed_at: values.reviewedAt,
    notes: values.notes,
    blob_sha256: values.reportSha256,
  };
  if (existing) {
    const cuecsBefore = await listCuecRows(trx, ctx.workspaceId, [existing.id]);
    const candidate = {
      ...existing,
      ...fields,
      subservice_organizations: values.subserviceOrganizations,
      received_at: values.receivedAt ?? existing.received_at,
    };
    const nextCuecs =
      values.cuecs?.map((c) => ({ ...c, control_id: c.controlId })) ??
      cuecsBefore.map((c) => ({
        reference: c.reference,
        description: c.description,
        control_id: c.control_id,
      }));
    const same =
      JSON.stringify(documentContent(existing, cuecsBefore)) ===
      JSON.stringify(documentContent(candidate, nextCuecs as VendorCuecRow[]));
    if (same) return { document: existing, cuecs: cuecsBefore, created: false, changed: false };
    const row = await updateDocumentRow(trx, ctx.workspaceId, existing.id, {
      ...fields,
      received_at: candidate.received_at,
      updated_at: ctx.now,
    });
    const cuecs = values.cuecs ? await replaceCuecs(trx, ctx.workspaceId, row.id, values.cuecs) : cuecsBefore;
    const withEvidence = await documentEvidence(trx, ctx, vendor, row, cuecs);
    await audit(trx, ctx, 'vendor.document_corrected', 'vendor_document', row.id, {
      vendor: vendor.name,
      kind: row.kind,
    });
    return { document: withEvidence, cuecs, created: false, changed: true };
  }
  const row = await insertDocument(trx, {
    workspace_id: ctx.workspaceId,
    vendor_id: vendor.id,
    kind: values.kind,
    period_end: values.periodEnd,
    received_at: values.receivedAt ?? ctx.now,
    ...fields,
    created_at: ctx.now,
    updated_at: ctx.now,
  });
  const cuecs = await replaceCuecs(trx, ctx.workspaceId, row.id, values.cuecs ?? []);
  const withEvidence = await documentEvidence(trx, ctx, vendor, row, cuecs);
  await audit(trx, ctx, 'vendor.document_added', 'vendor_document', row.id, {
    vendor: vendor.name,
    kind: row.kind,
    periodEnd: isoDay(row.period_end),
  });
  return { document: withEvidence, cuecs, created: true, changed: true };
}

export async function addVendorDocument(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  vendorRef: string,
  input: DocumentInput,
  options: WriteOptions = {},
) {
  const values = normalizeDocument(input);
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const result = await database.inWorkspace(ctx.workspaceId, async (trx) =>
    upsertDocumentIn(trx, ctx, await requireVendor(trx, ctx, vendorRef), values),
  );
  await evaluateRegister(database, ctx, vendorChecks, options.evaluate);
  return result;
}

/** Maps (or unmaps, with null) one CUEC of a document to one of our controls. */
export async function mapCuec(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  vendorRef: string,
  documentId: string,
  reference: string,
  control: string | null,
  options: WriteOptions = {},
) {
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const controlId = control === null ? null : text('control', control, 40).toUpperCase();
  const result = await database.inWorkspace(ctx.workspaceId, async (trx) => {
    const vendor = await requireVendor(trx, ctx, vendorRef);
    const doc =
      (await findDocument(trx, ctx.workspaceId, vendor.id, documentId)) ??
      notFound('document', documentId, ctx);
    const cuecs = await listCuecRows(trx, ctx.workspaceId, [doc.id]);
    const target = cuecs.find((c) => c.reference.toLowerCase() === reference.trim().toLowerCase());
    if (!target) notFound(`CUEC of document ${doc.id}`, reference, ctx);
    if (controlId) await requireControls(trx, ctx, 'control', [controlId]);
    const next = cuecs.map((c) => ({
      reference: c.reference,
      description: c.description,
      controlId: c.id === target.id ? controlId : c.control_id,
    }));
    const rows = await replaceCuecs(trx, ctx.workspaceId, doc.id, next);
    const withEvidence = await documentEvidence(trx, ctx, vendor, doc, rows);
    await audit(trx, ctx, 'vendor.cuec_mapped', 'vendor_document', doc.id, {
      reference: target.reference,
      control: controlId,
    });
    return { document: withEvidence, cuecs: rows };
  });
  await evaluateRegister(database, ctx, vendorChecks, options.evaluate);
  return result;
}

// --- reviews ----------------------------------------------------------------------------------

export interface ReviewInput {
  reviewedAt?: unknown;
  reviewer?: unknown;
  outcome?: unknown;
  notes?: unknown;
}

export async function recordVendorReview(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  vendorRef: string,
  input: ReviewInput,
  options: WriteOptions = {},
) {
  const reviewer = text('reviewer', input.reviewer);
  const outcome = oneOf('outcome', input.outcome, reviewOutcomes);
  const notes = prose('notes', input.notes);
  const reviewedAtGiven = optionalInstant('reviewedAt', input.reviewedAt);
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const reviewedAt = reviewedAtGiven ?? ctx.now;
  const review = await database.inWorkspace(ctx.workspaceId, async (trx) => {
    const vendor = await requireVendor(trx, ctx, vendorRef);
    const docs = await listDocumentRows(trx, ctx.workspaceId, { vendorId: vendor.id, asOf: reviewedAt });
    const [evidenceId] = await appendRegisterEvidence(trx, ctx, [
      {
        kind: 'vendor.review',
        controls: ['VEN-03', 'VEN-07'],
        criteria: ['CC9.2', 'CC4.1'],
        subject: { type: 'vendor', id: vendor.id, name: vendor.name },
        effectiveAt: reviewedAt,
        staleAfter: addDays(reviewedAt, vendor.review_cadence_days),
        content: {
          vendor: vendor.name,
          reviewer,
          outcome,
          notes,
          documentsConsidered: docs.map((d) => ({
            kind: d.kind,
            periodEnd: isoDay(d.period_end),
            evidenceId: d.evidence_id,
          })),
        },
      },
    ]);
    const row = await insertReview(trx, {
      workspace_id: ctx.workspaceId,
      vendor_id: vendor.id,
      reviewed_at: reviewedAt,
      reviewer,
      outcome,
      notes,
      evidence_id: evidenceId ?? null,
      created_at: ctx.now,
    });
    const latest =
      vendor.last_reviewed_at && vendor.last_reviewed_at > reviewedAt ? vendor.last_reviewed_at : reviewedAt;
    const updated = await updateVendorRow(trx, ctx.workspaceId, vendor.id, {
      last_reviewed_at: latest,
      updated_at: ctx.now,
    });
    await completeRegisterTasks(trx, ctx.workspaceId, 'vendor_review', `vendor:${vendor.id}`, ctx.now);
    // The annual review: the next one is due a cadence after this one.
    await openReviewTask(trx, ctx, updated, addDays(latest, vendor.review_cadence_days));
    await audit(trx, ctx, 'vendor.reviewed', 'vendor', vendor.id, { outcome, reviewer });
    return row;
  });
  await evaluateRegister(database, ctx, vendorChecks, options.evaluate);
  return review;
}

// --- reads ------------------------------------------------------------------------------------

export async function listVendors(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const [vendors, documents] = await Promise.all([
      listVendorRows(trx, ctx.workspaceId),
      listDocumentRows(trx, ctx.workspaceId),
    ]);
    const cuecs = await listCuecRows(trx, ctx.workspaceId);
    return { vendors, documents, cuecs, asOf: ctx.now };
  });
}

export async function getVendor(database: Database, workspaceRef: string, vendorRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const vendor = await requireVendor(trx, ctx, vendorRef);
    const documents = await listDocumentRows(trx, ctx.workspaceId, { vendorId: vendor.id });
    const cuecs = await listCuecRows(
      trx,
      ctx.workspaceId,
      documents.map((d) => d.id),
    );
    const reviews = await listReviewRows(trx, ctx.workspaceId, vendor.id);
    const tasks = (await listRegisterTasks(trx, ctx.workspaceId, 'vendor_review')).filter(
      (t) => (t.details as { vendorId?: string }).vendorId === vendor.id,
    );
    return { vendor, documents, cuecs, reviews, tasks, asOf: ctx.now };
  });
}
