import type { Insertable, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import type { Trx } from '../../../db/database.ts';
import { isUuid } from '../shared/values.ts';
import type {
  FollowUpActionsTable,
  IncidentResponsePlansTable,
  IncidentsTable,
  TabletopExercisesTable,
} from './incidents.tables.ts';

export type IncidentRow = Selectable<IncidentsTable>;
export type ExerciseRow = Selectable<TabletopExercisesTable>;
export type FollowUpRow = Selectable<FollowUpActionsTable>;
export type PlanRow = Selectable<IncidentResponsePlansTable>;

export async function findPlan(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('incident_response_plans')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
}

export async function upsertPlan(trx: Trx, values: Insertable<IncidentResponsePlansTable>) {
  const { workspace_id: _w, ...rest } = values;
  return trx
    .insertInto('incident_response_plans')
    .values(values)
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet(rest))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listIncidentRows(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('incidents')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('detected_at')
    .orderBy(sql`lower(reference)`)
    .execute();
}

export async function findIncident(trx: Trx, workspaceId: string, ref: string) {
  return trx
    .selectFrom('incidents')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) =>
      isUuid(ref) ? eb('id', '=', ref) : eb(sql`lower(reference)`, '=', ref.trim().toLowerCase()),
    )
    .executeTakeFirst();
}

export async function insertIncident(trx: Trx, values: Insertable<IncidentsTable>) {
  return trx.insertInto('incidents').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateIncidentRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<IncidentsTable>,
) {
  return trx
    .updateTable('incidents')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listExerciseRows(trx: Trx, workspaceId: string, asOf?: Date) {
  let q = trx.selectFrom('tabletop_exercises').selectAll().where('workspace_id', '=', workspaceId);
  if (asOf) q = q.where('held_at', '<=', asOf);
  return q.orderBy('held_at').orderBy(sql`lower(title)`).execute();
}

export async function findExercise(trx: Trx, workspaceId: string, ref: string, heldAt?: Date) {
  let q = trx.selectFrom('tabletop_exercises').selectAll().where('workspace_id', '=', workspaceId);
  if (isUuid(ref)) q = q.where('id', '=', ref);
  else {
    q = q.where(sql`lower(title)`, '=', ref.trim().toLowerCase());
    if (heldAt) q = q.where('held_at', '=', heldAt);
  }
  return q.orderBy('held_at', 'desc').executeTakeFirst();
}

export async function insertExercise(trx: Trx, values: Insertable<TabletopExercisesTable>) {
  return trx.insertInto('tabletop_exercises').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateExerciseRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<TabletopExercisesTable>,
) {
  return trx
    .updateTable('tabletop_exercises')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listFollowUpRows(trx: Trx, workspaceId: string, asOf?: Date) {
  let q = trx.selectFrom('follow_up_actions').selectAll().where('workspace_id', '=', workspaceId);
  if (asOf) q = q.where('created_at', '<=', asOf);
  return q.orderBy('due_at').orderBy(sql`lower(title)`).execute();
}

export async function findFollowUp(trx: Trx, workspaceId: string, id: string) {
  if (!isUuid(id)) return undefined;
  return trx
    .selectFrom('follow_up_actions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findFollowUpByKey(
  trx: Trx,
  workspaceId: string,
  source: { exerciseId: string | null; incidentId: string | null },
  title: string,
) {
  let q = trx
    .selectFrom('follow_up_actions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where(sql`lower(title)`, '=', title.toLowerCase());
  q = source.exerciseId
    ? q.where('exercise_id', '=', source.exerciseId)
    : q.where('incident_id', '=', source.incidentId!);
  return q.executeTakeFirst();
}

export async function insertFollowUp(trx: Trx, values: Insertable<FollowUpActionsTable>) {
  return trx.insertInto('follow_up_actions').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateFollowUpRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<FollowUpActionsTable>,
) {
  return trx
    .updateTable('follow_up_actions')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
