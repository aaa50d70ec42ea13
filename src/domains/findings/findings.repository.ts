import type { Insertable, Selectable } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { CheckResultsTable, FindingsTable } from '../monitoring/monitoring.tables.ts';

export type FindingRow = Selectable<FindingsTable>;

export async function insertCheckResults(trx: Trx, rows: Insertable<CheckResultsTable>[]) {
  for (let i = 0; i < rows.length; i += 500) {
    await trx
      .insertInto('check_results')
      .values(rows.slice(i, i + 500))
      .execute();
  }
}

export async function listLiveFindings(trx: Trx, workspaceId: string, checkIds: string[]) {
  if (checkIds.length === 0) return [];
  return trx
    .selectFrom('findings')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('status', '<>', 'closed')
    .where('check_id', 'in', checkIds)
    .execute();
}

export async function insertFinding(trx: Trx, values: Insertable<FindingsTable>) {
  return trx.insertInto('findings').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateFinding(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Partial<{
    status: 'open' | 'closed' | 'suppressed';
    detail: string;
    closed_at: Date | null;
    closing_evidence_id: string | null;
    exception_id: string | null;
    evidence_ids: string[];
    owner: string | null;
    control_ids: string[];
  }>,
) {
  return trx
    .updateTable('findings')
    .set({ ...values, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface FindingFilter {
  status?: 'open' | 'closed' | 'suppressed' | undefined;
  checkId?: string | undefined;
  severity?: string | undefined;
}

export async function listFindings(trx: Trx, workspaceId: string, filter: FindingFilter) {
  let query = trx.selectFrom('findings').selectAll().where('workspace_id', '=', workspaceId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.checkId) query = query.where('check_id', '=', filter.checkId);
  if (filter.severity) query = query.where('severity', '=', filter.severity as FindingRow['severity']);
  return query.orderBy('opened_at', 'desc').orderBy('check_id').execute();
}

export async function findFinding(trx: Trx, workspaceId: string, id: string) {
  return trx
    .selectFrom('findings')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function insertTask(
  trx: Trx,
  values: {
    workspaceId: string;
    kind: string;
    title: string;
    findingId: string | null;
    assignee: string | null;
    dueAt: Date | null;
    details: Record<string, unknown>;
  },
) {
  return trx
    .insertInto('tasks')
    .values({
      workspace_id: values.workspaceId,
      kind: values.kind,
      title: values.title,
      finding_id: values.findingId,
      assignee: values.assignee,
      status: 'open',
      due_at: values.dueAt,
      completed_at: null,
      details: JSON.stringify(values.details),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export async function completeTasksForFinding(
  trx: Trx,
  workspaceId: string,
  findingId: string,
  status: 'done' | 'cancelled',
  at: Date,
) {
  await trx
    .updateTable('tasks')
    .set({ status, completed_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('finding_id', '=', findingId)
    .where('status', '=', 'open')
    .execute();
}

export async function listActiveExceptions(trx: Trx, workspaceId: string, at: Date) {
  return trx
    .selectFrom('exceptions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('revoked_at', 'is', null)
    .where('approved_at', '<=', at)
    .where('expires_at', '>', at)
    .execute();
}

export async function listCheckSettings(trx: Trx, workspaceId: string) {
  return trx.selectFrom('check_settings').selectAll().where('workspace_id', '=', workspaceId).execute();
}

export async function insertCheckRun(
  trx: Trx,
  values: { id: string; workspaceId: string; trigger: string; asOf: Date; checkIds: string[] },
) {
  await trx
    .insertInto('check_runs')
    .values({
      id: values.id,
      workspace_id: values.workspaceId,
      trigger: values.trigger,
      as_of: values.asOf,
      check_ids: values.checkIds,
      finished_at: null,
    })
    .execute();
}

export async function finishCheckRun(
  trx: Trx,
  workspaceId: string,
  id: string,
  results: number,
  failures: number,
) {
  await trx
    .updateTable('check_runs')
    .set({ results, failures, finished_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export async function currentControlStatuses(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('control_status_intervals')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('valid_to', 'is', null)
    .execute();
}

export async function closeControlInterval(trx: Trx, workspaceId: string, id: number, at: Date) {
  await trx
    .updateTable('control_status_intervals')
    .set({ valid_to: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

export async function openControlInterval(
  trx: Trx,
  values: {
    workspaceId: string;
    controlId: string;
    status: 'passing' | 'failing' | 'at_risk' | 'no_data';
    at: Date;
    runId: string;
    reason: string;
  },
) {
  await trx
    .insertInto('control_status_intervals')
    .values({
      workspace_id: values.workspaceId,
      control_id: values.controlId,
      status: values.status,
      valid_from: values.at,
      valid_to: null,
      run_id: values.runId,
      reason: values.reason,
    })
    .execute();
  await trx
    .updateTable('controls')
    .set({ status: values.status, updated_at: new Date() })
    .where('workspace_id', '=', values.workspaceId)
    .where('id', '=', values.controlId)
    .execute();
}

/** The results of one check for one subject, newest first: a finding's history. */
export async function listSubjectResults(
  trx: Trx,
  workspaceId: string,
  checkId: string,
  subjectKey: string,
  limit = 200,
) {
  return trx
    .selectFrom('check_results')
    .select(['id', 'run_id', 'status', 'detail', 'facts', 'as_of', 'evaluated_at', 'evidence_id'])
    .where('workspace_id', '=', workspaceId)
    .where('check_id', '=', checkId)
    .where('subject_key', '=', subjectKey)
    .orderBy('as_of', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function listTasksOfFinding(trx: Trx, workspaceId: string, findingId: string) {
  return trx
    .selectFrom('tasks')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('finding_id', '=', findingId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export interface TaskFilter {
  status?: 'open' | 'done' | 'cancelled' | undefined;
  assignee?: string | undefined;
}

export async function listTasks(trx: Trx, workspaceId: string, filter: TaskFilter) {
  let query = trx.selectFrom('tasks').selectAll().where('workspace_id', '=', workspaceId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.assignee) query = query.where('assignee', '=', filter.assignee);
  return query.orderBy('due_at').orderBy('created_at').orderBy('id').execute();
}
