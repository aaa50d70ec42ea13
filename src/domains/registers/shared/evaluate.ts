/**
 * Change-triggered evaluation for the registers: a register write re-evaluates the monitors that
 * register feeds, as of the write, so "overdue" becomes a finding at once and a renewal closes it.
 * A finding closed this way records the evidence that resolved it (the renewed report, the new
 * acknowledgement), taken from the closing check result's `facts.evidenceIds`.
 */
import type { Database, Trx } from '../../../db/database.ts';
import { builtInCheckById } from '../../monitoring/checks/index.ts';
import { type RunChecksSummary, runChecks } from '../../monitoring/run-checks.service.ts';
import type { RegisterContext } from './context.ts';
import { findingsClosedByRun, linkFindingEvidence } from './registers.repository.ts';

export async function evaluateRegister(
  database: Database,
  ctx: RegisterContext,
  checkIds: readonly string[],
  enabled: boolean | undefined = true,
): Promise<RunChecksSummary | null> {
  if (enabled === false) return null;
  const known = checkIds.filter((id) => builtInCheckById.has(id));
  if (known.length === 0) return null;
  const summary = await runChecks(database, ctx.actor, ctx.workspaceId, {
    asOf: ctx.now,
    checkIds: known,
    trigger: 'register',
  });
  if (summary.findingsClosed > 0) {
    await database.inWorkspace(ctx.workspaceId, (trx) =>
      attachClosingEvidence(trx, ctx.workspaceId, summary.runId, ctx.now),
    );
  }
  return summary;
}

/**
 * Links each finding a run closed to the register evidence its passing result named: the
 * finding's evidence list gains it, and it is the closing evidence unless the run already
 * recorded one (the check result, which itself cites these ids).
 */
export async function attachClosingEvidence(trx: Trx, workspaceId: string, runId: string, closedAt: Date) {
  for (const row of await findingsClosedByRun(trx, workspaceId, runId, closedAt)) {
    const ids = Array.isArray(row.evidence_ids)
      ? row.evidence_ids.filter((id): id is string => typeof id === 'string')
      : [];
    if (ids.length === 0) continue;
    await linkFindingEvidence(trx, workspaceId, row.finding_id, {
      closingEvidenceId: row.closing_evidence_id ?? ids[0]!,
      evidenceIds: [...new Set([...row.finding_evidence_ids, ...ids])],
    });
  }
}
