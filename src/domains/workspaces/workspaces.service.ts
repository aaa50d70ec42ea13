import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { currentCatalogVersion } from '../catalog/catalog.loader.ts';
import { applyScope } from '../scope/apply-scope.ts';
import { findWorkspaceBySlugOrId, insertWorkspace, listWorkspaces } from './workspaces.repository.ts';
import type { WorkspaceKind } from './workspaces.tables.ts';

export const slugPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface CreateWorkspaceInput {
  slug: string;
  name?: string | undefined;
  kind?: WorkspaceKind | undefined;
  parent?: string | undefined;
}

export async function createWorkspace(database: Database, actor: Actor, input: CreateWorkspaceInput) {
  if (!slugPattern.test(input.slug)) {
    throw new AssayError(
      'validation_failed',
      `slug "${input.slug}": use 1–63 lowercase letters, digits or hyphens, starting with a letter or digit`,
      { field: 'slug' },
    );
  }
  const name = (input.name ?? input.slug).trim();
  if (name.length === 0 || name.length > 200) {
    throw new AssayError('validation_failed', 'name: must be 1–200 characters', { field: 'name' });
  }
  return database.inSystem(async (trx) => {
    let parentId: string | null = null;
    if (input.parent !== undefined) {
      const parent = await findWorkspaceBySlugOrId(trx, input.parent);
      if (!parent) {
        throw new AssayError(
          'parent_workspace_not_found',
          `parent workspace "${input.parent}" does not exist`,
          {
            field: 'parent',
          },
        );
      }
      if (parent.kind !== 'msp') {
        throw new AssayError(
          'parent_not_msp',
          `workspace "${parent.slug}" is not an MSP workspace and cannot own clients ` +
            '(create MSP workspaces with kind "msp")',
          { field: 'parent' },
        );
      }
      parentId = parent.id;
    }
    if (await findWorkspaceBySlugOrId(trx, input.slug)) {
      throw new AssayError('workspace_exists', `workspace "${input.slug}" already exists`, { field: 'slug' });
    }
    const row = await insertWorkspace(trx, {
      slug: input.slug,
      name,
      kind: input.kind ?? 'company',
      parentId,
      catalogVersion: currentCatalogVersion,
    });
    await recordAudit(trx, {
      workspaceId: row.id,
      actor,
      action: 'workspace.created',
      targetType: 'workspace',
      targetId: row.id,
      details: { slug: row.slug, kind: row.kind, parentId },
    });
    // Security is always in scope: a new workspace starts with its controls.
    await applyScope(trx, row, ['security'], actor);
    return row;
  });
}

/** Finds a workspace by slug or id, or fails with `workspace_not_found`. */
export async function getWorkspace(database: Database, slugOrId: string) {
  const row = await findWorkspaceBySlugOrId(database.db, slugOrId);
  if (!row) throw new AssayError('workspace_not_found', `workspace "${slugOrId}" does not exist`);
  return row;
}

export async function listAllWorkspaces(database: Database, filter: { parent?: string } = {}) {
  if (filter.parent === undefined) return listWorkspaces(database.db);
  const parent = await getWorkspace(database, filter.parent);
  return listWorkspaces(database.db, { parentId: parent.id });
}
