/**
 * The CSV form of every register (documented in docs/registers.md). Lists in a cell are separated
 * by semicolons; dates are `2026-03-31` or ISO 8601 date-times with a zone; booleans are
 * true/false. Rows are matched to records by their natural key (a vendor's name, a risk's
 * reference, a policy's title and version…), so importing an export changes nothing.
 */
import { AssayError } from '../../errors.ts';
import { findChange, listChangeRows } from './changes/changes.repository.ts';
import { changeChecks, changeContent, normalizeChange, upsertChangeIn } from './changes/changes.service.ts';
import { findContinuityTestByKey, listContinuityRows } from './continuity/continuity.repository.ts';
import {
  continuityChecks,
  normalizeContinuity,
  upsertContinuityIn,
} from './continuity/continuity.service.ts';
import {
  findExercise,
  findFollowUpByKey,
  findIncident,
  listExerciseRows,
  listFollowUpRows,
  listIncidentRows,
} from './incidents/incidents.repository.ts';
import {
  formatDatedLines,
  incidentChecks,
  normalizeExercise,
  normalizeFollowUp,
  normalizeIncident,
  resolveFollowUpSource,
  upsertExerciseIn,
  upsertFollowUpIn,
  upsertIncidentIn,
} from './incidents/incidents.service.ts';
import type { AcknowledgementRow, PolicyRow, PolicyVersionRow } from './policies/policies.repository.ts';
import {
  findPolicy,
  findVersion,
  listAcknowledgementRows,
  listPolicyRows,
  listVersionRows,
} from './policies/policies.repository.ts';
import {
  acknowledgeIn,
  acknowledgementEvidence,
  ackSources,
  approveVersionIn,
  createPolicyIn,
  normalizePolicy,
  policyChecks,
  policyKinds,
  publishVersionIn,
  saveDraftIn,
  updatePolicyIn,
} from './policies/policies.service.ts';
import { findRisk, listRiskRows } from './risks/risks.repository.ts';
import { normalizeRisk, riskChecks, upsertRiskIn } from './risks/risks.service.ts';
import { requireControls } from './shared/context.ts';
import { type CsvKind, cell } from './shared/csv.ts';
import {
  email,
  instant,
  integer,
  invalid,
  oneOf,
  optionalInstant,
  optionalText,
  prose,
  text,
} from './shared/values.ts';
import type { CompletionRow, CourseRow } from './training/training.repository.ts';
import { findCourse, listCompletionRows, listCourseRows } from './training/training.repository.ts';
import {
  completionEvidence,
  normalizeCompletion,
  normalizeCourse,
  recordCompletionIn,
  trainingChecks,
  upsertCourseIn,
} from './training/training.service.ts';
import {
  findDocumentByKey,
  findVendor,
  listCuecRows,
  listDocumentRows,
  listVendorRows,
  replaceCuecs,
  type VendorDocumentRow,
} from './vendors/vendors.repository.ts';
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
} from './vendors/vendors.service.ts';

type Input = Record<string, string | undefined>;

const result = (r: { created: boolean; changed: boolean }) =>
  r.created ? 'created' : r.changed ? 'updated' : 'unchanged';

// --- vendors ------------------------------------------------------------------------------------

const vendors: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeVendor> }> = {
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

const vendorDocuments: CsvKind<{ vendor: string; values: ReturnType<typeof normalizeDocument> }> = {
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

const vendorCuecs: CsvKind<CuecRow> = {
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

// --- risks --------------------------------------------------------------------------------------

const risks: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeRisk> }> = {
  kind: 'risks',
  register: 'risks',
  description: 'The risk register.',
  checks: riskChecks,
  columns: [
    { header: 'reference', required: true, description: 'Risk reference, e.g. R-001 (the key).' },
    { header: 'title', required: 'new', description: 'The risk in a sentence.' },
    { header: 'description', description: 'Cause, event and consequence.' },
    { header: 'category', description: 'Free text (e.g. security, vendor, fraud).' },
    { header: 'owner', description: 'Who owns the risk.' },
    { header: 'fraud_risk', description: 'true for a fraud risk (CC3.3).' },
    { header: 'inherent_likelihood', required: 'new', description: '1 to the scale maximum (5 by default).' },
    { header: 'inherent_impact', required: 'new', description: '1 to the scale maximum.' },
    { header: 'residual_likelihood', description: 'After treatment.' },
    { header: 'residual_impact', description: 'After treatment.' },
    { header: 'treatment', required: 'new', description: 'mitigate, accept, transfer or avoid.' },
    { header: 'treatment_plan', description: 'How the treatment is carried out.' },
    { header: 'controls', description: 'Control template ids carrying the treatment, `;`-separated.' },
    { header: 'status', description: 'open (default) or closed.' },
    { header: 'review_cadence_days', description: 'Days between reviews (default 365).' },
    {
      header: 'last_reviewed_at',
      description: 'When the risk was last assessed (default: the import time).',
    },
  ],
  async rows(trx, ctx) {
    return (await listRiskRows(trx, ctx.workspaceId)).map((r) => ({
      reference: r.reference,
      title: r.title,
      description: r.description,
      category: r.category,
      owner: cell.text(r.owner),
      fraud_risk: cell.bool(r.fraud_risk),
      inherent_likelihood: cell.int(r.inherent_likelihood),
      inherent_impact: cell.int(r.inherent_impact),
      residual_likelihood: cell.int(r.residual_likelihood),
      residual_impact: cell.int(r.residual_impact),
      treatment: r.treatment,
      treatment_plan: r.treatment_plan,
      controls: cell.list(r.control_ids),
      status: r.status,
      review_cadence_days: cell.int(r.review_cadence_days),
      last_reviewed_at: cell.date(r.last_reviewed_at),
    }));
  },
  parse: (raw) => ({ raw, values: normalizeRisk(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findRisk(trx, ctx.workspaceId, values.reference!);
    return result(await upsertRiskIn(trx, ctx, existing ? values : normalizeRisk(raw, 'create'), 'upsert'));
  },
};

// --- policies -----------------------------------------------------------------------------------

interface PolicyCsvRow {
  raw: Input;
  values: ReturnType<typeof normalizePolicy>;
  version: number | null;
  body: string | null;
  changeSummary: string;
  approvedBy: string | null;
  approvedAt: Date | null;
  publishedAt: Date | null;
}

const policies: CsvKind<PolicyCsvRow> = {
  kind: 'policies',
  register: 'policies',
  description:
    'Policies with the text of their current version (or latest draft), its approval and publication.',
  checks: policyChecks,
  columns: [
    { header: 'title', required: true, description: 'Policy title (the key).' },
    { header: 'kind', description: `${policyKinds.join(', ')} (default policy).` },
    { header: 'owner', description: 'Policy owner.' },
    { header: 'review_cadence_days', description: 'Days between reviews (default 365).' },
    { header: 'acknowledgement_required', description: 'true (default) or false.' },
    { header: 'controls', description: 'Control template ids the policy supports, `;`-separated.' },
    {
      header: 'status',
      description: 'draft, active or retired (retired retires the policy; the others follow publication).',
    },
    { header: 'version', description: 'Version number of the text in `body`.' },
    { header: 'body', description: 'The policy text, markdown (quoted; may span lines).' },
    { header: 'change_summary', description: 'What changed in this version.' },
    { header: 'approved_by', description: 'Who approved this version.' },
    { header: 'approved_at', description: 'When.' },
    { header: 'published_at', description: 'When this version was published (needs the approval).' },
  ],
  async rows(trx, ctx) {
    const versions = await listVersionRows(trx, ctx.workspaceId);
    return (await listPolicyRows(trx, ctx.workspaceId)).map((p) => {
      const own = versions.filter((v) => v.policy_id === p.id);
      const v = own.find((x) => x.id === p.current_version_id) ?? own.at(-1);
      return {
        title: p.title,
        kind: p.kind,
        owner: cell.text(p.owner),
        review_cadence_days: cell.int(p.review_cadence_days),
        acknowledgement_required: cell.bool(p.acknowledgement_required),
        controls: cell.list(p.control_ids),
        status: p.status,
        version: cell.int(v?.version),
        body: v?.body ?? '',
        change_summary: v?.change_summary ?? '',
        approved_by: cell.text(v?.approved_by),
        approved_at: cell.date(v?.approved_at),
        published_at: cell.date(v?.published_at),
      };
    });
  },
  parse(raw) {
    const status = raw.status?.trim();
    if (status !== undefined) oneOf('status', status, ['draft', 'active', 'retired'] as const);
    const values = normalizePolicy(
      { ...raw, status: status === 'retired' ? 'retired' : undefined },
      'update',
    );
    const version = raw.version === undefined ? null : integer('version', raw.version, 1, 100_000);
    const body = raw.body === undefined ? null : raw.body.replace(/\r\n/g, '\n');
    if ((version === null) !== (body === null))
      invalid(version === null ? 'version' : 'body', 'give the version and its body together');
    const approvedBy = optionalText('approvedBy', raw.approvedBy);
    const approvedAt = optionalInstant('approvedAt', raw.approvedAt);
    const publishedAt = optionalInstant('publishedAt', raw.publishedAt);
    if (approvedAt && !approvedBy) invalid('approvedBy', 'an approval time needs the approver');
    if (publishedAt && !approvedBy) invalid('approvedBy', 'a published version must be approved');
    if ((approvedBy || publishedAt) && version === null)
      invalid('version', 'approval and publication belong to a version');
    return {
      raw,
      values,
      version,
      body,
      changeSummary: prose('changeSummary', raw.changeSummary),
      approvedBy,
      approvedAt,
      publishedAt,
    };
  },
  async apply(trx, ctx, row) {
    let policy = await findPolicy(trx, ctx.workspaceId, row.values.title!);
    let changed = false;
    let created = false;
    if (!policy) {
      policy = await createPolicyIn(trx, ctx, { ...row.values });
      created = true;
    } else {
      const next = await updatePolicyIn(trx, ctx, policy, row.values);
      changed = next !== policy;
      policy = next;
    }
    if (row.version === null || row.body === null)
      return created ? 'created' : changed ? 'updated' : 'unchanged';
    let version = await findVersion(trx, ctx.workspaceId, policy.id, row.version);
    if (version && version.body !== row.body) {
      if (version.approved_at) {
        invalid(
          'body',
          `version ${row.version} of "${policy.title}" is approved; its text cannot change (give a new version number)`,
        );
      }
      version = await saveDraftIn(trx, ctx, policy, {
        body: row.body,
        changeSummary: row.changeSummary,
        version: row.version,
      });
      changed = true;
    } else if (!version) {
      version = await saveDraftIn(trx, ctx, policy, {
        body: row.body,
        changeSummary: row.changeSummary,
        version: row.version,
      });
      changed = true;
    }
    if (row.approvedBy && !version.approved_at) {
      version = await approveVersionIn(trx, ctx, policy, version, {
        approver: row.approvedBy,
        approvedAt: row.approvedAt ?? ctx.now,
      });
      changed = true;
    }
    if (row.publishedAt && !version.published_at) {
      await publishVersionIn(trx, ctx, policy, version, { publishedAt: row.publishedAt, campaign: false });
      changed = true;
    }
    return created ? 'created' : changed ? 'updated' : 'unchanged';
  },
};

type AckBatch = { policy: PolicyRow; version: PolicyVersionRow; row: AcknowledgementRow }[];

const policyAcknowledgements: CsvKind<{
  policy: string;
  version: number;
  email: string;
  at: Date;
  source: AcknowledgementRow['source'];
}> = {
  kind: 'policy-acknowledgements',
  register: 'policies',
  description: 'Per person and policy version, when they acknowledged it.',
  checks: policyChecks,
  columns: [
    { header: 'policy', required: true, description: 'Policy title.' },
    { header: 'version', required: true, description: 'The version acknowledged.' },
    { header: 'email', required: true, description: "The person's email." },
    { header: 'acknowledged_at', required: true, description: 'When.' },
    { header: 'source', description: `${ackSources.join(', ')} (default imported).` },
  ],
  async rows(trx, ctx) {
    const titles = new Map((await listPolicyRows(trx, ctx.workspaceId)).map((p) => [p.id, p.title]));
    const versions = new Map((await listVersionRows(trx, ctx.workspaceId)).map((v) => [v.id, v.version]));
    return (await listAcknowledgementRows(trx, ctx.workspaceId))
      .map((a) => ({
        policy: titles.get(a.policy_id) ?? '',
        version: cell.int(versions.get(a.version_id)),
        email: a.email,
        acknowledged_at: cell.date(a.acknowledged_at),
        source: a.source,
      }))
      .sort(
        (a, b) =>
          a.policy.localeCompare(b.policy) ||
          Number(a.version) - Number(b.version) ||
          a.acknowledged_at.localeCompare(b.acknowledged_at) ||
          a.email.localeCompare(b.email),
      );
  },
  parse: (raw) => ({
    policy: text('policy', raw.policy),
    version: integer('version', raw.version, 1, 100_000),
    email: email('email', raw.email),
    at: instant('acknowledgedAt', raw.acknowledgedAt),
    source: oneOf('source', raw.source ?? 'imported', ackSources),
  }),
  async apply(trx, ctx, row, batch) {
    const key = `${row.policy.toLowerCase()}\u0000${row.version}`;
    let found = batch.get(`v:${key}`) as { policy: PolicyRow; version: PolicyVersionRow } | undefined;
    if (!found) {
      const policy = await findPolicy(trx, ctx.workspaceId, row.policy);
      if (!policy) invalid('policy', `policy "${row.policy}" does not exist (import policies first)`);
      const version = await findVersion(trx, ctx.workspaceId, policy.id, row.version);
      if (!version) invalid('version', `"${policy.title}" has no version ${row.version}`);
      found = { policy, version };
      batch.set(`v:${key}`, found);
    }
    const { row: ack, created } = await acknowledgeIn(
      trx,
      ctx,
      found.policy,
      found.version,
      { email: row.email, acknowledgedAt: row.at, source: row.source },
      'defer',
    );
    if (!created) return 'unchanged';
    const pending = (batch.get('acks') as AckBatch | undefined) ?? [];
    pending.push({ ...found, row: ack });
    batch.set('acks', pending);
    return 'created';
  },
  async finish(trx, ctx, batch) {
    const pending = (batch.get('acks') as AckBatch | undefined) ?? [];
    for (let i = 0; i < pending.length; i += 5000)
      await acknowledgementEvidence(trx, ctx, pending.slice(i, i + 5000));
  },
};

// --- incidents ----------------------------------------------------------------------------------

const incidents: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeIncident> }> = {
  kind: 'incidents',
  register: 'incidents',
  description: 'The incident log.',
  checks: incidentChecks,
  columns: [
    { header: 'reference', required: true, description: 'Incident reference (the key).' },
    { header: 'title', required: 'new', description: 'What happened.' },
    { header: 'severity', required: 'new', description: 'low, medium, high or critical.' },
    { header: 'status', description: 'open (default), contained, resolved or closed.' },
    { header: 'detected_at', description: 'When it was detected (default: the import time).' },
    { header: 'resolved_at', description: 'When it was resolved.' },
    { header: 'closed_at', description: 'When it was closed.' },
    { header: 'root_cause', description: 'Required to close a high or critical incident.' },
    { header: 'summary', description: 'Summary and impact.' },
    { header: 'owner', description: 'Incident owner.' },
    { header: 'controls', description: 'Control template ids involved, `;`-separated.' },
    { header: 'timeline', description: 'One `<date-time> <what happened>` per line.' },
    { header: 'notifications', description: 'One `<date-time> <who was notified>` per line.' },
  ],
  async rows(trx, ctx) {
    return (await listIncidentRows(trx, ctx.workspaceId)).map((i) => ({
      reference: i.reference,
      title: i.title,
      severity: i.severity,
      status: i.status,
      detected_at: cell.date(i.detected_at),
      resolved_at: cell.date(i.resolved_at),
      closed_at: cell.date(i.closed_at),
      root_cause: i.root_cause,
      summary: i.summary,
      owner: cell.text(i.owner),
      controls: cell.list(i.control_ids),
      timeline: formatDatedLines(i.timeline, 'entry'),
      notifications: formatDatedLines(i.notifications, 'recipient'),
    }));
  },
  parse: (raw) => ({ raw, values: normalizeIncident(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findIncident(trx, ctx.workspaceId, values.reference!);
    return result(
      await upsertIncidentIn(trx, ctx, existing ? values : normalizeIncident(raw, 'create'), 'upsert'),
    );
  },
};

const tabletopExercises: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeExercise> }> = {
  kind: 'tabletop-exercises',
  register: 'incidents',
  description: 'Tabletop exercises of the incident-response plan.',
  checks: incidentChecks,
  columns: [
    { header: 'title', required: true, description: 'Exercise title (with held_at, the key).' },
    { header: 'held_at', required: true, description: 'When it was held.' },
    { header: 'scenario', required: 'new', description: 'The scenario played.' },
    { header: 'facilitator', description: 'Who ran it.' },
    { header: 'participants', required: 'new', description: 'Who took part, `;`-separated.' },
    { header: 'outcomes', description: 'What was learned.' },
    { header: 'tests_plan', description: 'true (default): the exercise tests the incident-response plan.' },
  ],
  async rows(trx, ctx) {
    return (await listExerciseRows(trx, ctx.workspaceId)).map((e) => ({
      title: e.title,
      held_at: cell.date(e.held_at),
      scenario: e.scenario,
      facilitator: cell.text(e.facilitator),
      participants: cell.list(e.participants),
      outcomes: e.outcomes,
      tests_plan: cell.bool(e.tests_plan),
    }));
  },
  parse: (raw) => ({ raw, values: normalizeExercise(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findExercise(trx, ctx.workspaceId, values.title!, values.heldAt);
    return result(await upsertExerciseIn(trx, ctx, existing ? values : normalizeExercise(raw, 'create')));
  },
};

const followUpActions: CsvKind<{
  raw: Input;
  values: ReturnType<typeof normalizeFollowUp>;
  exercise: string | null;
  exerciseHeldAt: Date | null;
  incident: string | null;
}> = {
  kind: 'follow-up-actions',
  register: 'incidents',
  description: 'Follow-up actions from exercises and incidents, tracked to closure.',
  checks: incidentChecks,
  columns: [
    { header: 'exercise', description: 'Title of the exercise it follows from (or give incident).' },
    { header: 'exercise_held_at', description: 'When that exercise was held (needed if the title repeats).' },
    { header: 'incident', description: 'Reference of the incident it follows from.' },
    { header: 'title', required: true, description: 'The action (with its exercise or incident, the key).' },
    { header: 'owner', description: 'Who carries it out.' },
    { header: 'due_at', required: 'new', description: 'When it is due.' },
    { header: 'status', description: 'open (default), done or cancelled.' },
    { header: 'closed_at', description: 'When it was closed.' },
    { header: 'resolution', description: 'How it was closed (required for done).' },
  ],
  async rows(trx, ctx) {
    const exercises = new Map((await listExerciseRows(trx, ctx.workspaceId)).map((e) => [e.id, e]));
    const incidentRefs = new Map(
      (await listIncidentRows(trx, ctx.workspaceId)).map((i) => [i.id, i.reference]),
    );
    return (await listFollowUpRows(trx, ctx.workspaceId)).map((a) => {
      const exercise = a.exercise_id ? exercises.get(a.exercise_id) : undefined;
      return {
        exercise: exercise?.title ?? '',
        exercise_held_at: cell.date(exercise?.held_at),
        incident: a.incident_id ? (incidentRefs.get(a.incident_id) ?? '') : '',
        title: a.title,
        owner: cell.text(a.owner),
        due_at: cell.date(a.due_at),
        status: a.status,
        closed_at: cell.date(a.closed_at),
        resolution: a.resolution,
      };
    });
  },
  parse: (raw) => ({
    raw,
    values: normalizeFollowUp(raw, 'update'),
    exercise: optionalText('exercise', raw.exercise, 300),
    exerciseHeldAt: optionalInstant('exerciseHeldAt', raw.exerciseHeldAt),
    incident: optionalText('incident', raw.incident, 60),
  }),
  async apply(trx, ctx, row) {
    const source = await resolveFollowUpSource(trx, ctx, row);
    const existing = await findFollowUpByKey(trx, ctx.workspaceId, source, row.values.title!);
    return result(
      await upsertFollowUpIn(trx, ctx, source, existing ? row.values : normalizeFollowUp(row.raw, 'create')),
    );
  },
};

// --- training -----------------------------------------------------------------------------------

const trainingCourses: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeCourse> }> = {
  kind: 'training-courses',
  register: 'training',
  description: 'Training courses, their audience and cadence.',
  checks: trainingChecks,
  columns: [
    { header: 'code', required: true, description: 'Course code (the key).' },
    { header: 'title', required: 'new', description: 'Course title.' },
    { header: 'kind', required: 'new', description: 'security_awareness, role_specific or other.' },
    { header: 'frequency', required: 'new', description: 'once or annual.' },
    {
      header: 'due_days',
      description: 'Days to complete after hire (or after the course starts) (default 30).',
    },
    {
      header: 'audience_departments',
      description: 'Departments that must take it, `;`-separated (empty: everyone).',
    },
    { header: 'audience_titles', description: 'Job titles (substrings) that must take it, `;`-separated.' },
    { header: 'controls', description: 'Further control template ids it serves, `;`-separated.' },
    { header: 'active', description: 'true (default) or false.' },
    { header: 'effective_from', description: 'When the course started to apply (default: the import time).' },
  ],
  async rows(trx, ctx) {
    return (await listCourseRows(trx, ctx.workspaceId)).map((c) => ({
      code: c.code,
      title: c.title,
      kind: c.kind,
      frequency: c.frequency,
      due_days: cell.int(c.due_days),
      audience_departments: cell.list(c.audience_departments),
      audience_titles: cell.list(c.audience_titles),
      controls: cell.list(c.control_ids),
      active: cell.bool(c.active),
      effective_from: cell.date(c.effective_from),
    }));
  },
  parse: (raw) => ({ raw, values: normalizeCourse(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findCourse(trx, ctx.workspaceId, values.code!);
    return result(
      await upsertCourseIn(trx, ctx, existing ? values : normalizeCourse(raw, 'create'), 'upsert'),
    );
  },
};

type CompletionBatch = { row: CompletionRow; course: CourseRow }[];

const trainingCompletions: CsvKind<ReturnType<typeof normalizeCompletion>> = {
  kind: 'training-completions',
  register: 'training',
  description: 'Training completions, recorded or exported from a training platform.',
  checks: trainingChecks,
  columns: [
    { header: 'course', required: true, description: 'Course code.' },
    { header: 'email', required: true, description: "The person's email." },
    { header: 'completed_at', required: true, description: 'When they completed it.' },
    { header: 'source', description: 'recorded or imported (default imported).' },
    { header: 'score', description: '0–100, if the platform scores.' },
  ],
  async rows(trx, ctx) {
    const codes = new Map((await listCourseRows(trx, ctx.workspaceId)).map((c) => [c.id, c.code]));
    return (await listCompletionRows(trx, ctx.workspaceId)).map((c) => ({
      course: codes.get(c.course_id) ?? '',
      email: c.email,
      completed_at: cell.date(c.completed_at),
      source: c.source,
      score: cell.int(c.score),
    }));
  },
  parse: (raw) => {
    if (raw.completedAt === undefined) invalid('completedAt', 'is required');
    return normalizeCompletion(raw, 'imported');
  },
  async apply(trx, ctx, values, batch) {
    let courses = batch.get('courses') as Map<string, CourseRow> | undefined;
    if (!courses) {
      courses = new Map((await listCourseRows(trx, ctx.workspaceId)).map((c) => [c.code.toLowerCase(), c]));
      batch.set('courses', courses);
    }
    const done = await recordCompletionIn(trx, ctx, values, courses);
    if (!done.created) return 'unchanged';
    const pending = (batch.get('completions') as CompletionBatch | undefined) ?? [];
    pending.push(done);
    batch.set('completions', pending);
    return 'created';
  },
  async finish(trx, ctx, batch) {
    const pending = (batch.get('completions') as CompletionBatch | undefined) ?? [];
    for (let i = 0; i < pending.length; i += 5000)
      await completionEvidence(trx, ctx, pending.slice(i, i + 5000));
  },
};

// --- changes and continuity ---------------------------------------------------------------------

const changes: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeChange> }> = {
  kind: 'changes',
  register: 'changes',
  description: 'Manual change records.',
  checks: changeChecks,
  columns: [
    { header: 'ticket', required: true, description: 'Ticket reference (the key).' },
    { header: 'title', required: 'new', description: 'The change.' },
    { header: 'description', description: 'Details, risk and rollback.' },
    { header: 'system', description: 'The system changed.' },
    { header: 'emergency', description: 'true for an emergency change (approved retroactively).' },
    { header: 'author', required: 'new', description: 'Who made the change.' },
    { header: 'approver', description: 'Who approved it (must not be the author).' },
    { header: 'approved_at', description: 'When.' },
    { header: 'tester', description: 'Who tested it.' },
    { header: 'tested_at', description: 'When.' },
    { header: 'implemented_at', description: 'When it went live.' },
    {
      header: 'status',
      description: 'planned, approved, implemented, rolled_back or cancelled (default from the times given).',
    },
  ],
  async rows(trx, ctx) {
    return (await listChangeRows(trx, ctx.workspaceId)).map((c) => {
      const v = changeContent(c);
      return {
        ticket: v.ticket,
        title: v.title,
        description: v.description,
        system: v.system,
        emergency: cell.bool(v.emergency),
        author: v.author,
        approver: cell.text(v.approver),
        approved_at: cell.date(c.approved_at),
        tester: cell.text(v.tester),
        tested_at: cell.date(c.tested_at),
        implemented_at: cell.date(c.implemented_at),
        status: v.status,
      };
    });
  },
  parse: (raw) => ({ raw, values: normalizeChange(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findChange(trx, ctx.workspaceId, values.ticket!);
    return result(
      await upsertChangeIn(trx, ctx, existing ? values : normalizeChange(raw, 'create'), 'upsert'),
    );
  },
};

const continuityTests: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeContinuity> }> = {
  kind: 'continuity-tests',
  register: 'continuity',
  description: 'Backup restore tests and disaster-recovery exercises.',
  checks: continuityChecks,
  columns: [
    {
      header: 'kind',
      required: true,
      description: 'backup_restore or dr_exercise (with target and performed_at, the key).',
    },
    {
      header: 'target',
      required: true,
      description: 'The system or data set restored, or the exercise scope.',
    },
    { header: 'performed_at', required: true, description: 'When.' },
    { header: 'performed_by', required: 'new', description: 'Who.' },
    { header: 'result', required: 'new', description: 'success, partial or failed.' },
    { header: 'rto_target_minutes', description: 'Recovery time objective.' },
    { header: 'rto_actual_minutes', description: 'Recovery time measured.' },
    { header: 'rpo_target_minutes', description: 'Recovery point objective.' },
    { header: 'rpo_actual_minutes', description: 'Data loss measured.' },
    { header: 'notes', description: 'What was restored and learned.' },
  ],
  async rows(trx, ctx) {
    return (await listContinuityRows(trx, ctx.workspaceId)).map((t) => ({
      kind: t.kind,
      target: t.target,
      performed_at: cell.date(t.performed_at),
      performed_by: t.performed_by,
      result: t.result,
      rto_target_minutes: cell.int(t.rto_target_minutes),
      rto_actual_minutes: cell.int(t.rto_actual_minutes),
      rpo_target_minutes: cell.int(t.rpo_target_minutes),
      rpo_actual_minutes: cell.int(t.rpo_actual_minutes),
      notes: t.notes,
    }));
  },
  parse: (raw) => ({ raw, values: normalizeContinuity(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findContinuityTestByKey(
      trx,
      ctx.workspaceId,
      values.kind!,
      values.target!,
      values.performedAt!,
    );
    return result(
      existing
        ? await upsertContinuityIn(trx, ctx, values, 'upsert', existing)
        : await upsertContinuityIn(trx, ctx, normalizeContinuity(raw, 'create'), 'create'),
    );
  },
};

/** Every register kind, in the order an import of a whole programme should follow. */
export const csvKinds: readonly CsvKind[] = [
  vendors,
  vendorDocuments,
  vendorCuecs,
  risks,
  policies,
  policyAcknowledgements,
  incidents,
  tabletopExercises,
  followUpActions,
  trainingCourses,
  trainingCompletions,
  changes,
  continuityTests,
] as CsvKind[];

export const csvKindNames = csvKinds.map((k) => k.kind);

export function csvKind(name: string): CsvKind {
  const kind = csvKinds.find((k) => k.kind === name);
  if (!kind) {
    throw new AssayError(
      'unsupported_import_kind',
      `unknown register "${name}" (kinds: ${csvKindNames.join(', ')})`,
      {
        field: 'kind',
      },
    );
  }
  return kind;
}
