import type { Trx } from '../../db/database.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { criteriaForCategories, loadCatalog, templatesForCriteria } from '../catalog/catalog.loader.ts';
import type { TrustServicesCategory } from '../catalog/catalog.types.ts';
import { deactivateControlsExcept, upsertControlsFromTemplates } from '../controls/controls.repository.ts';
import { findScope, upsertScope } from './scope.repository.ts';

/**
 * Records the categories in scope and brings the workspace's controls in line with them, in the
 * caller's transaction: controls for newly applicable templates are added (or brought back), and
 * controls no longer applicable are set aside, never deleted.
 */
export async function applyScope(
  trx: Trx,
  workspace: { id: string; slug: string; catalog_version: string },
  categories: TrustServicesCategory[],
  actor: Actor,
) {
  const catalog = loadCatalog(workspace.catalog_version);
  const criteria = criteriaForCategories(catalog, categories);
  const templates = templatesForCriteria(
    catalog,
    criteria.map((c) => c.id),
  );
  const previous = await findScope(trx, workspace.id);
  await upsertScope(trx, workspace.id, categories, catalog.version);
  const added = await upsertControlsFromTemplates(trx, workspace.id, templates);
  const setAside = await deactivateControlsExcept(
    trx,
    workspace.id,
    templates.map((t) => t.id),
  );
  await recordAudit(trx, {
    workspaceId: workspace.id,
    actor,
    action: 'scope.set',
    targetType: 'workspace',
    targetId: workspace.id,
    details: {
      previous: previous?.categories ?? null,
      categories,
      controlsAdded: added.map((c) => c.template_id),
      controlsSetAside: setAside.map((c) => c.template_id),
    },
  });
  return {
    workspace: workspace.slug,
    catalogVersion: catalog.version,
    categories,
    criteria: criteria.length,
    controls: templates.length,
    controlsAdded: added.map((c) => c.template_id),
    controlsSetAside: setAside.map((c) => c.template_id),
  };
}
