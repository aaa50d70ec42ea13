/** Checks over the risk register: open risks reassessed on their cadence (CC3.1–CC3.2). */
import type { Trx } from '../../../../db/database.ts';
import { listRiskReviewRows, listRiskRows } from '../../../registers/risks/risks.repository.ts';
import { addDays } from '../../../registers/shared/values.ts';
import { defineCheck } from '../../check.types.ts';
import { isoDay } from '../subjects.ts';
import { ids, workspaceSubject } from './shared.ts';

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
