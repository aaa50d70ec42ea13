import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { ConnectorKind } from './connectors.tables.ts';

export async function insertConnector(
  trx: Trx,
  values: {
    id: string;
    workspaceId: string;
    kind: ConnectorKind;
    name: string;
    settings: Record<string, unknown>;
    sealedCredentials: string | null;
    intervalMinutes: number | null;
    createdByType: string;
    createdById: string;
  },
) {
  return trx
    .insertInto('connectors')
    .values({
      id: values.id,
      workspace_id: values.workspaceId,
      kind: values.kind,
      name: values.name,
      settings: JSON.stringify(values.settings),
      sealed_credentials: values.sealedCredentials,
      interval_minutes: values.intervalMinutes,
      created_by_type: values.createdByType,
      created_by_id: values.createdById,
      last_run_at: null,
      last_success_at: null,
      last_status: null,
      last_error: null,
      last_summary: null,
      cursor: null,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'name']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findConnectorByName(
  trx: Trx,
  workspaceId: string,
  name: string,
  options: { lock?: boolean } = {},
) {
  let query = trx
    .selectFrom('connectors')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', name);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findConnectorById(trx: Trx, workspaceId: string, id: string) {
  return trx
    .selectFrom('connectors')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function listConnectorRows(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('connectors')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('name')
    .execute();
}

export async function deleteConnector(trx: Trx, workspaceId: string, id: string) {
  await trx.deleteFrom('connectors').where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

export async function recordPullSuccess(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: { at: string; summary: Record<string, unknown>; cursor: Record<string, unknown> },
) {
  await trx
    .updateTable('connectors')
    .set({
      last_run_at: values.at,
      last_success_at: values.at,
      last_status: 'succeeded',
      last_error: null,
      last_summary: JSON.stringify(values.summary),
      cursor: JSON.stringify(values.cursor),
      updated_at: new Date(),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/** A failed pull leaves the cursor where the last good pull left it. */
export async function recordPullFailure(
  trx: Trx,
  workspaceId: string,
  id: string,
  at: string,
  error: string,
) {
  await trx
    .updateTable('connectors')
    .set({
      last_run_at: at,
      last_status: 'failed',
      last_error: error,
      updated_at: sql<Date>`now()`,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}
