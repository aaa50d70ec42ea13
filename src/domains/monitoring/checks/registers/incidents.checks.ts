/**
 * Checks over the incident register: the response plan tested every year and follow-up actions closed on
 * time (CC7.4, CC7.5).
 */
import type { Trx } from '../../../../db/database.ts';
import {
  findPlan,
  listExerciseRows,
  listFollowUpRows,
} from '../../../registers/incidents/incidents.repository.ts';
import { lastPlanTest } from '../../../registers/incidents/plan.ts';
import { addDays } from '../../../registers/shared/values.ts';
import { defineCheck, type Subject } from '../../check.types.ts';
import { days, isoDay } from '../subjects.ts';
import { ids, workspaceSubject } from './shared.ts';

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
