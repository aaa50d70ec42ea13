/**
 * Writes a client's changed template items into its own tables (scope, controls and owners,
 * check settings, policies, review cadences), in the caller's transaction. Only changed items are
 * touched, so whatever the client did to other rows stays as it is.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import { currentCatalogVersion } from '../catalog/catalog.loader.ts';
import { upsertScope } from '../scope/scope.repository.ts';
import type { ItemValue, TemplateItems } from './msp.tables.ts';
import type { ItemChange } from './template-items.ts';

type Json = Record<string, unknown>;
const asObject = (v: ItemValue | null | undefined): Json =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};

export async function materialiseChanges(
  trx: Trx,
  workspaceId: string,
  effective: TemplateItems,
  changes: ItemChange[],
  actorLabel: string,
) {
  const ownerOf = (role: string) => {
    const v = effective[`owner:${role}`];
    return typeof v === 'string' ? v : null;
  };
  const rolesToReassign = new Set<string>();
  for (const change of changes) {
    const [kind, rest = ''] = [
      change.item.slice(0, change.item.indexOf(':')),
      change.item.slice(change.item.indexOf(':') + 1),
    ];
    if (kind === 'scope' && Array.isArray(change.after)) {
      await upsertScope(trx, workspaceId, change.after as string[], currentCatalogVersion);
    } else if (kind === 'control') {
      if (change.after === null) {
        await trx
          .updateTable('controls')
          .set({ active: false, updated_at: new Date() })
          .where('workspace_id', '=', workspaceId)
          .where('template_id', '=', rest)
          .execute();
        continue;
      }
      const c = asObject(change.after);
      const values = {
        title: String(c.title),
        description: String(c.description),
        frequency: String(c.frequency),
        owner_role: String(c.ownerRole),
        criteria: (c.criteria as string[]) ?? [],
        evidence: (c.evidence as string[]) ?? [],
        checks: (c.checks as string[]) ?? [],
      };
      await trx
        .insertInto('controls')
        .values({
          workspace_id: workspaceId,
          template_id: rest,
          ...values,
          owner: ownerOf(values.owner_role),
        })
        .onConflict((oc) =>
          oc
            .columns(['workspace_id', 'template_id'])
            .doUpdateSet({ ...values, active: true, updated_at: new Date() }),
        )
        .execute();
      rolesToReassign.add(values.owner_role);
    } else if (kind === 'owner') {
      rolesToReassign.add(rest);
    } else if (kind === 'check') {
      if (change.after === null) {
        await trx
          .deleteFrom('check_settings')
          .where('workspace_id', '=', workspaceId)
          .where('check_id', '=', rest)
          .execute();
        continue;
      }
      const c = asObject(change.after);
      const settings = JSON.stringify(c.settings ?? {});
      const enabled = c.enabled !== false;
      await trx
        .insertInto('check_settings')
        .values({ workspace_id: workspaceId, check_id: rest, enabled, settings })
        .onConflict((oc) =>
          oc.columns(['workspace_id', 'check_id']).doUpdateSet({ enabled, settings, updated_at: new Date() }),
        )
        .execute();
    } else if (kind === 'policy') {
      // A policy that leaves the template stays with the client: it is their document now.
      if (change.after === null) continue;
      await upsertPolicy(trx, workspaceId, asObject(change.after), actorLabel);
    } else if (kind === 'cadence' && typeof change.after === 'number') {
      const days = change.after;
      if (rest === 'policies') {
        await trx
          .updateTable('policies')
          .set({ review_cadence_days: days })
          .where('workspace_id', '=', workspaceId)
          .execute();
      } else if (rest === 'vendors') {
        await sql`update vendors set review_cadence_days = ${days} where workspace_id = ${workspaceId}`.execute(
          trx,
        );
      } else if (rest === 'risks') {
        await sql`update risks set review_cadence_days = ${days} where workspace_id = ${workspaceId}`.execute(
          trx,
        );
      }
    }
  }
  for (const role of rolesToReassign) {
    await trx
      .updateTable('controls')
      .set({ owner: ownerOf(role), updated_at: new Date() })
      .where('workspace_id', '=', workspaceId)
      .where('owner_role', '=', role)
      .execute();
  }
}

async function upsertPolicy(trx: Trx, workspaceId: string, p: Json, actorLabel: string) {
  const title = String(p.title);
  const values = {
    kind: (p.kind ?? 'policy') as 'policy',
    review_cadence_days: Number(p.reviewCadenceDays ?? 365),
    acknowledgement_required: p.acknowledgementRequired !== false,
    control_ids: (p.controlIds as string[]) ?? [],
  };
  const existing = await trx
    .selectFrom('policies')
    .select(['id', 'current_version_id'])
    .where('workspace_id', '=', workspaceId)
    .where(sql`lower(title)`, '=', title.toLowerCase())
    .executeTakeFirst();
  if (existing) {
    await trx
      .updateTable('policies')
      .set({ ...values, updated_at: new Date() })
      .where('id', '=', existing.id)
      .execute();
    return;
  }
  const row = await trx
    .insertInto('policies')
    .values({ workspace_id: workspaceId, title, status: 'draft', ...values })
    .returning('id')
    .executeTakeFirstOrThrow();
  const body = typeof p.body === 'string' ? p.body : '';
  if (body.length > 0) {
    // The template's text arrives as a draft version 1 for the client to approve and publish.
    await trx
      .insertInto('policy_versions')
      .values({
        workspace_id: workspaceId,
        policy_id: row.id,
        version: 1,
        body,
        body_sha256: createHash('sha256').update(body).digest('hex'),
        change_summary: 'from the MSP template',
        created_by: actorLabel,
      })
      .execute();
  }
}
