import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { findException } from './exceptions.repository.ts';
import {
  type FindingFilter,
  findFinding,
  listFindings,
  listSubjectResults,
  listTasks,
  listTasksOfFinding,
  type TaskFilter,
} from './findings.repository.ts';

const statuses = ['open', 'closed', 'suppressed'] as const;
const severities = ['low', 'medium', 'high', 'critical'] as const;

export function parseFindingFilter(input: {
  status?: string | undefined;
  checkId?: string | undefined;
  severity?: string | undefined;
}): FindingFilter {
  if (input.status !== undefined && !(statuses as readonly string[]).includes(input.status)) {
    throw new AssayError(
      'validation_failed',
      `status "${input.status}": expected one of ${statuses.join(', ')}`,
      { field: 'status' },
    );
  }
  if (input.severity !== undefined && !(severities as readonly string[]).includes(input.severity)) {
    throw new AssayError(
      'validation_failed',
      `severity "${input.severity}": expected one of ${severities.join(', ')}`,
      {
        field: 'severity',
      },
    );
  }
  return {
    status: input.status as FindingFilter['status'],
    checkId: input.checkId,
    severity: input.severity,
  };
}

export async function listWorkspaceFindings(database: Database, workspaceRef: string, filter: FindingFilter) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) => listFindings(trx, workspace.id, filter));
}

export async function getFinding(database: Database, workspaceRef: string, id: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
  const row = isUuid
    ? await database.inWorkspace(workspace.id, (trx) => findFinding(trx, workspace.id, id))
    : undefined;
  if (!row)
    throw new AssayError('finding_not_found', `finding "${id}" does not exist in "${workspace.slug}"`);
  return row;
}

/** A finding with the history of its check's results for its subject, its tasks and its exception. */
export async function getFindingDetail(database: Database, workspaceRef: string, id: string) {
  const finding = await getFinding(database, workspaceRef, id);
  return database.inWorkspace(finding.workspace_id, async (trx) => {
    const [results, tasks, exception] = await Promise.all([
      listSubjectResults(trx, finding.workspace_id, finding.check_id, finding.subject_key),
      listTasksOfFinding(trx, finding.workspace_id, finding.id),
      finding.exception_id ? findException(trx, finding.workspace_id, finding.exception_id) : undefined,
    ]);
    return { finding, results, tasks, exception: exception ?? null };
  });
}

const taskStatuses = ['open', 'done', 'cancelled'] as const;

export function parseTaskFilter(input: {
  status?: string | undefined;
  assignee?: string | undefined;
}): TaskFilter {
  if (input.status !== undefined && !(taskStatuses as readonly string[]).includes(input.status)) {
    throw new AssayError(
      'validation_failed',
      `status "${input.status}": expected one of ${taskStatuses.join(', ')}`,
      {
        field: 'status',
      },
    );
  }
  return { status: input.status as TaskFilter['status'], assignee: input.assignee };
}

export async function listWorkspaceTasks(database: Database, workspaceRef: string, filter: TaskFilter) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) => listTasks(trx, workspace.id, filter));
}
