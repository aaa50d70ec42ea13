import type { Kysely } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { DB } from '../../db/schema.ts';
import type { WorkspaceKind } from './workspaces.tables.ts';

type Executor = Kysely<DB> | Trx;

export async function findWorkspaceBySlugOrId(db: Executor, slugOrId: string) {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(slugOrId);
  return db
    .selectFrom('workspaces')
    .selectAll()
    .where(isUuid ? 'id' : 'slug', '=', isUuid ? slugOrId.toLowerCase() : slugOrId)
    .executeTakeFirst();
}

export async function insertWorkspace(
  trx: Trx,
  values: {
    slug: string;
    name: string;
    kind: WorkspaceKind;
    parentId: string | null;
    catalogVersion: string;
  },
) {
  return trx
    .insertInto('workspaces')
    .values({
      slug: values.slug,
      name: values.name,
      kind: values.kind,
      parent_id: values.parentId,
      catalog_version: values.catalogVersion,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listWorkspaces(db: Executor, filter: { parentId?: string } = {}) {
  let query = db.selectFrom('workspaces').selectAll().orderBy('slug');
  if (filter.parentId !== undefined) query = query.where('parent_id', '=', filter.parentId);
  return query.execute();
}
