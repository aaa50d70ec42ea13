import type { Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { criteriaForCategories, loadCatalog } from '../catalog/catalog.loader.ts';
import type { TrustServicesCategory } from '../catalog/catalog.types.ts';
import { findScope } from '../scope/scope.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { findControl, listControlRows, updateControlOwner } from './controls.repository.ts';
import type { ControlsTable } from './controls.tables.ts';

export type ControlRow = Selectable<ControlsTable>;

export async function listControls(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) => listControlRows(trx, workspace.id));
}

export async function getControl(database: Database, workspaceRef: string, controlRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  const row = await database.inWorkspace(workspace.id, (trx) => findControl(trx, workspace.id, controlRef));
  if (!row)
    throw new AssayError(
      'control_not_found',
      `control "${controlRef}" does not exist in "${workspace.slug}"`,
    );
  return row;
}

export interface AssignOwnerInput {
  /** One control, by id or template id. */
  control?: string | undefined;
  /** Or every active control whose owner role is this one. */
  ownerRole?: string | undefined;
  /** Email or name of the owner; null clears it. */
  owner: string | null;
}

export async function assignControlOwner(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: AssignOwnerInput,
) {
  if ((input.control === undefined) === (input.ownerRole === undefined)) {
    throw new AssayError('validation_failed', 'give exactly one of control or ownerRole', {
      field: 'control',
    });
  }
  const owner = input.owner === null ? null : input.owner.trim();
  if (owner !== null && (owner.length === 0 || owner.length > 200)) {
    throw new AssayError('validation_failed', 'owner: must be 1–200 characters', { field: 'owner' });
  }
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    let ids: string[];
    if (input.control !== undefined) {
      const row = await findControl(trx, workspace.id, input.control);
      if (!row) {
        throw new AssayError(
          'control_not_found',
          `control "${input.control}" does not exist in "${workspace.slug}"`,
        );
      }
      ids = [row.id];
    } else {
      const rows = await listControlRows(trx, workspace.id);
      ids = rows.filter((r) => r.owner_role === input.ownerRole).map((r) => r.id);
      if (ids.length === 0) {
        throw new AssayError(
          'validation_failed',
          `ownerRole: no active control has owner role "${input.ownerRole}"`,
          {
            field: 'ownerRole',
          },
        );
      }
    }
    const updated = await updateControlOwner(trx, workspace.id, ids, owner);
    for (const row of updated) {
      await recordAudit(trx, {
        workspaceId: workspace.id,
        actor,
        action: 'control.owner_assigned',
        targetType: 'control',
        targetId: row.id,
        details: { templateId: row.template_id, owner },
      });
    }
    return updated;
  });
}

export interface CoverageEntry {
  criterion: string;
  category: TrustServicesCategory;
  title: string;
  controls: { id: string; templateId: string; title: string; owner: string | null; ownerRole: string }[];
  covered: boolean;
  owned: boolean;
}

export interface CoverageReport {
  workspace: string;
  catalogVersion: string;
  categories: TrustServicesCategory[];
  criteria: CoverageEntry[];
  gaps: { uncovered: string[]; withoutOwner: string[]; controlsWithoutOwner: string[] };
}

/** Per in-scope criterion, the controls covering it and whether each has an owner; names the gaps. */
export async function coverageReport(database: Database, workspaceRef: string): Promise<CoverageReport> {
  const workspace = await getWorkspace(database, workspaceRef);
  const { scope, controls } = await database.inWorkspace(workspace.id, async (trx) => ({
    scope: await findScope(trx, workspace.id),
    controls: await listControlRows(trx, workspace.id),
  }));
  const catalog = loadCatalog(scope?.catalog_version ?? workspace.catalog_version);
  const categories = (scope?.categories ?? ['security']) as TrustServicesCategory[];
  const criteria = criteriaForCategories(catalog, categories);
  const byCriterion = new Map<string, ControlRow[]>();
  for (const control of controls) {
    for (const criterion of control.criteria) {
      const list = byCriterion.get(criterion) ?? [];
      list.push(control);
      byCriterion.set(criterion, list);
    }
  }
  const entries: CoverageEntry[] = criteria.map((criterion) => {
    const covering = byCriterion.get(criterion.id) ?? [];
    return {
      criterion: criterion.id,
      category: criterion.category,
      title: criterion.title,
      controls: covering.map((c) => ({
        id: c.id,
        templateId: c.template_id,
        title: c.title,
        owner: c.owner,
        ownerRole: c.owner_role,
      })),
      covered: covering.length > 0,
      owned: covering.some((c) => c.owner !== null),
    };
  });
  return {
    workspace: workspace.slug,
    catalogVersion: catalog.version,
    categories,
    criteria: entries,
    gaps: {
      uncovered: entries.filter((e) => !e.covered).map((e) => e.criterion),
      withoutOwner: entries.filter((e) => e.covered && !e.owned).map((e) => e.criterion),
      controlsWithoutOwner: controls.filter((c) => c.owner === null).map((c) => c.template_id),
    },
  };
}
