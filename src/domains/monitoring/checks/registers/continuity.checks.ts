/** Checks over the continuity register: backups restored every quarter, DR exercised yearly (A1.2, A1.3). */
import type { Trx } from '../../../../db/database.ts';
import { listContinuityRows } from '../../../registers/continuity/continuity.repository.ts';
import { addDays } from '../../../registers/shared/values.ts';
import { type CheckOutcome, defineCheck, type Subject } from '../../check.types.ts';
import { days, isoDay } from '../subjects.ts';
import { ids, workspaceSubject } from './shared.ts';

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
