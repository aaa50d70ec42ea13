import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { type FindingFilter, findFinding, listFindings } from './findings.repository.ts';

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
