/** Checks over the policy register: policies reviewed on cadence (CC5.3, CC1.1) and acknowledged (CC2.2). */
import type { Trx } from '../../../../db/database.ts';
import { acknowledgementStatus, type Member } from '../../../registers/policies/acknowledgements.ts';
import {
  listAcknowledgementRows,
  listCampaignRows,
  listPolicyReviewRows,
  listPolicyRows,
  listVersionRows,
} from '../../../registers/policies/policies.repository.ts';
import { addDays } from '../../../registers/shared/values.ts';
import { type CheckOutcome, defineCheck, type Subject } from '../../check.types.ts';
import type { Facts, PersonView } from '../../facts.ts';
import { isoDay } from '../subjects.ts';
import { ids } from './shared.ts';

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
