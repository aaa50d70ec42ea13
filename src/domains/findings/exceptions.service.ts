/**
 * Exceptions: the documented, approved, time-limited acceptance of a known deviation (one check,
 * one subject). While in force an exception suppresses the finding; it is itself evidence (its
 * approval, revocation and expiry each enter the ledger); and it expires loudly — the first
 * evaluation at or after its expiry reopens the finding, gives its owner a task again and records
 * `exception.expired` in the audit trail.
 *
 * Segregation of duties: the approver must be someone other than the person requesting it.
 */
import type { Database, Trx } from '../../db/database.ts';
import { AssayError } from '../../errors.ts';
import type { Actor } from '../audit/actor.ts';
import { insertAuditEntry } from '../audit/audit.repository.ts';
import { listControlRows } from '../controls/controls.repository.ts';
import { appendEvidence } from '../evidence/append-evidence.ts';
import type { CollectorType } from '../evidence/envelope.ts';
import type { CheckDefinition } from '../monitoring/check.types.ts';
import { controlsServedBy, findWorkspaceCheck } from '../monitoring/checks.service.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import {
  type ExceptionRow,
  findException,
  findExceptionInForce,
  findLiveFinding,
  insertException,
  listExceptionRows,
  listUnannouncedExpiries,
  updateException,
} from './exceptions.repository.ts';
import {
  completeTasksForFinding,
  type FindingRow,
  findFinding,
  insertTask,
  updateFinding,
} from './findings.repository.ts';

const day = 24 * 3600 * 1000;
/** The longest an exception may run before it must be approved again. */
export const maxExceptionDays = 366;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const subjectKeyPattern =
  /^(person|identity|repository|organization|workspace|vendor|policy|system):.{1,400}$/;

export type ExceptionStatus = 'active' | 'expired' | 'revoked';

export function exceptionStatus(row: ExceptionRow, at: Date): ExceptionStatus {
  if (row.revoked_at && row.revoked_at <= at) return 'revoked';
  if (row.expires_at <= at) return 'expired';
  return 'active';
}

function personOf(actor: Actor): string {
  return (actor.name ?? actor.id).trim();
}

function same(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

function collectorOf(actor: Actor): { type: CollectorType; id: string; name: string | null } {
  const type: CollectorType =
    actor.type === 'system' ? 'system' : actor.type === 'connector' ? 'connector' : 'user';
  return { type, id: actor.id, name: actor.name ?? null };
}

interface SubjectRef {
  type: string;
  id: string;
  name: string | null;
}

function subjectFromKey(key: string, name: string | null): SubjectRef {
  const at = key.indexOf(':');
  return { type: key.slice(0, at), id: key.slice(at + 1).slice(0, 200), name };
}

/** The latest name the checks gave this subject (for people reading the exception). */
async function subjectName(trx: Trx, workspaceId: string, checkId: string, subjectKey: string) {
  const row = await trx
    .selectFrom('check_results')
    .select('subject')
    .where('workspace_id', '=', workspaceId)
    .where('check_id', '=', checkId)
    .where('subject_key', '=', subjectKey)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const subject = row?.subject as { name?: string; email?: string } | undefined;
  return subject?.email ?? subject?.name ?? null;
}

/**
 * The one place exceptions enter the evidence ledger: their approval, revocation and expiry,
 * proving the controls the check serves, in the caller's transaction.
 */
async function recordExceptionEvidence(
  trx: Trx,
  workspaceId: string,
  kind: 'exception.approved' | 'exception.revoked' | 'exception.expired',
  exception: ExceptionRow,
  check: CheckDefinition,
  collector: { type: CollectorType; id: string; name: string | null },
  at: Date,
  subject: SubjectRef,
): Promise<string> {
  const controls = controlsServedBy(await listControlRows(trx, workspaceId), check);
  const [record] = await appendEvidence(trx, workspaceId, [
    {
      kind,
      controls: controls.map((c) => c.template_id),
      criteria: check.criteria,
      subject: { type: subject.type, id: subject.id, name: subject.name?.slice(0, 200) ?? null },
      effectiveAt: at,
      collector,
      ...(kind === 'exception.approved' ? { staleAfter: exception.expires_at } : {}),
      content: {
        exceptionId: exception.id,
        checkId: exception.check_id,
        subjectKey: exception.subject_key,
        justification: exception.justification,
        approver: exception.approver,
        requestedBy: exception.created_by,
        approvedAt: exception.approved_at.toISOString(),
        expiresAt: exception.expires_at.toISOString(),
        ...(kind === 'exception.revoked'
          ? { revokedBy: exception.revoked_by, reason: exception.revoke_reason }
          : {}),
      },
    },
  ]);
  return record!.id;
}

/** Reopens a finding an exception was suppressing, with a task for its owner again. */
async function reopenFinding(trx: Trx, workspaceId: string, finding: FindingRow, title: string, why: string) {
  const reopened = await updateFinding(trx, workspaceId, finding.id, { status: 'open', exception_id: null });
  await insertTask(trx, {
    workspaceId,
    kind: 'remediate_finding',
    title: `${title}: ${(finding.subject as { name?: string }).name ?? finding.subject_key} (${why})`,
    findingId: finding.id,
    assignee: finding.owner,
    dueAt: finding.deadline,
    details: { checkId: finding.check_id, subject: finding.subject, reopened: why },
  });
  return reopened;
}

export interface CreateExceptionInput {
  /** The check and subject key (`identity:<id>`, `repository:org/repo`…), or a finding instead. */
  checkId?: string | undefined;
  subject?: string | undefined;
  /** A finding id: the exception covers its check and subject. */
  finding?: string | undefined;
  justification: string;
  approver: string;
  expiresAt: string | Date;
  /** Who asks for the exception (default: the caller). */
  requestedBy?: string | undefined;
}

export async function createException(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: CreateExceptionInput,
  options: { now?: Date } = {},
) {
  const now = options.now ?? new Date();
  const workspace = await getWorkspace(database, workspaceRef);
  const justification = input.justification?.trim() ?? '';
  if (justification.length < 10 || justification.length > 4000) {
    throw new AssayError(
      'validation_failed',
      'justification: explain the accepted risk in 10–4000 characters',
      {
        field: 'justification',
      },
    );
  }
  const approver = input.approver?.trim() ?? '';
  if (approver.length === 0 || approver.length > 200) {
    throw new AssayError('validation_failed', 'approver: must be 1–200 characters (who approved it)', {
      field: 'approver',
    });
  }
  const requester = input.requestedBy?.trim() || personOf(actor);
  if (same(approver, requester) || same(approver, actor.id) || (actor.name && same(approver, actor.name))) {
    throw new AssayError(
      'validation_failed',
      `approver: "${approver}" is also the requester; an exception needs someone else's approval`,
      { field: 'approver' },
    );
  }
  const expiresAt = input.expiresAt instanceof Date ? input.expiresAt : new Date(input.expiresAt);
  if (
    Number.isNaN(expiresAt.getTime()) ||
    (typeof input.expiresAt === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(input.expiresAt))
  ) {
    throw new AssayError(
      'validation_failed',
      `expiresAt "${String(input.expiresAt)}": expected an ISO date or date-time`,
      {
        field: 'expiresAt',
      },
    );
  }
  if (expiresAt <= now) {
    throw new AssayError('validation_failed', 'expiresAt: must be in the future', { field: 'expiresAt' });
  }
  if (expiresAt.getTime() > now.getTime() + maxExceptionDays * day) {
    throw new AssayError(
      'validation_failed',
      `expiresAt: an exception lasts at most ${maxExceptionDays} days; approve it again when it expires`,
      { field: 'expiresAt' },
    );
  }

  return database.inWorkspace(workspace.id, async (trx) => {
    let checkId = input.checkId;
    let subjectKey = input.subject;
    let finding: FindingRow | undefined;
    if (input.finding !== undefined) {
      finding = uuidPattern.test(input.finding)
        ? await findFinding(trx, workspace.id, input.finding)
        : undefined;
      if (!finding) {
        throw new AssayError(
          'finding_not_found',
          `finding "${input.finding}" does not exist in "${workspace.slug}"`,
        );
      }
      checkId = finding.check_id;
      subjectKey = finding.subject_key;
    }
    if (!checkId)
      throw new AssayError('validation_failed', 'check: name the check (or a finding)', { field: 'check' });
    if (!subjectKey || !subjectKeyPattern.test(subjectKey)) {
      throw new AssayError(
        'validation_failed',
        `subject "${subjectKey ?? ''}": expected a subject key such as identity:<id> or repository:org/repo (see the finding's subject)`,
        { field: 'subject' },
      );
    }
    const check = await findWorkspaceCheck(trx, workspace.id, checkId);
    const existing = await findExceptionInForce(trx, workspace.id, checkId, subjectKey, now);
    if (existing) {
      throw new AssayError(
        'exception_exists',
        `exception ${existing.id} already covers ${checkId} for ${subjectKey} until ${existing.expires_at.toISOString()}`,
      );
    }
    const row = await insertException(trx, {
      workspaceId: workspace.id,
      checkId,
      subjectKey,
      justification,
      approver,
      approvedAt: now,
      expiresAt,
      createdBy: requester,
    });
    finding ??= await findLiveFinding(trx, workspace.id, checkId, subjectKey);
    const name =
      (finding?.subject as { email?: string; name?: string } | undefined)?.email ??
      (finding?.subject as { name?: string } | undefined)?.name ??
      (await subjectName(trx, workspace.id, checkId, subjectKey));
    const evidenceId = await recordExceptionEvidence(
      trx,
      workspace.id,
      'exception.approved',
      row,
      check,
      collectorOf(actor),
      now,
      subjectFromKey(subjectKey, name),
    );
    const stored = await updateException(trx, workspace.id, row.id, { evidence_id: evidenceId });
    let suppressed: FindingRow | null = null;
    if (finding && finding.status === 'open') {
      suppressed = await updateFinding(trx, workspace.id, finding.id, {
        status: 'suppressed',
        exception_id: row.id,
        evidence_ids: [...finding.evidence_ids, evidenceId],
      });
      await completeTasksForFinding(trx, workspace.id, finding.id, 'cancelled', now);
    }
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'exception.created',
      targetType: 'exception',
      targetId: row.id,
      details: {
        checkId,
        subjectKey,
        approver,
        requestedBy: requester,
        expiresAt: expiresAt.toISOString(),
        evidenceId,
        suppressedFinding: suppressed?.id ?? null,
      },
    });
    return { exception: stored, finding: suppressed };
  });
}

export async function listExceptions(
  database: Database,
  workspaceRef: string,
  filter: { status?: string | undefined; checkId?: string | undefined },
  options: { now?: Date } = {},
) {
  const now = options.now ?? new Date();
  const statuses: ExceptionStatus[] = ['active', 'expired', 'revoked'];
  if (filter.status !== undefined && !(statuses as string[]).includes(filter.status)) {
    throw new AssayError(
      'validation_failed',
      `status "${filter.status}": expected one of ${statuses.join(', ')}`,
      {
        field: 'status',
      },
    );
  }
  const workspace = await getWorkspace(database, workspaceRef);
  const rows = await database.inWorkspace(workspace.id, (trx) =>
    listExceptionRows(trx, workspace.id, { checkId: filter.checkId }),
  );
  return rows
    .map((row) => ({ row, status: exceptionStatus(row, now) }))
    .filter((e) => filter.status === undefined || e.status === filter.status);
}

export async function revokeException(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  id: string,
  input: { reason?: string | undefined } = {},
  options: { now?: Date } = {},
) {
  const now = options.now ?? new Date();
  const workspace = await getWorkspace(database, workspaceRef);
  const reason = input.reason?.trim() || null;
  if (reason && reason.length > 2000) {
    throw new AssayError('validation_failed', 'reason: at most 2000 characters', { field: 'reason' });
  }
  return database.inWorkspace(workspace.id, async (trx) => {
    const current = uuidPattern.test(id) ? await findException(trx, workspace.id, id) : undefined;
    if (!current)
      throw new AssayError('exception_not_found', `exception "${id}" does not exist in "${workspace.slug}"`);
    const status = exceptionStatus(current, now);
    if (status !== 'active') {
      throw new AssayError('validation_failed', `exception ${id} is already ${status}`, {
        field: 'exception',
      });
    }
    const check = await findWorkspaceCheck(trx, workspace.id, current.check_id);
    const revoked = await updateException(trx, workspace.id, id, {
      revoked_at: now,
      revoked_by: personOf(actor),
      revoke_reason: reason,
    });
    const evidenceId = await recordExceptionEvidence(
      trx,
      workspace.id,
      'exception.revoked',
      revoked,
      check,
      collectorOf(actor),
      now,
      subjectFromKey(
        current.subject_key,
        await subjectName(trx, workspace.id, current.check_id, current.subject_key),
      ),
    );
    const finding = await findLiveFinding(trx, workspace.id, current.check_id, current.subject_key);
    const reopened =
      finding?.status === 'suppressed' && finding.exception_id === id
        ? await reopenFinding(trx, workspace.id, finding, check.title, 'exception revoked')
        : null;
    await insertAuditEntry(trx, {
      workspaceId: workspace.id,
      actor,
      action: 'exception.revoked',
      targetType: 'exception',
      targetId: id,
      details: {
        checkId: current.check_id,
        subjectKey: current.subject_key,
        reason,
        evidenceId,
        reopenedFinding: reopened?.id ?? null,
      },
    });
    return { exception: revoked, finding: reopened };
  });
}

/**
 * Called by each evaluation for the checks it runs: announces every exception that expired by
 * `asOf` — an `exception.expired` audit entry and ledger record, once — and returns their ids. The
 * evaluation then reopens their findings (the exception no longer applies) with `reopenedByExpiry`.
 */
export async function announceExpiredExceptions(
  trx: Trx,
  workspaceId: string,
  actor: Actor,
  checks: CheckDefinition[],
  asOf: Date,
): Promise<Set<string>> {
  const byId = new Map(checks.map((c) => [c.id, c]));
  const expired = await listUnannouncedExpiries(trx, workspaceId, [...byId.keys()], asOf);
  for (const exception of expired) {
    const check = byId.get(exception.check_id)!;
    const evidenceId = await recordExceptionEvidence(
      trx,
      workspaceId,
      'exception.expired',
      exception,
      check,
      { type: 'system', id: 'assay', name: 'exception expiry' },
      exception.expires_at,
      subjectFromKey(
        exception.subject_key,
        await subjectName(trx, workspaceId, exception.check_id, exception.subject_key),
      ),
    );
    await updateException(trx, workspaceId, exception.id, { expiry_notified_at: asOf });
    await insertAuditEntry(trx, {
      workspaceId,
      actor,
      action: 'exception.expired',
      targetType: 'exception',
      targetId: exception.id,
      details: {
        checkId: exception.check_id,
        subjectKey: exception.subject_key,
        approver: exception.approver,
        expiredAt: exception.expires_at.toISOString(),
        evidenceId,
      },
    });
  }
  return new Set(expired.map((e) => e.id));
}

/**
 * What the evaluation does when a failing subject's finding changes between open and suppressed:
 * suppressing cancels the owner's open task; reopening (the exception expired or was revoked)
 * gives them a task again.
 */
export async function transitionFinding(
  trx: Trx,
  workspaceId: string,
  finding: FindingRow,
  to: { status: 'open' | 'suppressed'; exceptionId: string | null; detail: string },
  check: CheckDefinition,
  at: Date,
  expired: Set<string>,
): Promise<FindingRow> {
  if (finding.status === 'open' && to.status === 'suppressed') {
    await completeTasksForFinding(trx, workspaceId, finding.id, 'cancelled', at);
  }
  if (finding.status === 'suppressed' && to.status === 'open') {
    const why =
      finding.exception_id && expired.has(finding.exception_id)
        ? 'exception expired'
        : 'exception no longer in force';
    await reopenFinding(trx, workspaceId, finding, check.title, why);
  }
  return updateFinding(trx, workspaceId, finding.id, {
    detail: to.detail,
    status: to.status,
    exception_id: to.exceptionId,
  });
}
