/** SQL the registers share: controls they point at, the tasks they open, findings they close. */
import { sql } from 'kysely';
import type { Trx } from '../../../db/database.ts';

export async function activeControlTemplates(trx: Trx, workspaceId: string, templateIds: string[]) {
  const ids = [...new Set(templateIds)];
  if (ids.length === 0) return new Set<string>();
  const rows = await trx
    .selectFrom('controls')
    .select('template_id')
    .where('workspace_id', '=', workspaceId)
    .where('active', '=', true)
    .where('template_id', 'in', ids)
    .execute();
  return new Set(rows.map((r) => r.template_id));
}

/** An open task for a register record (vendor review, risk reassessment), unless one is open already. */
export async function openRegisterTask(
  trx: Trx,
  values: {
    workspaceId: string;
    kind: string;
    /** The record the task is about, e.g. `vendor:<id>`: one open task per kind and key. */
    key: string;
    title: string;
    assignee: string | null;
    dueAt: Date;
    createdAt: Date;
    details?: Record<string, unknown>;
  },
) {
  const existing = await trx
    .selectFrom('tasks')
    .select(['id'])
    .where('workspace_id', '=', values.workspaceId)
    .where('kind', '=', values.kind)
    .where('status', '=', 'open')
    .where(sql<string>`details->>'registerKey'`, '=', values.key)
    .executeTakeFirst();
  if (existing) return existing.id;
  const row = await trx
    .insertInto('tasks')
    .values({
      workspace_id: values.workspaceId,
      kind: values.kind,
      title: values.title,
      finding_id: null,
      assignee: values.assignee,
      status: 'open',
      due_at: values.dueAt,
      created_at: values.createdAt,
      completed_at: null,
      details: JSON.stringify({ ...values.details, registerKey: values.key }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function completeRegisterTasks(
  trx: Trx,
  workspaceId: string,
  kind: string,
  key: string,
  at: Date,
) {
  await trx
    .updateTable('tasks')
    .set({ status: 'done', completed_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', kind)
    .where('status', '=', 'open')
    .where(sql<string>`details->>'registerKey'`, '=', key)
    .execute();
}

export async function listRegisterTasks(trx: Trx, workspaceId: string, kind: string) {
  return trx
    .selectFrom('tasks')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', kind)
    .orderBy('due_at')
    .orderBy('id')
    .execute();
}

/**
 * Findings a run closed, with the evidence their passing result named (`facts.evidenceIds`):
 * the run's passing results joined to the findings it closed.
 */
export async function findingsClosedByRun(trx: Trx, workspaceId: string, runId: string, closedAt: Date) {
  const result = await sql<{
    finding_id: string;
    closing_evidence_id: string | null;
    finding_evidence_ids: string[];
    evidence_ids: unknown;
  }>`
    select f.id as finding_id, f.closing_evidence_id, f.evidence_ids as finding_evidence_ids,
      r.facts->'evidenceIds' as evidence_ids
    from findings f
    join check_results r
      on r.workspace_id = f.workspace_id and r.run_id = ${runId}
      and r.check_id = f.check_id and r.subject_key = f.subject_key
    where f.workspace_id = ${workspaceId} and f.status = 'closed' and f.closed_at = ${closedAt}
      and r.status in ('pass', 'not_applicable')`.execute(trx);
  return result.rows;
}

export async function linkFindingEvidence(
  trx: Trx,
  workspaceId: string,
  findingId: string,
  values: { closingEvidenceId: string | null; evidenceIds: string[] },
) {
  await trx
    .updateTable('findings')
    .set({
      closing_evidence_id: values.closingEvidenceId,
      evidence_ids: values.evidenceIds,
      updated_at: new Date(),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', findingId)
    .execute();
}
