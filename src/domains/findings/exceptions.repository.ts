import type { Selectable } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { ExceptionsTable } from '../monitoring/monitoring.tables.ts';

export type ExceptionRow = Selectable<ExceptionsTable>;

export async function insertException(
  trx: Trx,
  values: {
    workspaceId: string;
    checkId: string;
    subjectKey: string;
    justification: string;
    approver: string;
    approvedAt: Date;
    expiresAt: Date;
    createdBy: string;
  },
) {
  return trx
    .insertInto('exceptions')
    .values({
      workspace_id: values.workspaceId,
      check_id: values.checkId,
      subject_key: values.subjectKey,
      justification: values.justification,
      approver: values.approver,
      approved_at: values.approvedAt,
      expires_at: values.expiresAt,
      revoked_at: null,
      created_by: values.createdBy,
      evidence_id: null,
      expiry_notified_at: null,
      revoked_by: null,
      revoke_reason: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findException(trx: Trx, workspaceId: string, id: string) {
  return trx
    .selectFrom('exceptions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function listExceptionRows(
  trx: Trx,
  workspaceId: string,
  filter: { checkId?: string | undefined },
) {
  let query = trx.selectFrom('exceptions').selectAll().where('workspace_id', '=', workspaceId);
  if (filter.checkId) query = query.where('check_id', '=', filter.checkId);
  return query.orderBy('created_at', 'desc').orderBy('id').execute();
}

/** An exception for this check and subject that is in force at `at` (not revoked, not expired). */
export async function findExceptionInForce(
  trx: Trx,
  workspaceId: string,
  checkId: string,
  subjectKey: string,
  at: Date,
) {
  return trx
    .selectFrom('exceptions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('check_id', '=', checkId)
    .where('subject_key', '=', subjectKey)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
}

export async function updateException(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Partial<{
    evidence_id: string | null;
    revoked_at: Date | null;
    revoked_by: string | null;
    revoke_reason: string | null;
    expiry_notified_at: Date | null;
  }>,
) {
  return trx
    .updateTable('exceptions')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Exceptions of these checks that expired by `at` and whose expiry has not been announced. */
export async function listUnannouncedExpiries(trx: Trx, workspaceId: string, checkIds: string[], at: Date) {
  if (checkIds.length === 0) return [];
  return trx
    .selectFrom('exceptions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('check_id', 'in', checkIds)
    .where('revoked_at', 'is', null)
    .where('expiry_notified_at', 'is', null)
    .where('expires_at', '<=', at)
    .orderBy('expires_at')
    .execute();
}

export async function findLiveFinding(trx: Trx, workspaceId: string, checkId: string, subjectKey: string) {
  return trx
    .selectFrom('findings')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('check_id', '=', checkId)
    .where('subject_key', '=', subjectKey)
    .where('status', '<>', 'closed')
    .executeTakeFirst();
}
