import type { Insertable } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { SystemsTable } from './scope.tables.ts';

export async function findScope(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('workspace_scopes')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
}

export async function upsertScope(
  trx: Trx,
  workspaceId: string,
  categories: string[],
  catalogVersion: string,
) {
  return trx
    .insertInto('workspace_scopes')
    .values({ workspace_id: workspaceId, categories, catalog_version: catalogVersion })
    .onConflict((oc) =>
      oc
        .column('workspace_id')
        .doUpdateSet({ categories, catalog_version: catalogVersion, updated_at: new Date() }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertSystem(trx: Trx, values: Insertable<SystemsTable>) {
  return trx.insertInto('systems').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function findSystemByName(trx: Trx, workspaceId: string, name: string) {
  return trx
    .selectFrom('systems')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function listSystems(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('systems')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('name')
    .execute();
}
