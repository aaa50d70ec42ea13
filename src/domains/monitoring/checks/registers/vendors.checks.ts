/** Checks over the vendor register: assurance reports current (CC9.2), opinions unqualified, CUECs mapped. */
import type { Trx } from '../../../../db/database.ts';
import { activeControlTemplates } from '../../../registers/shared/registers.repository.ts';
import { currentAssurance, latestReport } from '../../../registers/vendors/assurance.ts';
import {
  listCuecRows,
  listDocumentRows,
  listVendorRows,
} from '../../../registers/vendors/vendors.repository.ts';
import { type CheckOutcome, defineCheck, type Subject } from '../../check.types.ts';
import type { Facts } from '../../facts.ts';
import { isoDay } from '../subjects.ts';
import { ids } from './shared.ts';

const hour = 3600 * 1000;
const day = 24 * hour;

function vendorFacts(facts: Facts) {
  return facts.register('vendors', async (trx: Trx, workspaceId: string, asOf: Date) => {
    const [vendors, documents, cuecs] = await Promise.all([
      listVendorRows(trx, workspaceId, asOf),
      listDocumentRows(trx, workspaceId, { asOf }),
      listCuecRows(trx, workspaceId),
    ]);
    const mapped = ids(cuecs.map((c) => c.control_id));
    const active = await activeControlTemplates(trx, workspaceId, mapped);
    return {
      vendors: vendors.filter((v) => v.status === 'active' && v.in_scope),
      documentsOf: (vendorId: string) => documents.filter((d) => d.vendor_id === vendorId),
      cuecsOf: (documentId: string) => cuecs.filter((c) => c.document_id === documentId),
      activeControls: active,
    };
  });
}

function vendorSubject(v: { id: string; name: string }): Subject {
  return { type: 'vendor', id: v.id, name: v.name };
}

/** The warning window of vendor.report_stale: at risk for these hours before the finding opens. */
const staleGraceHours = 92 * 24;

const criticalityRank = { low: 0, medium: 1, high: 2, critical: 3 } as const;

export const vendorReportStale = defineCheck({
  id: 'vendor.report_stale',
  title: "In-scope vendors' assurance reports are current",
  description:
    "An in-scope vendor's latest SOC 2 report period ended more than twelve months ago (at risk from nine), its " +
    'ISO 27001 certificate expired, or a vendor of high criticality has no report at all. A bridging letter is ' +
    'recorded but is not equivalent to a report.',
  severity: 'medium',
  criteria: ['CC9.2'],
  controls: ['VEN-03'],
  triggers: { facts: ['registers'], schedule: 'daily' },
  defaults: { staleMonths: 12, warningMonths: 9, requireReportFrom: 'high' },
  // The warning window: a failure is "at risk" for these hours before it becomes a finding.
  graceHours: staleGraceHours,
  remediationDays: 30,
  async evaluate(facts, settings) {
    const { vendors, documentsOf } = await vendorFacts(facts);
    const assurance = {
      staleMonths: Number(settings.staleMonths),
      warningMonths: Number(settings.warningMonths),
    };
    const threshold =
      criticalityRank[String(settings.requireReportFrom) as keyof typeof criticalityRank] ??
      criticalityRank.high;
    const grace = staleGraceHours * hour;
    return vendors.map((vendor): CheckOutcome => {
      const docs = documentsOf(vendor.id);
      const current = currentAssurance(docs, facts.asOf, assurance);
      const bridging = docs.filter((d) => d.kind === 'bridging_letter' && d.received_at <= facts.asOf).at(-1);
      const bridgeNote = bridging
        ? `; a bridging letter to ${isoDay(bridging.period_end)} is on file but is not equivalent to a report`
        : '';
      if (!current.document || !current.window) {
        if (criticalityRank[vendor.criticality] < threshold) {
          return {
            subject: vendorSubject(vendor),
            status: 'not_applicable',
            detail: `no assurance report on file; not required at ${vendor.criticality} criticality`,
          };
        }
        return {
          subject: vendorSubject(vendor),
          status: 'fail',
          detail: `${vendor.criticality}-criticality vendor with no SOC 2 report or ISO 27001 certificate on file${bridgeNote}`,
          facts: { bridgingLetter: bridging?.id ?? null },
          // Three months from onboarding to obtain one (at risk meanwhile).
          since: vendor.created_at,
        };
      }
      const { document: doc, window } = current;
      const label =
        doc.kind === 'iso27001'
          ? `ISO 27001 certificate valid to ${isoDay(doc.period_end)}`
          : `SOC 2 ${doc.kind === 'soc2_type2' ? 'Type II' : 'Type I'} report for the period ending ${isoDay(doc.period_end)}`;
      const docFacts = {
        documentId: doc.id,
        kind: doc.kind,
        periodEnd: isoDay(doc.period_end),
        staleFrom: isoDay(window.staleFrom),
        evidenceIds: ids([doc.evidence_id]),
      };
      if (current.state === 'current') {
        return {
          subject: vendorSubject(vendor),
          status: 'pass',
          detail: `${label}, current until ${isoDay(window.staleFrom)}`,
          facts: docFacts,
        };
      }
      const months = Math.round((facts.asOf.getTime() - doc.period_end.getTime()) / (30.44 * day));
      return {
        subject: vendorSubject(vendor),
        status: 'fail',
        detail:
          current.state === 'stale'
            ? `${label} is stale (${doc.kind === 'iso27001' ? 'expired' : `period ended ${months} months ago`}); obtain the current report${bridgeNote}`
            : `warning: ${label} goes stale on ${isoDay(window.staleFrom)}; request the next report${bridgeNote}`,
        facts: docFacts,
        // At risk from the warning date, a finding from the stale date.
        since: new Date(window.staleFrom.getTime() - grace),
      };
    });
  },
});

export const vendorOpinionQualified = defineCheck({
  id: 'vendor.opinion_qualified',
  title: "In-scope vendors' SOC 2 opinions are unqualified",
  description:
    'The latest SOC 2 report of an in-scope vendor carries a qualified or adverse opinion, or a disclaimer: the ' +
    "vendor's controls cannot be relied on as described without compensating review.",
  severity: 'high',
  criteria: ['CC9.2'],
  controls: ['VEN-03'],
  triggers: { facts: ['registers'] },
  defaults: {},
  graceHours: 0,
  remediationDays: 30,
  async evaluate(facts) {
    const { vendors, documentsOf } = await vendorFacts(facts);
    const outcomes: CheckOutcome[] = [];
    for (const vendor of vendors) {
      const report = latestReport(documentsOf(vendor.id), facts.asOf);
      if (!report) continue;
      const period = `report for the period ending ${isoDay(report.period_end)} (${report.auditor})`;
      const factsOf = {
        documentId: report.id,
        opinion: report.opinion,
        evidenceIds: ids([report.evidence_id]),
      };
      outcomes.push(
        report.opinion === 'unqualified'
          ? {
              subject: vendorSubject(vendor),
              status: 'pass',
              detail: `unqualified opinion on the ${period}${report.exceptions_noted ? '; exceptions noted, review them' : ''}`,
              facts: factsOf,
            }
          : {
              subject: vendorSubject(vendor),
              status: 'fail',
              detail: `${report.opinion === 'disclaimer' ? 'disclaimer of opinion' : `${report.opinion} opinion`} on the ${period}${report.exceptions_summary ? `: ${report.exceptions_summary.slice(0, 200)}` : ''}`,
              facts: factsOf,
              since: report.received_at,
            },
      );
    }
    return outcomes;
  },
});

export const vendorCuecUnmapped = defineCheck({
  id: 'vendor.cuec_unmapped',
  title: 'Every complementary user entity control is mapped to one of our controls',
  description:
    "A CUEC in an in-scope vendor's latest SOC 2 report is not mapped to an active control of ours: nobody is " +
    'known to operate what the vendor relies on us to do.',
  severity: 'medium',
  criteria: ['CC9.2', 'CC5.1'],
  controls: ['VEN-03'],
  triggers: { facts: ['registers'] },
  defaults: {},
  graceHours: 0,
  remediationDays: 30,
  async evaluate(facts) {
    const { vendors, documentsOf, cuecsOf, activeControls } = await vendorFacts(facts);
    const outcomes: CheckOutcome[] = [];
    for (const vendor of vendors) {
      const report = latestReport(documentsOf(vendor.id), facts.asOf);
      if (!report) continue;
      const cuecs = cuecsOf(report.id);
      if (cuecs.length === 0) continue;
      const unmapped = cuecs.filter((c) => c.control_id === null || !activeControls.has(c.control_id));
      outcomes.push(
        unmapped.length === 0
          ? {
              subject: vendorSubject(vendor),
              status: 'pass',
              detail: `all ${cuecs.length} CUECs mapped to our controls`,
              facts: { documentId: report.id, evidenceIds: ids([report.evidence_id]) },
            }
          : {
              subject: vendorSubject(vendor),
              status: 'fail',
              detail: `${unmapped.length} of ${cuecs.length} CUECs not mapped to an active control: ${unmapped
                .map((c) => (c.control_id ? `${c.reference} (→ ${c.control_id}, inactive)` : c.reference))
                .join(', ')}`,
              facts: {
                documentId: report.id,
                unmapped: unmapped.map((c) => ({ reference: c.reference, control: c.control_id })),
              },
              since: report.received_at,
            },
      );
    }
    return outcomes;
  },
});
