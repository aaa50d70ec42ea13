import type { Insertable, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import type { Trx } from '../../../db/database.ts';
import { isUuid } from '../shared/values.ts';
import type { ChangeRecordsTable } from './changes.tables.ts';

export type ChangeRow = Selectable<ChangeRecordsTable>;

export async function listChangeRows(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('change_records')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy(sql`coalesce(implemented_at, created_at)`)
    .orderBy(sql`lower(ticket)`)
    .execute();
}

export async function findChange(trx: Trx, workspaceId: string, ref: string) {
  return trx
    .selectFrom('change_records')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) => (isUuid(ref) ? eb('id', '=', ref) : eb(sql`lower(ticket)`, '=', ref.trim().toLowerCase())))
    .executeTakeFirst();
}

export async function insertChange(trx: Trx, values: Insertable<ChangeRecordsTable>) {
  return trx.insertInto('change_records').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateChangeRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<ChangeRecordsTable>,
) {
  return trx
    .updateTable('change_records')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
