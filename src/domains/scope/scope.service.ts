import type { Database } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { type TrustServicesCategory, trustServicesCategories } from '../catalog/catalog.types.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { applyScope } from './apply-scope.ts';
import { findScope, findSystemByName, insertSystem, listSystems } from './scope.repository.ts';
import type { DataClassification, SystemEnvironment, SystemKind } from './scope.tables.ts';

const categoryAliases: Record<string, TrustServicesCategory> = {
  'processing-integrity': 'processing_integrity',
  pi: 'processing_integrity',
};

/** Parses category names as a person types them; Security is always in scope. */
export function parseCategories(input: readonly string[]): TrustServicesCategory[] {
  const chosen = new Set<TrustServicesCategory>(['security']);
  for (const raw of input) {
    const name = raw.trim().toLowerCase();
    if (name === '') continue;
    const category = categoryAliases[name] ?? name;
    if (!(trustServicesCategories as readonly string[]).includes(category)) {
      throw new AssayError(
        'unknown_category',
        `unknown category "${raw}" (expected one of ${trustServicesCategories.join(', ')})`,
        { field: 'categories', value: raw },
      );
    }
    chosen.add(category as TrustServicesCategory);
  }
  return trustServicesCategories.filter((c) => chosen.has(c));
}

export async function setScope(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  categoryNames: string[],
) {
  const categories = parseCategories(categoryNames);
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) => applyScope(trx, workspace, categories, actor));
}

export async function getScope(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const scope = await findScope(trx, workspace.id);
    const systems = await listSystems(trx, workspace.id);
    return { workspace, scope, systems };
  });
}

export interface AddSystemInput {
  name: string;
  kind: SystemKind;
  environment: SystemEnvironment;
  owner?: string | undefined;
  dataClassification: DataClassification;
  description?: string | undefined;
}

export async function addSystem(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: AddSystemInput,
) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    if (await findSystemByName(trx, workspace.id, input.name)) {
      throw new AssayError('validation_failed', `name: a system named "${input.name}" is already in scope`, {
        field: 'name',
      });
    }
    const row = await insertSystem(trx, {
      workspace_id: workspace.id,
      name: input.name,
      kind: input.kind,
      environment: input.environment,
      owner: input.owner ?? null,
      data_classification: input.dataClassification,
      description: input.description ?? '',
    });
    await recordAudit(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'system.added',
      targetType: 'system',
      targetId: row.id,
      details: { name: row.name, kind: row.kind, environment: row.environment },
    });
    return row;
  });
}

export async function listScopeSystems(database: Database, workspaceRef: string) {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, (trx) => listSystems(trx, workspace.id));
}
