/** Checks over the training register: assigned training completed on time (CC1.4). */
import type { Trx } from '../../../../db/database.ts';
import { type Assignment, courseView, deriveAssignments } from '../../../registers/training/assignments.ts';
import {
  listAssignmentRows,
  listCompletionRows,
  listCourseRows,
} from '../../../registers/training/training.repository.ts';
import { type CheckOutcome, defineCheck, type Subject } from '../../check.types.ts';
import { isoDay, personSubject } from '../subjects.ts';
import { ids } from './shared.ts';

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
