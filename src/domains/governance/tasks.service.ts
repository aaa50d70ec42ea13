/**
 * Closing a governance task is always the same three steps in the caller's transaction: the proof
 * goes into the evidence ledger, the task is marked done carrying the evidence id, and the audit
 * trail records who closed it. Deprovisioning, revocations, onboarding items and access requests
 * all close this way.
 */
import type { Trx } from '../../db/database.ts';
import type { Actor } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { appendEvidence, type EvidenceRecord } from '../evidence/append-evidence.ts';
import type { EvidenceInput } from '../evidence/envelope.ts';
import { closeTask, type TaskRow } from './tasks.repository.ts';

export interface TaskCompletion {
  /** When the task was done (its completed_at). */
  at: Date;
  evidence: EvidenceInput;
  /** The task's details once done; `evidenceId` is added. */
  details: Record<string, unknown>;
  audit: { action: string; details: Record<string, unknown> };
  /** Further records of the closure that carry the evidence id (written before the audit entry). */
  beforeAudit?: ((evidenceId: string) => Promise<void>) | undefined;
}

/** Appends the evidence, closes the task with it, and records the audit entry (with `evidenceId`). */
export async function completeTaskWithEvidence(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  taskId: string,
  completion: TaskCompletion,
): Promise<{ task: TaskRow; evidence: EvidenceRecord }> {
  const [evidence] = await appendEvidence(trx, workspaceId, [completion.evidence]);
  const task = await closeTask(trx, workspaceId, taskId, completion.at, {
    ...completion.details,
    evidenceId: evidence!.id,
  });
  await completion.beforeAudit?.(evidence!.id);
  await recordAudit(trx, {
    workspaceId,
    actor,
    action: completion.audit.action,
    targetType: 'task',
    targetId: taskId,
    details: { ...completion.audit.details, evidenceId: evidence!.id },
  });
  return { task, evidence: evidence! };
}
