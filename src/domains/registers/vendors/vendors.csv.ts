/**
 * The CSV form of the vendor register: vendors, their documents and their complementary user
 * entity controls (see docs/registers.md).
 */
import { requireControls } from '../shared/context.ts';
import { type CsvKind, cell, type Input, result } from '../shared/csv.ts';
import { instant, invalid, oneOf, optionalText, text } from '../shared/values.ts';
import {
  findDocumentByKey,
  findVendor,
  listCuecRows,
  listDocumentRows,
  listVendorRows,
  replaceCuecs,
  type VendorDocumentRow,
} from './vendors.repository.ts';
import {
  createVendorIn,
  documentEvidence,
  documentKinds,
  formatSubserviceOrganizations,
  normalizeDocument,
  normalizeVendor,
  updateVendorIn,
  upsertDocumentIn,
  vendorChecks,
} from './vendors.service.ts';

export const vendors: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeVendor> }> = {
  kind: 'vendors',
  register: 'vendors',
  description: 'The vendor inventory.',
  checks: vendorChecks,
  columns: [
    { header: 'name', required: true, description: 'Vendor name (the key; case-insensitive).' },
    { header: 'service', description: 'What the vendor provides.' },
    { header: 'data_accessed', description: 'Data the vendor can access, `;`-separated.' },
    { header: 'criticality', required: 'new', description: 'low, medium, high or critical.' },
    { header: 'in_scope', description: 'true (default) or false: inside the audit boundary.' },
    { header: 'owner', description: 'Who manages the relationship.' },
    { header: 'contract_start', description: 'Date.' },
    { header: 'contract_end', description: 'Date.' },
    { header: 'status', description: 'active (default) or offboarded.' },
    { header: 'review_cadence_days', description: 'Days between vendor reviews (default 365).' },
  ],
  async rows(trx, ctx) {
    return (await listVendorRows(trx, ctx.workspaceId)).map((v) => ({
      name: v.name,
      service: v.service,
      data_accessed: cell.list(v.data_accessed),
      criticality: v.criticality,
      in_scope: cell.bool(v.in_scope),
      owner: cell.text(v.owner),
      contract_start: cell.date(v.contract_start),
      contract_end: cell.date(v.contract_end),
      status: v.status,
      review_cadence_days: cell.int(v.review_cadence_days),
    }));
  },
  parse: (raw) => ({ raw, values: normalizeVendor(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findVendor(trx, ctx.workspaceId, values.name!);
    if (!existing) {
      await createVendorIn(trx, ctx, normalizeVendor(raw, 'create'));
      return 'created';
    }
    return (await updateVendorIn(trx, ctx, existing, values)).changed ? 'updated' : 'unchanged';
  },
};

async function requireVendorNamed(trx: Parameters<CsvKind['apply']>[0], workspaceId: string, name: string) {
  const vendor = await findVendor(trx, workspaceId, name);
  if (!vendor) invalid('vendor', `vendor "${name}" does not exist (import vendors first)`);
  return vendor;
}

export const vendorDocuments: CsvKind<{ vendor: string; values: ReturnType<typeof normalizeDocument> }> = {
  kind: 'vendor-documents',
  register: 'vendors',
  description: "Vendors' SOC 2 reports, ISO 27001 certificates and bridging letters.",
  checks: vendorChecks,
  columns: [
    { header: 'vendor', required: true, description: 'Vendor name.' },
    { header: 'kind', required: true, description: 'soc2_type1, soc2_type2, iso27001 or bridging_letter.' },
    {
      header: 'period_start',
      description: 'Start of the audit period (required for Type II); issue date of a certificate.',
    },
    {
      header: 'period_end',
      required: true,
      description: 'End of the audit period; expiry of a certificate; end of a bridging letter.',
    },
    {
      header: 'auditor',
      description: 'Audit firm or certification body (required except for bridging letters).',
    },
    { header: 'opinion', description: 'SOC 2 only: unqualified, qualified, adverse or disclaimer.' },
    { header: 'exceptions_noted', description: 'true or false.' },
    { header: 'exceptions_summary', description: 'The exceptions the auditor noted.' },
    { header: 'categories', description: 'Trust Services categories covered, `;`-separated.' },
    { header: 'services', description: 'Services covered, `;`-separated.' },
    { header: 'subservice_organizations', description: '`Name (carve_out); Name (inclusive)`.' },
    { header: 'received_at', description: 'When we received it (default: the import time).' },
    { header: 'reviewed_by', description: 'Who reviewed it.' },
    { header: 'reviewed_at', description: 'When.' },
    { header: 'notes', description: 'Review notes.' },
    { header: 'report_sha256', description: 'SHA-256 of the report file uploaded as evidence.' },
  ],
  async rows(trx, ctx) {
    const byId = new Map((await listVendorRows(trx, ctx.workspaceId)).map((v) => [v.id, v.name]));
    return (await listDocumentRows(trx, ctx.workspaceId))
      .map((d) => ({ vendor: byId.get(d.vendor_id) ?? '', ...documentCells(d) }))
      .sort(
        (a, b) =>
          a.vendor.localeCompare(b.vendor) ||
          a.period_end.localeCompare(b.period_end) ||
          a.kind.localeCompare(b.kind),
      );
  },
  parse: (raw) => ({
    vendor: text('vendor', raw.vendor),
    values: normalizeDocument({ ...raw, cuecs: undefined }),
  }),
  async apply(trx, ctx, { vendor, values }) {
    return result(
      await upsertDocumentIn(trx, ctx, await requireVendorNamed(trx, ctx.workspaceId, vendor), values),
    );
  },
};

function documentCells(d: VendorDocumentRow) {
  return {
    kind: d.kind,
    period_start: cell.date(d.period_start),
    period_end: cell.date(d.period_end),
    auditor: d.auditor,
    opinion: cell.text(d.opinion),
    exceptions_noted: cell.bool(d.exceptions_noted),
    exceptions_summary: d.exceptions_summary,
    categories: cell.list(d.categories),
    services: cell.list(d.services),
    subservice_organizations: formatSubserviceOrganizations(d.subservice_organizations),
    received_at: cell.date(d.received_at),
    reviewed_by: cell.text(d.reviewed_by),
    reviewed_at: cell.date(d.reviewed_at),
    notes: d.notes,
    report_sha256: cell.text(d.blob_sha256),
  };
}

interface CuecRow {
  vendor: string;
  kind: VendorDocumentRow['kind'];
  periodEnd: Date;
  reference: string;
  description: string;
  control: string | null;
}

export const vendorCuecs: CsvKind<CuecRow> = {
  kind: 'vendor-cuecs',
  register: 'vendors',
  description:
    "The complementary user entity controls of vendors' SOC 2 reports, each mapped to one of our controls.",
  checks: vendorChecks,
  columns: [
    { header: 'vendor', required: true, description: 'Vendor name.' },
    { header: 'document_kind', required: true, description: 'soc2_type1 or soc2_type2.' },
    { header: 'period_end', required: true, description: "The report's period end (identifies the report)." },
    { header: 'reference', required: true, description: "The CUEC's reference in the report, e.g. CUEC-3." },
    { header: 'description', required: true, description: 'What the vendor expects us to do.' },
    {
      header: 'control',
      description: 'Our control template id that operates it, e.g. AC-03 (empty: unmapped).',
    },
  ],
  async rows(trx, ctx) {
    const vendorsById = new Map((await listVendorRows(trx, ctx.workspaceId)).map((v) => [v.id, v.name]));
    const docs = new Map((await listDocumentRows(trx, ctx.workspaceId)).map((d) => [d.id, d]));
    return (await listCuecRows(trx, ctx.workspaceId))
      .map((c) => {
        const d = docs.get(c.document_id)!;
        return {
          vendor: vendorsById.get(d.vendor_id) ?? '',
          document_kind: d.kind,
          period_end: cell.date(d.period_end),
          reference: c.reference,
          description: c.description,
          control: cell.text(c.control_id),
        };
      })
      .sort(
        (a, b) =>
          a.vendor.localeCompare(b.vendor) ||
          a.period_end.localeCompare(b.period_end) ||
          a.reference.localeCompare(b.reference, undefined, { numeric: true }),
      );
  },
  parse: (raw) => ({
    vendor: text('vendor', raw.vendor),
    kind: oneOf('documentKind', raw.documentKind, documentKinds),
    periodEnd: instant('periodEnd', raw.periodEnd),
    reference: text('reference', raw.reference, 60),
    description: text('description', raw.description, 4000),
    control: optionalText('control', raw.control, 40)?.toUpperCase() ?? null,
  }),
  async apply(trx, ctx, row, batch) {
    const vendor = await requireVendorNamed(trx, ctx.workspaceId, row.vendor);
    const doc = await findDocumentByKey(trx, ctx.workspaceId, vendor.id, row.kind, row.periodEnd);
    if (!doc)
      invalid(
        'periodEnd',
        `${row.vendor} has no ${row.kind} ending ${cell.date(row.periodEnd)} (import vendor-documents first)`,
      );
    if (doc.kind !== 'soc2_type1' && doc.kind !== 'soc2_type2')
      invalid('documentKind', 'only SOC 2 reports list CUECs');
    if (row.control) {
      await requireControls(trx, ctx, 'control', [row.control]);
    }
    const pending = (batch.get(doc.id) as { doc: VendorDocumentRow; rows: CuecRow[] } | undefined) ?? {
      doc,
      rows: [],
    };
    if (pending.rows.some((r) => r.reference.toLowerCase() === row.reference.toLowerCase())) {
      invalid('reference', `"${row.reference}" appears twice for this report`);
    }
    pending.rows.push(row);
    batch.set(doc.id, pending);
    const existing = (await listCuecRows(trx, ctx.workspaceId, [doc.id])).find(
      (c) => c.reference.toLowerCase() === row.reference.toLowerCase(),
    );
    if (!existing) return 'created';
    return existing.description === row.description && existing.control_id === row.control
      ? 'unchanged'
      : 'updated';
  },
  async finish(trx, ctx, batch) {
    // Each report's CUEC list is rewritten once, and recorded once more as evidence if it changed.
    for (const { doc, rows } of batch.values() as IterableIterator<{
      doc: VendorDocumentRow;
      rows: CuecRow[];
    }>) {
      const before = await listCuecRows(trx, ctx.workspaceId, [doc.id]);
      const merged = new Map(
        before.map((c) => [
          c.reference.toLowerCase(),
          { reference: c.reference, description: c.description, controlId: c.control_id },
        ]),
      );
      for (const r of rows)
        merged.set(r.reference.toLowerCase(), {
          reference: r.reference,
          description: r.description,
          controlId: r.control,
        });
      const next = [...merged.values()];
      const same =
        next.length === before.length &&
        next.every((n) =>
          before.some(
            (b) =>
              b.reference === n.reference && b.description === n.description && b.control_id === n.controlId,
          ),
        );
      if (same) continue;
      const cuecs = await replaceCuecs(trx, ctx.workspaceId, doc.id, next);
      const vendor = (await listVendorRows(trx, ctx.workspaceId)).find((v) => v.id === doc.vendor_id)!;
      await documentEvidence(trx, ctx, vendor, doc, cuecs);
    }
  },
};
