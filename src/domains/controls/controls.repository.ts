import type { Trx } from '../../db/database.ts';
import type { ControlTemplate } from '../catalog/catalog.types.ts';

export async function listControlRows(
  trx: Trx,
  workspaceId: string,
  options: { includeInactive?: boolean } = {},
) {
  let query = trx.selectFrom('controls').selectAll().where('workspace_id', '=', workspaceId);
  if (!options.includeInactive) query = query.where('active', '=', true);
  return query.orderBy('template_id').execute();
}

export async function findControl(trx: Trx, workspaceId: string, idOrTemplateId: string) {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrTemplateId);
  return trx
    .selectFrom('controls')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where(isUuid ? 'id' : 'template_id', '=', idOrTemplateId)
    .executeTakeFirst();
}

/** Adds the templates' controls that are missing and reactivates those that were set aside. */
export async function upsertControlsFromTemplates(
  trx: Trx,
  workspaceId: string,
  templates: ControlTemplate[],
) {
  if (templates.length === 0) return [];
  return trx
    .insertInto('controls')
    .values(
      templates.map((t) => ({
        workspace_id: workspaceId,
        template_id: t.id,
        title: t.title,
        description: t.description,
        frequency: t.frequency,
        owner_role: t.ownerRole,
        criteria: t.criteria,
        evidence: t.evidence,
        checks: t.automation.checks,
      })),
    )
    .onConflict((oc) =>
      oc
        .columns(['workspace_id', 'template_id'])
        .doUpdateSet({ active: true, updated_at: new Date() })
        .where('controls.active', '=', false),
    )
    .returning(['id', 'template_id'])
    .execute();
}

/** Sets aside (never deletes: history matters) the controls whose templates no longer apply. */
export async function deactivateControlsExcept(trx: Trx, workspaceId: string, keepTemplateIds: string[]) {
  let query = trx
    .updateTable('controls')
    .set({ active: false, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('active', '=', true);
  if (keepTemplateIds.length > 0) query = query.where('template_id', 'not in', keepTemplateIds);
  return query.returning(['id', 'template_id']).execute();
}

export async function updateControlOwner(
  trx: Trx,
  workspaceId: string,
  controlIds: string[],
  owner: string | null,
) {
  if (controlIds.length === 0) return [];
  return trx
    .updateTable('controls')
    .set({ owner, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', controlIds)
    .returningAll()
    .execute();
}
