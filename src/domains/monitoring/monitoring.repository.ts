/** Per-workspace monitoring configuration: check settings, custom checks, policy statements. */
import type { Selectable } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { CustomChecksTable, PolicyStatementsTable } from './monitoring.tables.ts';

export type CustomCheckRow = Selectable<CustomChecksTable>;
export type PolicyStatementRow = Selectable<PolicyStatementsTable>;

export async function findCheckSettings(trx: Trx, workspaceId: string, checkId: string) {
  return trx
    .selectFrom('check_settings')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('check_id', '=', checkId)
    .executeTakeFirst();
}

export async function upsertCheckSettings(
  trx: Trx,
  values: { workspaceId: string; checkId: string; enabled: boolean; settings: Record<string, unknown> },
) {
  const settings = JSON.stringify(values.settings);
  return trx
    .insertInto('check_settings')
    .values({ workspace_id: values.workspaceId, check_id: values.checkId, enabled: values.enabled, settings })
    .onConflict((oc) =>
      oc
        .columns(['workspace_id', 'check_id'])
        .doUpdateSet({ enabled: values.enabled, settings, updated_at: new Date() }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listCustomChecks(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('custom_checks')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('check_id')
    .execute();
}

export async function findCustomCheck(trx: Trx, workspaceId: string, checkId: string) {
  return trx
    .selectFrom('custom_checks')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('check_id', '=', checkId)
    .executeTakeFirst();
}

export async function insertCustomCheck(trx: Trx, values: Omit<CustomCheckRow, 'created_at'>) {
  return trx.insertInto('custom_checks').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function insertPolicyStatement(
  trx: Trx,
  values: {
    workspaceId: string;
    statement: string;
    checkIds: string[];
    policyId: string | null;
    createdBy: string;
  },
) {
  return trx
    .insertInto('policy_statements')
    .values({
      workspace_id: values.workspaceId,
      statement: values.statement,
      check_ids: values.checkIds,
      policy_id: values.policyId,
      created_by: values.createdBy,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listPolicyStatements(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('policy_statements')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function findPolicyStatement(trx: Trx, workspaceId: string, id: string) {
  return trx
    .selectFrom('policy_statements')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function updatePolicyStatementChecks(
  trx: Trx,
  workspaceId: string,
  id: string,
  checkIds: string[],
) {
  return trx
    .updateTable('policy_statements')
    .set({ check_ids: checkIds, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Open findings (suppressed ones are accepted deviations) of the given checks. */
export async function listOpenFindingsOf(trx: Trx, workspaceId: string, checkIds: string[]) {
  if (checkIds.length === 0) return [];
  return trx
    .selectFrom('findings')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('status', '=', 'open')
    .where('check_id', 'in', checkIds)
    .orderBy('opened_at')
    .execute();
}

/** Status intervals that began at or after `since`, with the control each belongs to (drift). */
export async function listIntervalsSince(trx: Trx, workspaceId: string, since: Date) {
  return trx
    .selectFrom('control_status_intervals as i')
    .innerJoin('controls as c', 'c.id', 'i.control_id')
    .select(['i.status', 'i.valid_from', 'i.reason', 'c.id as control_id', 'c.template_id', 'c.title'])
    .where('i.workspace_id', '=', workspaceId)
    .where('c.workspace_id', '=', workspaceId)
    .where('i.valid_from', '>=', since)
    .orderBy('i.valid_from', 'desc')
    .orderBy('i.id', 'desc')
    .execute();
}

/** When each control's first recorded status began (its first status is not a change). */
export async function listFirstIntervalStarts(trx: Trx, workspaceId: string) {
  return trx
    .selectFrom('control_status_intervals')
    .select('control_id')
    .select((eb) => eb.fn.min('valid_from').as('first'))
    .where('workspace_id', '=', workspaceId)
    .groupBy('control_id')
    .execute();
}

export async function listControlIntervals(trx: Trx, workspaceId: string, controlId: string) {
  return trx
    .selectFrom('control_status_intervals')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('control_id', '=', controlId)
    .orderBy('valid_from')
    .orderBy('id')
    .execute();
}
