/**
 * Who owes which training, by when. Assignments follow from the courses and HR's roster: a new
 * hire owes each course in their audience within the course's allowance from their start date,
 * staff already employed when a course began owe it within the allowance from then, an annual
 * course is owed again a year after the last completion, and role-specific courses target
 * departments or job titles. Assignments made by hand add to these. Derived at any instant, so
 * a hire imported from HR is assigned without anyone pressing a button.
 */
import { addDays } from '../shared/values.ts';
import type { CourseRow } from './training.repository.ts';

export interface CourseView {
  id: string;
  code: string;
  title: string;
  kind: string;
  frequency: 'once' | 'annual';
  dueDays: number;
  audienceDepartments: string[];
  audienceTitles: string[];
  active: boolean;
  effectiveFrom: Date;
}

export interface Trainee {
  email: string;
  name: string | null;
  department: string | null;
  title: string | null;
  startDate: Date | null;
}

export interface Completion {
  courseId: string;
  email: string;
  completedAt: Date;
  evidenceId: string | null;
}

export interface ManualAssignment {
  courseId: string;
  email: string;
  assignedAt: Date;
  dueAt: Date;
}

export type AssignmentReason = 'on_hire' | 'initial' | 'annual' | 'role_specific' | 'manual';
export type AssignmentState = 'completed' | 'current' | 'due' | 'overdue';

export interface Assignment {
  course: CourseView;
  email: string;
  name: string | null;
  reason: AssignmentReason;
  dueAt: Date;
  state: AssignmentState;
  lastCompletedAt: Date | null;
  evidenceId: string | null;
}

export function inAudience(course: CourseView, person: Trainee): boolean {
  if (course.audienceDepartments.length === 0 && course.audienceTitles.length === 0) return true;
  const department = person.department?.toLowerCase() ?? '';
  const title = person.title?.toLowerCase() ?? '';
  return (
    course.audienceDepartments.some((d) => d.toLowerCase() === department) ||
    course.audienceTitles.some((t) => title.includes(t.toLowerCase()))
  );
}

export function deriveAssignments(input: {
  courses: CourseView[];
  people: Trainee[];
  completions: Completion[];
  manual: ManualAssignment[];
  asOf: Date;
}): Assignment[] {
  const { asOf } = input;
  const done = new Map<string, Completion[]>();
  for (const c of input.completions) {
    if (c.completedAt > asOf) continue;
    const key = `${c.courseId}\u0000${c.email}`;
    done.set(key, [...(done.get(key) ?? []), c]);
  }
  for (const list of done.values()) list.sort((a, b) => a.completedAt.getTime() - b.completedAt.getTime());
  const out: Assignment[] = [];
  const people = new Map(input.people.map((p) => [p.email, p]));
  for (const course of input.courses) {
    if (!course.active || course.effectiveFrom > asOf) continue;
    for (const person of input.people) {
      if (!inAudience(course, person)) continue;
      const completions = done.get(`${course.id}\u0000${person.email}`) ?? [];
      const last = completions.at(-1) ?? null;
      const hiredAfter = person.startDate !== null && person.startDate >= course.effectiveFrom;
      const base = hiredAfter ? person.startDate! : course.effectiveFrom;
      const firstReason: AssignmentReason = hiredAfter
        ? 'on_hire'
        : course.kind === 'role_specific'
          ? 'role_specific'
          : 'initial';
      let dueAt: Date;
      let reason: AssignmentReason;
      let state: AssignmentState;
      if (course.frequency === 'once') {
        dueAt = addDays(base, course.dueDays);
        reason = firstReason;
        state = last ? 'completed' : asOf > dueAt ? 'overdue' : 'due';
      } else if (last) {
        dueAt = addDays(last.completedAt, 365);
        reason = 'annual';
        state = asOf > dueAt ? 'overdue' : 'current';
      } else {
        dueAt = addDays(base, course.dueDays);
        reason = firstReason;
        state = asOf > dueAt ? 'overdue' : 'due';
      }
      out.push({
        course,
        email: person.email,
        name: person.name,
        reason,
        dueAt,
        state,
        lastCompletedAt: last?.completedAt ?? null,
        evidenceId: last?.evidenceId ?? null,
      });
    }
  }
  const courseById = new Map(input.courses.map((c) => [c.id, c]));
  for (const m of input.manual) {
    const course = courseById.get(m.courseId);
    if (!course || m.assignedAt > asOf) continue;
    const completion =
      (done.get(`${m.courseId}\u0000${m.email}`) ?? []).find((c) => c.completedAt >= m.assignedAt) ?? null;
    out.push({
      course,
      email: m.email,
      name: people.get(m.email)?.name ?? null,
      reason: 'manual',
      dueAt: m.dueAt,
      state: completion ? 'completed' : asOf > m.dueAt ? 'overdue' : 'due',
      lastCompletedAt: completion?.completedAt ?? null,
      evidenceId: completion?.evidenceId ?? null,
    });
  }
  return out.sort((a, b) => a.email.localeCompare(b.email) || a.course.code.localeCompare(b.course.code));
}

export function courseView(row: CourseRow): CourseView {
  return {
    id: row.id,
    code: row.code,
    title: row.title,
    kind: row.kind,
    frequency: row.frequency,
    dueDays: row.due_days,
    audienceDepartments: row.audience_departments,
    audienceTitles: row.audience_titles,
    active: row.active,
    effectiveFrom: row.effective_from,
  };
}

export function presentAssignment(a: Assignment) {
  return {
    course: a.course.code,
    email: a.email,
    name: a.name,
    reason: a.reason,
    dueAt: a.dueAt.toISOString(),
    state: a.state,
    lastCompletedAt: a.lastCompletedAt?.toISOString() ?? null,
  };
}
