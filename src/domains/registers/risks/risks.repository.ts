import type { Insertable, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import type { Trx } from '../../../db/database.ts';
import { isUuid } from '../shared/values.ts';
import type {
  RiskMatricesTable,
  RiskReviewsTable,
  RisksTable,
  SignificantChangesTable,
} from './risks.tables.ts';

export type RiskRow = Selectable<RisksTable>;
export type RiskReviewRow = Selectable<RiskReviewsTable>;
export type RiskMatrixRow = Selectable<RiskMatricesTable>;
export type SignificantChangeRow = Selectable<SignificantChangesTable>;

export async function findMatrix(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('risk_matrices')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
}

export async function upsertMatrix(trx: Trx, values: Insertable<RiskMatricesTable>) {
  const { workspace_id: _w, ...rest } = values;
  return trx
    .insertInto('risk_matrices')
    .values(values)
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet(rest))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listRiskRows(trx: Trx, workspaceId: string, asOf?: Date) {
  let q = trx.selectFrom('risks').selectAll().where('workspace_id', '=', workspaceId);
  if (asOf) q = q.where('created_at', '<=', asOf);
  return q.orderBy(sql`lower(reference)`).execute();
}

export async function findRisk(trx: Trx, workspaceId: string, ref: string) {
  return trx
    .selectFrom('risks')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) =>
      isUuid(ref) ? eb('id', '=', ref) : eb(sql`lower(reference)`, '=', ref.trim().toLowerCase()),
    )
    .executeTakeFirst();
}

export async function countRisks(trx: Trx, workspaceId: string) {
  const row = await trx
    .selectFrom('risks')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('first')])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), first: row.first as Date | null };
}

export async function maxScores(trx: Trx, workspaceId: string) {
  const row = await trx
    .selectFrom('risks')
    .select((eb) => [
      eb.fn
        .max(sql<number>`greatest(inherent_likelihood, coalesce(residual_likelihood, 0))`)
        .as('likelihood'),
      eb.fn.max(sql<number>`greatest(inherent_impact, coalesce(residual_impact, 0))`).as('impact'),
    ])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return { likelihood: Number(row.likelihood ?? 0), impact: Number(row.impact ?? 0) };
}

export async function insertRisk(trx: Trx, values: Insertable<RisksTable>) {
  return trx.insertInto('risks').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateRiskRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<RisksTable>,
) {
  return trx
    .updateTable('risks')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertRiskReview(trx: Trx, values: Insertable<RiskReviewsTable>) {
  return trx.insertInto('risk_reviews').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function listRiskReviewRows(
  trx: Trx,
  workspaceId: string,
  options: { riskId?: string; asOf?: Date } = {},
) {
  let q = trx.selectFrom('risk_reviews').selectAll().where('workspace_id', '=', workspaceId);
  if (options.riskId) q = q.where('risk_id', '=', options.riskId);
  if (options.asOf) q = q.where('reviewed_at', '<=', options.asOf);
  return q.orderBy('reviewed_at').orderBy('id').execute();
}

export async function insertSignificantChange(trx: Trx, values: Insertable<SignificantChangesTable>) {
  return trx
    .insertInto('significant_changes')
    .values(values)
    .onConflict((oc) => oc.columns(['workspace_id', 'source_key']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function updateSignificantChangeRow(
  trx: Trx,
  workspaceId: string,
  id: string,
  values: Updateable<SignificantChangesTable>,
) {
  return trx
    .updateTable('significant_changes')
    .set(values)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listSignificantChangeRows(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('significant_changes')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('detected_at')
    .orderBy('id')
    .execute();
}

export async function findSignificantChange(trx: Trx, workspaceId: string, id: string) {
  if (!isUuid(id)) return undefined;
  return trx
    .selectFrom('significant_changes')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** In-scope systems registered after `since` that no significant change records yet. */
export async function systemsWithoutChangeRecord(trx: Trx, workspaceId: string, since: Date) {
  return trx
    .selectFrom('systems')
    .select(['id', 'name', 'kind', 'environment', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .where('created_at', '>', since)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('significant_changes')
            .select('id')
            .where('significant_changes.workspace_id', '=', workspaceId)
            .where('significant_changes.source_key', '=', sql<string>`'system:' || systems.id::text`),
        ),
      ),
    )
    .orderBy('created_at')
    .execute();
}
