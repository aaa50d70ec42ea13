/** Checks over the change register: manual changes approved by someone other than their author (CC8.1). */
import type { Trx } from '../../../../db/database.ts';
import { listChangeRows } from '../../../registers/changes/changes.repository.ts';
import { type Violation, violations } from '../../../registers/changes/segregation.ts';
import { type CheckOutcome, defineCheck, type Subject } from '../../check.types.ts';
import { ids } from './shared.ts';

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
