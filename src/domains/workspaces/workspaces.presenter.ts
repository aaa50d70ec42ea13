import type { Selectable } from 'kysely';
import { Type } from 'typebox';
import type { WorkspacesTable } from './workspaces.tables.ts';

export const WorkspaceSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    slug: Type.String(),
    name: Type.String(),
    kind: Type.Union([Type.Literal('company'), Type.Literal('msp')]),
    parentId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    catalogVersion: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Workspace' },
);

export function presentWorkspace(row: Selectable<WorkspacesTable>) {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    kind: row.kind,
    parentId: row.parent_id,
    catalogVersion: row.catalog_version,
    createdAt: row.created_at.toISOString(),
  };
}
