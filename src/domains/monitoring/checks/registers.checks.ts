/**
 * Built-in checks over the programme registers: vendor assurance (CC9.2), policies and their
 * acknowledgement (CC1.1, CC2.2, CC5.3), training (CC1.4), incident readiness (CC7.4, CC7.5), the
 * risk register (CC3.1–CC3.2), restore tests (A1.2, A1.3) and manual changes (CC8.1).
 *
 * Each judges only what its register holds: a workspace that has not started a register gets no
 * result from it, never a finding. Passing results name the evidence that satisfies them
 * (`facts.evidenceIds`), so a finding closed by a renewal can cite the renewed record.
 */
import type { Trx } from '../../../db/database.ts';
import { listChangeRows } from '../../registers/changes/changes.repository.ts';
import { type Violation, violations } from '../../registers/changes/segregation.ts';
import { listContinuityRows } from '../../registers/continuity/continuity.repository.ts';
import {
  findPlan,
  listExerciseRows,
  listFollowUpRows,
} from '../../registers/incidents/incidents.repository.ts';
import { lastPlanTest } from '../../registers/incidents/plan.ts';
import { acknowledgementStatus, type Member } from '../../registers/policies/acknowledgements.ts';
import {
  listAcknowledgementRows,
  listCampaignRows,
  listPolicyReviewRows,
  listPolicyRows,
  listVersionRows,
} from '../../registers/policies/policies.repository.ts';
import { listRiskReviewRows, listRiskRows } from '../../registers/risks/risks.repository.ts';
import { activeControlTemplates } from '../../registers/shared/registers.repository.ts';
import { addDays } from '../../registers/shared/values.ts';
import { type Assignment, courseView, deriveAssignments } from '../../registers/training/assignments.ts';
import {
  listAssignmentRows,
  listCompletionRows,
  listCourseRows,
} from '../../registers/training/training.repository.ts';
import { currentAssurance, latestReport } from '../../registers/vendors/assurance.ts';
import {
  listCuecRows,
  listDocumentRows,
  listVendorRows,
} from '../../registers/vendors/vendors.repository.ts';
import { type CheckOutcome, defineCheck, type Subject } from '../check.types.ts';
import type { Facts, PersonView } from '../facts.ts';
import { days, isoDay, personSubject } from './subjects.ts';

const hour = 3600 * 1000;
const day = 24 * hour;

const ids = (values: (string | null | undefined)[]) =>
  values.filter((v): v is string => typeof v === 'string');

function workspaceSubject(facts: Facts, name: string): Subject {
  return { type: 'workspace', id: facts.workspaceId, name };
}

// --- loaders (one read per register per run) --------------------------------------------------

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

function policyFacts(facts: Facts) {
  return facts.register('policies', async (trx: Trx, workspaceId: string, asOf: Date) => {
    const [policies, versions, reviews, campaigns, acknowledgements] = await Promise.all([
      listPolicyRows(trx, workspaceId, asOf),
      listVersionRows(trx, workspaceId),
      listPolicyReviewRows(trx, workspaceId),
      listCampaignRows(trx, workspaceId),
      listAcknowledgementRows(trx, workspaceId, { asOf }),
    ]);
    return policies
      .filter((p) => p.status !== 'retired')
      .map((policy) => {
        // The version in force at asOf: the latest published by then.
        const published = versions.filter(
          (v) => v.policy_id === policy.id && v.published_at !== null && v.published_at <= asOf,
        );
        const current = published.at(-1) ?? null;
        const policyReviews = reviews.filter((r) => r.policy_id === policy.id && r.reviewed_at <= asOf);
        return {
          policy,
          current,
          published,
          reviews: policyReviews,
          campaign: current ? (campaigns.find((c) => c.version_id === current.id) ?? null) : null,
          acknowledgements: current ? acknowledgements.filter((a) => a.version_id === current.id) : [],
        };
      });
  });
}

function workforce(people: PersonView[], asOf: Date): Member[] {
  return people
    .filter((p) => p.status === 'active' && (!p.startDate || p.startDate <= asOf))
    .map((p) => ({ email: p.email.toLowerCase(), name: p.name, startDate: p.startDate }));
}

// --- vendors ----------------------------------------------------------------------------------

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

// --- policies ---------------------------------------------------------------------------------

function policySubject(p: { id: string; title: string }): Subject {
  return { type: 'policy', id: p.id, name: p.title };
}

export const policyReviewOverdue = defineCheck({
  id: 'policy.review_overdue',
  title: 'Policies are reviewed on their cadence',
  description:
    'A published policy whose last approval or recorded review is older than its review cadence (annual by default).',
  severity: 'medium',
  criteria: ['CC5.3', 'CC1.1'],
  triggers: { facts: ['registers'], schedule: 'daily' },
  defaults: {},
  graceHours: 0,
  remediationDays: 30,
  async evaluate(facts) {
    const outcomes: CheckOutcome[] = [];
    for (const p of await policyFacts(facts)) {
      if (!p.current) continue;
      let last = { at: p.current.approved_at!, evidenceId: p.current.approval_evidence_id };
      for (const v of p.published) {
        if (v.approved_at! > last.at) last = { at: v.approved_at!, evidenceId: v.approval_evidence_id };
      }
      for (const r of p.reviews)
        if (r.reviewed_at > last.at) last = { at: r.reviewed_at, evidenceId: r.evidence_id };
      const due = addDays(last.at, p.policy.review_cadence_days);
      outcomes.push(
        due > facts.asOf
          ? {
              subject: policySubject(p.policy),
              status: 'pass',
              detail: `version ${p.current.version} in force; last reviewed ${isoDay(last.at)}, next review due ${isoDay(due)}`,
              facts: { lastReviewedAt: last.at.toISOString(), evidenceIds: ids([last.evidenceId]) },
            }
          : {
              subject: policySubject(p.policy),
              status: 'fail',
              detail: `last reviewed ${isoDay(last.at)}; the review was due ${isoDay(due)} (every ${p.policy.review_cadence_days} days)`,
              facts: { lastReviewedAt: last.at.toISOString(), dueAt: due.toISOString() },
              since: due,
            },
      );
    }
    return outcomes;
  },
});

export const policyAcknowledgementsMissing = defineCheck({
  id: 'policy.acknowledgements_missing',
  title: 'The workforce acknowledges the policies in force',
  description:
    'People who must acknowledge the current version of a policy (its campaign audience, or every active person ' +
    'in HR) and have not by the deadline — the campaign due date, or thirty days from their start date for later hires.',
  severity: 'medium',
  criteria: ['CC2.2', 'CC1.5'],
  triggers: { facts: ['registers', 'people'], schedule: 'daily' },
  defaults: { campaignDays: 30, newHireDays: 30 },
  graceHours: 0,
  remediationDays: 14,
  async evaluate(facts, settings) {
    const policies = (await policyFacts(facts)).filter((p) => p.current && p.policy.acknowledgement_required);
    if (policies.length === 0) return [];
    const people = workforce(await facts.people(), facts.asOf);
    const outcomes: CheckOutcome[] = [];
    for (const p of policies) {
      const version = p.current!;
      const status = acknowledgementStatus({
        publishedAt: version.published_at!,
        campaign: p.campaign,
        workforce: people,
        acknowledgements: p.acknowledgements,
        asOf: facts.asOf,
        settings: { campaignDays: Number(settings.campaignDays), newHireDays: Number(settings.newHireDays) },
      });
      const subject = policySubject(p.policy);
      if (status.members.length === 0) {
        outcomes.push({
          subject,
          status: 'no_data',
          detail: `version ${version.version}: no audience (import the HR roster, or list the campaign audience)`,
        });
        continue;
      }
      const recent = [...p.acknowledgements]
        .sort((a, b) => b.acknowledged_at.getTime() - a.acknowledged_at.getTime())
        .slice(0, 50);
      if (status.overdue.length === 0) {
        outcomes.push({
          subject,
          status: 'pass',
          detail: `version ${version.version}: ${status.acknowledged} of ${status.members.length} acknowledged, nobody overdue (due ${isoDay(status.deadline)})`,
          facts: { version: version.version, evidenceIds: ids(recent.map((a) => a.evidence_id)) },
        });
        continue;
      }
      const late = status.overdue;
      outcomes.push({
        subject,
        status: 'fail',
        detail: `version ${version.version}: ${late.length} of ${status.members.length} have not acknowledged by their deadline (${late
          .slice(0, 5)
          .map((m) => m.email)
          .join(', ')}${late.length > 5 ? ', …' : ''})`,
        facts: {
          version: version.version,
          missing: late.slice(0, 500).map((m) => ({ email: m.email, deadline: m.deadline.toISOString() })),
        },
        since: late.reduce((min, m) => (m.deadline < min ? m.deadline : min), late[0]!.deadline),
      });
    }
    return outcomes;
  },
});

// --- training ---------------------------------------------------------------------------------

export const trainingOverdue = defineCheck({
  id: 'training.overdue',
  title: 'Assigned training is completed on time',
  description:
    'People with a training assignment past due: a course owed on hire, its annual refresh, a role-specific course ' +
    'for their department or title, or an assignment made by hand.',
  severity: 'medium',
  criteria: ['CC1.4', 'CC2.2'],
  triggers: { facts: ['registers', 'people'], schedule: 'daily' },
  defaults: {},
  graceHours: 0,
  remediationDays: 14,
  async evaluate(facts) {
    const data = await facts.register('training', async (trx: Trx, workspaceId: string) => {
      const [courses, completions, manual] = await Promise.all([
        listCourseRows(trx, workspaceId),
        listCompletionRows(trx, workspaceId),
        listAssignmentRows(trx, workspaceId),
      ]);
      return { courses, completions, manual };
    });
    if (data.courses.length === 0) return [];
    const people = await facts.people();
    const active = people.filter((p) => p.status === 'active' && (!p.startDate || p.startDate <= facts.asOf));
    const assignments = deriveAssignments({
      courses: data.courses.filter((c) => c.created_at <= facts.asOf).map(courseView),
      people: active.map((p) => ({
        email: p.email.toLowerCase(),
        name: p.name,
        department: p.department,
        title: p.title,
        startDate: p.startDate,
      })),
      completions: data.completions.map((c) => ({
        courseId: c.course_id,
        email: c.email,
        completedAt: c.completed_at,
        evidenceId: c.evidence_id,
      })),
      manual: data.manual.map((m) => ({
        courseId: m.course_id,
        email: m.email,
        assignedAt: m.assigned_at,
        dueAt: m.due_at,
      })),
      asOf: facts.asOf,
    });
    const byPerson = new Map<string, Assignment[]>();
    for (const a of assignments) byPerson.set(a.email, [...(byPerson.get(a.email) ?? []), a]);
    const personByEmail = new Map(active.map((p) => [p.email.toLowerCase(), p]));
    const outcomes: CheckOutcome[] = [];
    for (const [email, list] of byPerson) {
      const person = personByEmail.get(email);
      const subject: Subject = person
        ? personSubject(person)
        : { type: 'person', id: email, name: email, email };
      const overdue = list.filter((a) => a.state === 'overdue');
      outcomes.push(
        overdue.length === 0
          ? {
              subject,
              status: 'pass',
              detail: `${list.length} courses assigned, none overdue`,
              facts: { evidenceIds: ids(list.map((a) => a.evidenceId)) },
            }
          : {
              subject,
              status: 'fail',
              detail: `overdue: ${overdue.map((a) => `${a.course.code} (${a.reason.replace('_', ' ')}, due ${isoDay(a.dueAt)})`).join(', ')}`,
              facts: {
                overdue: overdue.map((a) => ({
                  course: a.course.code,
                  reason: a.reason,
                  dueAt: a.dueAt.toISOString(),
                })),
              },
              since: overdue.reduce((min, a) => (a.dueAt < min ? a.dueAt : min), overdue[0]!.dueAt),
            },
      );
    }
    return outcomes;
  },
});

// --- incidents --------------------------------------------------------------------------------

export const incidentPlanUntested = defineCheck({
  id: 'incident.plan_untested',
  title: 'The incident-response plan is tested every year',
  description:
    'No tabletop exercise (or other recorded test) of the incident-response plan within the last twelve months.',
  severity: 'medium',
  criteria: ['CC7.4', 'CC7.5', 'A1.3'],
  triggers: { facts: ['registers'], schedule: 'daily' },
  defaults: { maxDays: 365 },
  graceHours: 0,
  remediationDays: 60,
  async evaluate(facts, settings) {
    const { plan, exercises } = await facts.register(
      'incident_plan',
      async (trx: Trx, workspaceId: string, asOf: Date) => ({
        plan: (await findPlan(trx, workspaceId)) ?? null,
        exercises: await listExerciseRows(trx, workspaceId, asOf),
      }),
    );
    if (!plan && exercises.length === 0) return [];
    const subject: Subject = {
      type: 'policy',
      id: 'incident-response-plan',
      name: plan?.title ?? 'incident response plan',
    };
    const last = lastPlanTest(plan, exercises, facts.asOf);
    const latestExercise = exercises.filter((e) => e.tests_plan && e.held_at <= facts.asOf).at(-1);
    const maxDays = Number(settings.maxDays);
    if (!last) {
      return [{ subject, status: 'fail', detail: 'the incident-response plan has never been tested' }];
    }
    const due = addDays(last, maxDays);
    return [
      due > facts.asOf
        ? {
            subject,
            status: 'pass',
            detail: `last tested ${isoDay(last)}${latestExercise && latestExercise.held_at.getTime() === last.getTime() ? ` (${latestExercise.title})` : ''}; next test due ${isoDay(due)}`,
            facts: {
              lastTestedAt: last.toISOString(),
              evidenceIds: ids([
                latestExercise?.held_at.getTime() === last.getTime() ? latestExercise.evidence_id : null,
              ]),
            },
          }
        : {
            subject,
            status: 'fail',
            detail: `last tested ${isoDay(last)}, ${days(facts.asOf.getTime() - last.getTime())} days ago; a test was due ${isoDay(due)}`,
            facts: { lastTestedAt: last.toISOString() },
            since: due,
          },
    ];
  },
});

export const incidentFollowupsOverdue = defineCheck({
  id: 'incident.followups_overdue',
  title: 'Follow-up actions from incidents and exercises close on time',
  description:
    'Follow-up actions raised by an incident or a tabletop exercise that are still open past their due date.',
  severity: 'medium',
  criteria: ['CC7.5', 'CC4.2'],
  controls: ['INC-05', 'INC-02'],
  triggers: { facts: ['registers'], schedule: 'daily' },
  defaults: {},
  graceHours: 0,
  remediationDays: 30,
  async evaluate(facts) {
    const actions = await facts.register('follow_ups', (trx: Trx, workspaceId: string, asOf: Date) =>
      listFollowUpRows(trx, workspaceId, asOf),
    );
    if (actions.length === 0) return [];
    const subject = workspaceSubject(facts, 'incident and exercise follow-up actions');
    const open = actions.filter(
      (a) => a.status === 'open' || (a.closed_at !== null && a.closed_at > facts.asOf),
    );
    const overdue = open.filter((a) => a.due_at < facts.asOf);
    if (overdue.length === 0) {
      const closed = actions
        .filter((a) => a.closed_at !== null && a.closed_at <= facts.asOf)
        .sort((a, b) => b.closed_at!.getTime() - a.closed_at!.getTime());
      return [
        {
          subject,
          status: 'pass',
          detail: `${open.length} open, none overdue; ${closed.length} closed`,
          facts: { evidenceIds: ids(closed.slice(0, 50).map((a) => a.evidence_id)) },
        },
      ];
    }
    return [
      {
        subject,
        status: 'fail',
        detail: `${overdue.length} follow-up actions overdue: ${overdue
          .slice(0, 5)
          .map((a) => `"${a.title}" (${a.owner ?? 'no owner'}, due ${isoDay(a.due_at)})`)
          .join(', ')}${overdue.length > 5 ? ', …' : ''}`,
        facts: {
          overdue: overdue.map((a) => ({
            id: a.id,
            title: a.title,
            owner: a.owner,
            dueAt: a.due_at.toISOString(),
          })),
        },
        since: overdue[0]!.due_at,
      },
    ];
  },
});

// --- risks ------------------------------------------------------------------------------------

export const riskRegisterReviewOverdue = defineCheck({
  id: 'risk.register_review_overdue',
  title: 'The risk register is reassessed on its cadence',
  description:
    'Open risks whose last assessment or review is older than their review cadence (annual by default; quarterly ' +
    'for risks set to 90 days).',
  severity: 'medium',
  criteria: ['CC3.1', 'CC3.2'],
  triggers: { facts: ['registers'], schedule: 'daily' },
  defaults: {},
  graceHours: 0,
  remediationDays: 30,
  async evaluate(facts) {
    const { risks, reviews } = await facts.register(
      'risks',
      async (trx: Trx, workspaceId: string, asOf: Date) => ({
        risks: await listRiskRows(trx, workspaceId, asOf),
        reviews: await listRiskReviewRows(trx, workspaceId, { asOf }),
      }),
    );
    const open = risks.filter((r) => r.status === 'open');
    if (open.length === 0) return [];
    const subject = workspaceSubject(facts, 'risk register');
    const judged = open.map((risk) => {
      const own = reviews.filter((r) => r.risk_id === risk.id);
      const lastReview = own.at(-1);
      let last = risk.last_reviewed_at && risk.last_reviewed_at <= facts.asOf ? risk.last_reviewed_at : null;
      if (lastReview && (!last || lastReview.reviewed_at > last)) last = lastReview.reviewed_at;
      last ??= risk.created_at;
      return {
        risk,
        last,
        due: addDays(last, risk.review_cadence_days),
        evidenceId: lastReview?.evidence_id ?? risk.evidence_id,
      };
    });
    const overdue = judged
      .filter((j) => j.due <= facts.asOf)
      .sort((a, b) => a.due.getTime() - b.due.getTime());
    if (overdue.length === 0) {
      const next = judged.reduce((min, j) => (j.due < min ? j.due : min), judged[0]!.due);
      return [
        {
          subject,
          status: 'pass',
          detail: `${open.length} open risks, all reviewed on cadence; next review due ${isoDay(next)}`,
          facts: {
            evidenceIds: ids(
              [...judged]
                .sort((a, b) => b.last.getTime() - a.last.getTime())
                .slice(0, 50)
                .map((j) => j.evidenceId),
            ),
          },
        },
      ];
    }
    return [
      {
        subject,
        status: 'fail',
        detail: `${overdue.length} of ${open.length} open risks overdue for review: ${overdue
          .slice(0, 5)
          .map((j) => `${j.risk.reference} (last ${isoDay(j.last)}, due ${isoDay(j.due)})`)
          .join(', ')}${overdue.length > 5 ? ', …' : ''}`,
        facts: {
          overdue: overdue.map((j) => ({
            reference: j.risk.reference,
            lastReviewedAt: j.last.toISOString(),
          })),
        },
        since: overdue[0]!.due,
      },
    ];
  },
});

// --- continuity -------------------------------------------------------------------------------

export const restoreTestOverdue = defineCheck({
  id: 'continuity.restore_test_overdue',
  title: 'Backups are restored successfully every quarter',
  description:
    'A backup target (system or data set) whose last successful restore test is older than the maximum age ' +
    '(default 92 days), or that never restored successfully; and a disaster-recovery exercise older than a year ' +
    'once the register records them.',
  severity: 'medium',
  criteria: ['A1.2', 'A1.3'],
  controls: ['BCP-04', 'BCP-02'],
  triggers: { facts: ['registers'], schedule: 'daily' },
  defaults: { maxDays: 92, drMaxDays: 365 },
  graceHours: 0,
  remediationDays: 30,
  async evaluate(facts, settings) {
    const tests = await facts.register('continuity', (trx: Trx, workspaceId: string, asOf: Date) =>
      listContinuityRows(trx, workspaceId, asOf),
    );
    const outcomes: CheckOutcome[] = [];
    const judge = (subject: Subject, list: typeof tests, maxDays: number, what: string) => {
      const success = list.filter((t) => t.result === 'success').at(-1);
      const latest = list.at(-1)!;
      const failedSince =
        latest.result !== 'success'
          ? `; the latest test (${isoDay(latest.performed_at)}) ${latest.result === 'failed' ? 'failed' : 'was partial'}`
          : '';
      if (!success) {
        outcomes.push({
          subject,
          status: 'fail',
          detail: `no successful ${what} on record${failedSince}`,
          facts: { latestTestId: latest.id },
          since: list[0]!.performed_at,
        });
        return;
      }
      const due = addDays(success.performed_at, maxDays);
      outcomes.push(
        due > facts.asOf
          ? {
              subject,
              status: 'pass',
              detail: `last successful ${what} ${isoDay(success.performed_at)}; next due ${isoDay(due)}${failedSince}`,
              facts: { evidenceIds: ids([success.evidence_id]) },
            }
          : {
              subject,
              status: 'fail',
              detail: `last successful ${what} ${isoDay(success.performed_at)}, ${days(facts.asOf.getTime() - success.performed_at.getTime())} days ago (every ${maxDays} days)${failedSince}`,
              facts: { lastSuccessAt: success.performed_at.toISOString() },
              since: due,
            },
      );
    };
    const byTarget = new Map<string, typeof tests>();
    for (const t of tests) {
      if (t.kind !== 'backup_restore') continue;
      const key = t.target.toLowerCase();
      byTarget.set(key, [...(byTarget.get(key) ?? []), t]);
    }
    for (const [key, list] of byTarget) {
      judge(
        { type: 'system', id: key, name: list.at(-1)!.target },
        list,
        Number(settings.maxDays),
        'restore test',
      );
    }
    const dr = tests.filter((t) => t.kind === 'dr_exercise');
    if (dr.length > 0) {
      judge(
        workspaceSubject(facts, 'disaster-recovery exercise'),
        dr,
        Number(settings.drMaxDays),
        'disaster-recovery exercise',
      );
    }
    return outcomes;
  },
});

// --- changes ----------------------------------------------------------------------------------

export const manualSegregationOfDuties = defineCheck({
  id: 'change.manual_segregation_of_duties',
  title: 'Manual changes are approved by someone other than their author, before they are made',
  description:
    'Manual change records implemented in the look-back window (default 90 days) that were approved by their ' +
    'author, not approved, approved only afterwards, or — for emergencies — not approved retroactively within ' +
    'the allowed days (default 5).',
  severity: 'high',
  criteria: ['CC8.1'],
  controls: ['CHG-01', 'CHG-04'],
  triggers: { facts: ['registers'], schedule: 'daily' },
  defaults: { lookbackDays: 90, emergencyApprovalDays: 5 },
  graceHours: 0,
  remediationDays: 7,
  async evaluate(facts, settings) {
    const changes = await facts.register('changes', (trx: Trx, workspaceId: string) =>
      listChangeRows(trx, workspaceId),
    );
    const since = facts.daysAgo(Number(settings.lookbackDays));
    const inWindow = changes.filter(
      (c) => c.implemented_at !== null && c.implemented_at >= since && c.implemented_at <= facts.asOf,
    );
    const bySystem = new Map<string, typeof inWindow>();
    for (const c of inWindow) {
      const key = c.system.trim().toLowerCase() || 'unspecified';
      bySystem.set(key, [...(bySystem.get(key) ?? []), c]);
    }
    const outcomes: CheckOutcome[] = [];
    for (const [key, list] of bySystem) {
      const subject: Subject = {
        type: 'system',
        id: key,
        name: list[0]!.system.trim() || 'changes without a system',
      };
      const found: Violation[] = list.flatMap((c) =>
        violations(c, facts.asOf, { emergencyApprovalDays: Number(settings.emergencyApprovalDays) }),
      );
      outcomes.push(
        found.length === 0
          ? {
              subject,
              status: 'pass',
              detail: `${list.length} manual changes, each approved by someone other than its author`,
              facts: { evidenceIds: ids(list.map((c) => c.evidence_id).reverse()) },
            }
          : {
              subject,
              status: 'fail',
              detail: found.map((v) => `${v.ticket}: ${v.reason}`).join('; '),
              facts: { violations: found.map((v) => ({ ticket: v.ticket, reason: v.reason })) },
              since: found.reduce((min, v) => (v.since < min ? v.since : min), found[0]!.since),
            },
      );
    }
    return outcomes;
  },
});

export const registerChecks = [
  vendorReportStale,
  vendorOpinionQualified,
  vendorCuecUnmapped,
  policyReviewOverdue,
  policyAcknowledgementsMissing,
  trainingOverdue,
  incidentPlanUntested,
  incidentFollowupsOverdue,
  riskRegisterReviewOverdue,
  restoreTestOverdue,
  manualSegregationOfDuties,
];
