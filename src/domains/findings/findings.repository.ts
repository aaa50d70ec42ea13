import { type Insertable, type Selectable, sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { CheckResultsTable, FindingsTable } from '../monitoring/monitoring.tables.ts';

export type FindingRow = Selectable<FindingsTable>;

/** A row whose jsonb columns are given as values: they are serialised once, with the batch. */
type WithJsonValues<Row, Columns extends keyof Row> = Omit<Row, Columns> & { [C in Columns]: unknown };
export type NewCheckResult = WithJsonValues<Insertable<CheckResultsTable>, 'subject' | 'facts'>;
export type NewFinding = WithJsonValues<Insertable<FindingsTable>, 'subject'>;

// Many rows go in as one JSON recordset: one parameter instead of thousands (much cheaper to bind).
const rowsPerStatement = 2000;

export async function insertCheckResults(trx: Trx, rows: NewCheckResult[]) {
  for (let i = 0; i < rows.length; i += rowsPerStatement) {
    const chunk = rows.slice(i, i + rowsPerStatement);
    await sql`
      insert into check_results (
        workspace_id, run_id, check_id, subject_key, subject, status, detail, facts, as_of, evidence_id
      )
      select r.workspace_id, r.run_id, r.check_id, r.subject_key, r.subject, r.status, r.detail,
        coalesce(r.facts, '{}'), r.as_of, r.evidence_id
      from jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) as r(
        workspace_id uuid, run_id uuid, check_id text, subject_key text, subject jsonb, status text,
        detail text, facts jsonb, as_of timestamptz, evidence_id text
      )`.execute(trx);
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

/** The live findings of these checks about these subjects only (a run scoped to a change). */
export async function listLiveFindingsOfSubjects(
  trx: Trx,
  workspaceId: string,
  checkIds: string[],
  subjectKeys: string[],
) {
  if (checkIds.length === 0 || subjectKeys.length === 0) return [];
  return trx
    .selectFrom('findings')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('status', '<>', 'closed')
    .where('check_id', 'in', checkIds)
    .where(sql<boolean>`subject_key = any(${subjectKeys}::text[])`)
    .execute();
}

/** Per check, how many of its findings are open (suppressed ones excepted). */
export async function countOpenFindingsByCheck(trx: Trx, workspaceId: string, checkIds: string[]) {
  if (checkIds.length === 0) return new Map<string, number>();
  const rows = await trx
    .selectFrom('findings')
    .select(['check_id', sql<number>`count(*)::int`.as('open')])
    .where('workspace_id', '=', workspaceId)
    .where('status', '=', 'open')
    .where('check_id', 'in', checkIds)
    .groupBy('check_id')
    .execute();
  return new Map(rows.map((r) => [r.check_id, r.open]));
}

/** Which of these checks have an open finding (suppressed ones excepted): one index probe each. */
export async function listChecksWithOpenFindings(trx: Trx, workspaceId: string, checkIds: string[]) {
  if (checkIds.length === 0) return new Set<string>();
  // One probe per check along the live findings' index (workspace, check, subject), which the
  // condition and the order name exactly. As EXISTS, or with `status = 'open'`, the planner may
  // instead read every open finding of the workspace, for each check that has none.
  const { rows } = await sql<{ check_id: string }>`
    select c.check_id from unnest(${checkIds}::text[]) as c(check_id)
    cross join lateral (
      select 1 from findings f
      where f.workspace_id = ${workspaceId} and f.check_id = c.check_id
        and f.status <> 'closed' and f.status <> 'suppressed'
      order by f.workspace_id, f.check_id, f.subject_key
      limit 1) as one`.execute(trx);
  return new Set(rows.map((r) => r.check_id));
}

export async function insertFinding(trx: Trx, values: Insertable<FindingsTable>) {
  return trx.insertInto('findings').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Several new findings in one statement, returned in the order given. */
export async function insertFindings(trx: Trx, values: NewFinding[]) {
  const rows: FindingRow[] = [];
  for (let i = 0; i < values.length; i += rowsPerStatement) {
    const chunk = values.slice(i, i + rowsPerStatement);
    const { rows: inserted } = await sql<FindingRow>`
      insert into findings (
        workspace_id, check_id, subject_key, subject, control_ids, criteria, severity, status, detail,
        opened_at, closed_at, deadline, owner, evidence_ids, closing_evidence_id, exception_id
      )
      select f.workspace_id, f.check_id, f.subject_key, f.subject, f.control_ids, f.criteria, f.severity,
        f.status, f.detail, f.opened_at, f.closed_at, f.deadline, f.owner, coalesce(f.evidence_ids, '{}'),
        f.closing_evidence_id, f.exception_id
      from jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) as f(
        workspace_id uuid, check_id text, subject_key text, subject jsonb, control_ids text[],
        criteria text[], severity text, status text, detail text, opened_at timestamptz,
        closed_at timestamptz, deadline timestamptz, owner text, evidence_ids text[],
        closing_evidence_id text, exception_id uuid
      )
      returning *`.execute(trx);
    // RETURNING gives no order guarantee: match by the live key, unique among open findings.
    const byKey = new Map(inserted.map((r) => [`${r.check_id}\u0000${r.subject_key}`, r]));
    for (const v of chunk) rows.push(byKey.get(`${v.check_id}\u0000${v.subject_key}`)!);
  }
  return rows;
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

export interface NewTask {
  workspaceId: string;
  kind: string;
  title: string;
  findingId: string | null;
  assignee: string | null;
  dueAt: Date | null;
  details: Record<string, unknown>;
}

/** Several open tasks in one statement. */
export async function insertTasks(trx: Trx, tasks: NewTask[]) {
  for (let i = 0; i < tasks.length; i += rowsPerStatement) {
    const chunk = tasks.slice(i, i + rowsPerStatement);
    await sql`
      insert into tasks (workspace_id, kind, title, finding_id, assignee, status, due_at, details)
      select t."workspaceId", t.kind, t.title, t."findingId", t.assignee, 'open', t."dueAt", t.details
      from jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) as t(
        "workspaceId" uuid, kind text, title text, "findingId" uuid, assignee text, "dueAt" timestamptz,
        details jsonb
      )`.execute(trx);
  }
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
