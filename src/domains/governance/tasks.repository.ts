/**
 * Governance tasks (deprovisioning, revocations, onboarding items, review reminders): the queries
 * every governance flow shares. One typed query per function; callers pass the workspace's
 * transaction.
 */
import { type Insertable, type Selectable, sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { TasksTable } from '../monitoring/monitoring.tables.ts';

export type TaskRow = Selectable<TasksTable>;

/** The open tasks of one kind (or of any of several kinds). */
export async function listOpenTasks(trx: Trx, workspaceId: string, kind: string | readonly string[]) {
  const kinds = typeof kind === 'string' ? [kind] : [...kind];
  return trx
    .selectFrom('tasks')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('kind', 'in', kinds)
    .where('status', '=', 'open')
    .execute();
}

/** Open tasks of these kinds due by `asOf`, earliest deadline first. */
export async function listOverdueTasks(trx: Trx, workspaceId: string, kinds: readonly string[], asOf: Date) {
  return trx
    .selectFrom('tasks')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('kind', 'in', [...kinds])
    .where('status', '=', 'open')
    .where('due_at', '<=', asOf)
    .orderBy('due_at')
    .execute();
}

export async function insertTask(
  trx: Trx,
  workspaceId: string,
  values: Omit<Insertable<TasksTable>, 'workspace_id'>,
) {
  return trx
    .insertInto('tasks')
    .values({ ...values, workspace_id: workspaceId })
    .returning('id')
    .executeTakeFirstOrThrow();
}

/** Marks a task done at `completedAt` with its final details (e.g. the evidence id). */
export async function closeTask(
  trx: Trx,
  workspaceId: string,
  taskId: string,
  completedAt: Date,
  details: Record<string, unknown>,
) {
  return trx
    .updateTable('tasks')
    .set({ status: 'done', completed_at: completedAt, details: JSON.stringify(details) })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', taskId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Points tasks at the finding that holds them. */
export async function linkTasksToFinding(
  trx: Trx,
  workspaceId: string,
  taskIds: string[],
  findingId: string,
) {
  await trx
    .updateTable('tasks')
    .set({ finding_id: findingId })
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', taskIds)
    .execute();
}

export interface TaskListFilter {
  /** One person's tasks only (their `personEmail`, lower case). */
  personEmail?: string | undefined;
  kind?: string | undefined;
  status?: TaskRow['status'] | undefined;
}

/** Tasks of these kinds, oldest first, optionally of one person, kind or status only. */
export async function listTasksOfKinds(
  trx: Trx,
  workspaceId: string,
  kinds: readonly string[],
  filter: TaskListFilter = {},
) {
  let query = trx
    .selectFrom('tasks')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('kind', 'in', [...kinds]);
  if (filter.personEmail)
    query = query.where(sql<boolean>`details ->> 'personEmail' = ${filter.personEmail}`);
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  if (filter.status) query = query.where('status', '=', filter.status);
  return query.orderBy('created_at').orderBy('id').execute();
}
