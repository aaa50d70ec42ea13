import type { Insertable, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import type { Trx } from '../../../db/database.ts';
import { isUuid } from '../shared/values.ts';
import type {
  PoliciesTable,
  PolicyAckCampaignsTable,
  PolicyAcknowledgementsTable,
  PolicyReviewsTable,
  PolicyVersionsTable,
} from './policies.tables.ts';

export type PolicyRow = Selectable<PoliciesTable>;
export type PolicyVersionRow = Selectable<PolicyVersionsTable>;
export type PolicyReviewRow = Selectable<PolicyReviewsTable>;
export type CampaignRow = Selectable<PolicyAckCampaignsTable>;
export type AcknowledgementRow = Selectable<PolicyAcknowledgementsTable>;

export async function listPolicyRows(trx: Trx, workspaceId: string, asOf?: Date) {
  let q = trx.selectFrom('policies').selectAll().where('workspace_id', '=', workspaceId);
  if (asOf) q = q.where('created_at', '<=', asOf);
  return q.orderBy(sql`lower(title)`).execute();
}

export async function findPolicy(trx: Trx, workspaceId: string, ref: string) {
  return trx
    .selectFrom('policies')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) => (isUuid(ref) ? eb('id', '=', ref) : eb(sql`lower(title)`, '=', ref.trim().toLowerCase())))
    .executeTakeFirst();
}

export async function insertPolicy(trx: Trx, values: Insertable<PoliciesTable>) {
  return trx.insertInto('policies').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updatePolicyRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<PoliciesTable>,
) {
  return trx
    .updateTable('policies')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listVersionRows(trx: Trx, workspaceId: string, policyId?: string) {
  let q = trx.selectFrom('policy_versions').selectAll().where('workspace_id', '=', workspaceId);
  if (policyId) q = q.where('policy_id', '=', policyId);
  return q.orderBy('policy_id').orderBy('version').execute();
}

export async function findVersion(trx: Trx, workspaceId: string, policyId: string, version: number) {
  return trx
    .selectFrom('policy_versions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('policy_id', '=', policyId)
    .where('version', '=', version)
    .executeTakeFirst();
}

export async function insertVersion(trx: Trx, values: Insertable<PolicyVersionsTable>) {
  return trx.insertInto('policy_versions').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateVersionRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<PolicyVersionsTable>,
) {
  return trx
    .updateTable('policy_versions')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertPolicyReview(trx: Trx, values: Insertable<PolicyReviewsTable>) {
  return trx.insertInto('policy_reviews').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function listPolicyReviewRows(trx: Trx, workspaceId: string, policyId?: string) {
  let q = trx.selectFrom('policy_reviews').selectAll().where('workspace_id', '=', workspaceId);
  if (policyId) q = q.where('policy_id', '=', policyId);
  return q.orderBy('reviewed_at').orderBy('id').execute();
}

export async function findCampaign(trx: Trx, workspaceId: string, versionId: string) {
  return trx
    .selectFrom('policy_ack_campaigns')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('version_id', '=', versionId)
    .executeTakeFirst();
}

export async function listCampaignRows(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('policy_ack_campaigns')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('launched_at')
    .execute();
}

export async function insertCampaign(trx: Trx, values: Insertable<PolicyAckCampaignsTable>) {
  return trx.insertInto('policy_ack_campaigns').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function findAcknowledgement(trx: Trx, workspaceId: string, versionId: string, email: string) {
  return trx
    .selectFrom('policy_acknowledgements')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('version_id', '=', versionId)
    .where('email', '=', email)
    .executeTakeFirst();
}

export async function insertAcknowledgement(trx: Trx, values: Insertable<PolicyAcknowledgementsTable>) {
  return trx.insertInto('policy_acknowledgements').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function listAcknowledgementRows(
  trx: Trx,
  workspaceId: string,
  options: { policyId?: string; versionId?: string; asOf?: Date } = {},
) {
  let q = trx.selectFrom('policy_acknowledgements').selectAll().where('workspace_id', '=', workspaceId);
  if (options.policyId) q = q.where('policy_id', '=', options.policyId);
  if (options.versionId) q = q.where('version_id', '=', options.versionId);
  if (options.asOf) q = q.where('acknowledged_at', '<=', options.asOf);
  return q.orderBy('acknowledged_at').orderBy('email').execute();
}

/** Active people from HR, for campaigns addressed to the whole workforce. */
export async function listWorkforce(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('people')
    .select(['email', 'name', 'status', 'start_date', 'end_date', 'department', 'title'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('email')
    .execute();
}
