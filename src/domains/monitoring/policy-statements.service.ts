/**
 * Policy vs practice: a statement a policy makes ("MFA is required for all remote access") linked
 * to the checks that prove it. The statement matches practice when every linked check has been
 * evaluated and has no open finding; otherwise the open findings are the evidence that practice
 * contradicts the policy. A linked check that has never run leaves the statement `not_evaluated`. (The full policy register links statements to policies by `policyId`.)
 */
import { sql } from 'kysely';
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { insertAuditEntry } from '../audit/audit.repository.ts';
import type { FindingRow } from '../findings/findings.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { findWorkspaceCheck } from './checks.service.ts';
import {
  findPolicyStatement,
  insertPolicyStatement,
  listOpenFindingsOf,
  listPolicyStatements,
  type PolicyStatementRow,
  updatePolicyStatementChecks,
} from './monitoring.repository.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type PracticeStatus = 'matches' | 'contradicted' | 'not_evaluated' | 'not_linked';

export interface StatementWithPractice {
  statement: PolicyStatementRow;
  practice: {
    status: PracticeStatus;
    matches: boolean;
    checks: { id: string; evaluated: boolean; openFindings: number }[];
    openFindings: FindingRow[];
  };
}

async function validChecks(trx: Trx, workspaceId: string, checks: string[]): Promise<string[]> {
  const ids = [...new Set(checks.map((c) => c.trim()).filter(Boolean))];
  for (const id of ids) await findWorkspaceCheck(trx, workspaceId, id);
  return ids;
}

async function withPractice(
  trx: Trx,
  workspaceId: string,
  rows: PolicyStatementRow[],
): Promise<StatementWithPractice[]> {
  const allChecks = [...new Set(rows.flatMap((r) => r.check_ids))];
  const open = await listOpenFindingsOf(trx, workspaceId, allChecks);
  // Evaluated = some run included the check (a run may find nothing to judge: that is no finding).
  const evaluatedRows =
    allChecks.length === 0
      ? []
      : (
          await sql<{ check_id: string }>`
            select distinct unnest(check_ids) as check_id from check_runs
            where workspace_id = ${workspaceId} and check_ids && ${allChecks}::text[]`.execute(trx)
        ).rows;
  const evaluated = new Set(evaluatedRows.map((r) => r.check_id));
  return rows.map((statement) => {
    const checks = statement.check_ids.map((id) => ({
      id,
      evaluated: evaluated.has(id),
      openFindings: open.filter((f) => f.check_id === id).length,
    }));
    const openFindings = open.filter((f) => statement.check_ids.includes(f.check_id));
    const status: PracticeStatus =
      checks.length === 0
        ? 'not_linked'
        : openFindings.length > 0
          ? 'contradicted'
          : checks.every((c) => c.evaluated)
            ? 'matches'
            : 'not_evaluated';
    return { statement, practice: { status, matches: status === 'matches', checks, openFindings } };
  });
}

export interface CreateStatementInput {
  statement: string;
  checks?: string[] | undefined;
  policyId?: string | null | undefined;
}

export async function createPolicyStatement(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: CreateStatementInput,
): Promise<StatementWithPractice> {
  const text = input.statement?.trim() ?? '';
  if (text.length === 0 || text.length > 2000) {
    throw new AssayError('validation_failed', 'statement: must be 1–2000 characters', { field: 'statement' });
  }
  if (input.policyId !== undefined && input.policyId !== null && !uuidPattern.test(input.policyId)) {
    throw new AssayError('validation_failed', 'policyId: must be a policy id (uuid)', { field: 'policyId' });
  }
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const checkIds = await validChecks(trx, workspace.id, input.checks ?? []);
    const row = await insertPolicyStatement(trx, {
      workspaceId: workspace.id,
      statement: text,
      checkIds,
      policyId: input.policyId ?? null,
      createdBy: actor.name ?? actor.id,
    });
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'policy_statement.created',
      targetType: 'policy_statement',
      targetId: row.id,
      details: { statement: text, checks: checkIds },
    });
    const [result] = await withPractice(trx, workspace.id, [row]);
    return result!;
  });
}

/** Links checks to a statement: adds them, or with `replace` makes them the whole list. */
export async function linkPolicyStatement(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  id: string,
  input: { checks: string[]; replace?: boolean | undefined; remove?: boolean | undefined },
): Promise<StatementWithPractice> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const current = uuidPattern.test(id) ? await findPolicyStatement(trx, workspace.id, id) : undefined;
    if (!current) {
      throw new AssayError(
        'policy_statement_not_found',
        `policy statement "${id}" does not exist in "${workspace.slug}"`,
      );
    }
    const named = input.remove
      ? input.checks.map((c) => c.trim())
      : await validChecks(trx, workspace.id, input.checks);
    const next = input.replace
      ? named
      : input.remove
        ? current.check_ids.filter((c) => !named.includes(c))
        : [...new Set([...current.check_ids, ...named])];
    const row = await updatePolicyStatementChecks(trx, workspace.id, id, next);
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'policy_statement.linked',
      targetType: 'policy_statement',
      targetId: id,
      details: { previous: current.check_ids, checks: next },
    });
    const [result] = await withPractice(trx, workspace.id, [row]);
    return result!;
  });
}

export async function listStatements(
  database: Database,
  workspaceRef: string,
): Promise<StatementWithPractice[]> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) =>
    withPractice(trx, workspace.id, await listPolicyStatements(trx, workspace.id)),
  );
}

export async function getStatement(
  database: Database,
  workspaceRef: string,
  id: string,
): Promise<StatementWithPractice> {
  const workspace = await getWorkspace(database, workspaceRef);
  return database.inWorkspace(workspace.id, async (trx) => {
    const row = uuidPattern.test(id) ? await findPolicyStatement(trx, workspace.id, id) : undefined;
    if (!row) {
      throw new AssayError(
        'policy_statement_not_found',
        `policy statement "${id}" does not exist in "${workspace.slug}"`,
      );
    }
    const [result] = await withPractice(trx, workspace.id, [row]);
    return result!;
  });
}
