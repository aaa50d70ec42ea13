import type { Insertable, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import type { Trx } from '../../../db/database.ts';
import type { ContinuityTestsTable } from './continuity.tables.ts';

export type ContinuityTestRow = Selectable<ContinuityTestsTable>;

export async function listContinuityRows(trx: Trx, workspaceId: string, asOf?: Date) {
  let q = trx.selectFrom('continuity_tests').selectAll().where('workspace_id', '=', workspaceId);
  if (asOf) q = q.where('performed_at', '<=', asOf);
  return q.orderBy('performed_at').orderBy('kind').orderBy(sql`lower(target)`).execute();
}

export async function findContinuityTest(trx: Trx, workspaceId: string, id: string) {
  return trx
    .selectFrom('continuity_tests')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findContinuityTestByKey(
  trx: Trx,
  workspaceId: string,
  kind: string,
  target: string,
  performedAt: Date,
) {
  return trx
    .selectFrom('continuity_tests')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', kind as ContinuityTestRow['kind'])
    .where(sql`lower(target)`, '=', target.toLowerCase())
    .where('performed_at', '=', performedAt)
    .executeTakeFirst();
}

export async function insertContinuityTest(trx: Trx, values: Insertable<ContinuityTestsTable>) {
  return trx.insertInto('continuity_tests').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateContinuityRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<ContinuityTestsTable>,
) {
  return trx
    .updateTable('continuity_tests')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
