import type { Insertable, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import type { Trx } from '../../../db/database.ts';
import { isUuid } from '../shared/values.ts';
import type {
  TrainingAssignmentsTable,
  TrainingCompletionsTable,
  TrainingCoursesTable,
} from './training.tables.ts';

export type CourseRow = Selectable<TrainingCoursesTable>;
export type CompletionRow = Selectable<TrainingCompletionsTable>;
export type AssignmentRow = Selectable<TrainingAssignmentsTable>;

export async function listCourseRows(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('training_courses')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy(sql`lower(code)`)
    .execute();
}

export async function findCourse(trx: Trx, workspaceId: string, ref: string) {
  return trx
    .selectFrom('training_courses')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) => (isUuid(ref) ? eb('id', '=', ref) : eb(sql`lower(code)`, '=', ref.trim().toLowerCase())))
    .executeTakeFirst();
}

export async function insertCourse(trx: Trx, values: Insertable<TrainingCoursesTable>) {
  return trx.insertInto('training_courses').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateCourseRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<TrainingCoursesTable>,
) {
  return trx
    .updateTable('training_courses')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listCompletionRows(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('training_completions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('completed_at')
    .orderBy('email')
    .execute();
}

export async function findCompletion(
  trx: Trx,
  workspaceId: string,
  courseId: string,
  email: string,
  completedAt: Date,
) {
  return trx
    .selectFrom('training_completions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('course_id', '=', courseId)
    .where('email', '=', email)
    .where('completed_at', '=', completedAt)
    .executeTakeFirst();
}

export async function insertCompletion(trx: Trx, values: Insertable<TrainingCompletionsTable>) {
  return trx.insertInto('training_completions').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function setCompletionEvidence(
  trx: Trx,
  workspaceId: string,
  id: string,
  evidenceId: string | null,
) {
  await trx
    .updateTable('training_completions')
    .set({ evidence_id: evidenceId })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export async function listAssignmentRows(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('training_assignments')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('due_at')
    .execute();
}

export async function insertAssignment(trx: Trx, values: Insertable<TrainingAssignmentsTable>) {
  return trx
    .insertInto('training_assignments')
    .values(values)
    .onConflict((oc) => oc.columns(['course_id', 'email', 'due_at']).doNothing())
    .returningAll()
    .executeTakeFirst();
}
