import type { Selectable } from 'kysely';
import { Type } from 'typebox';
import type { TasksTable } from '../monitoring/monitoring.tables.ts';
import type { ExceptionRow } from './exceptions.repository.ts';
import { exceptionStatus } from './exceptions.service.ts';
import type { FindingRow } from './findings.repository.ts';

export const FindingSchema = Type.Object({
  id: Type.String(),
  checkId: Type.String(),
  controlIds: Type.Array(Type.String()),
  criteria: Type.Array(Type.String()),
  subject: Type.Object({
    type: Type.String(),
    id: Type.String(),
    name: Type.String(),
    email: Type.Optional(Type.String()),
    system: Type.Optional(Type.String()),
    aliases: Type.Optional(Type.Array(Type.String())),
  }),
  severity: Type.String(),
  status: Type.String(),
  detail: Type.String(),
  owner: Type.Union([Type.String(), Type.Null()]),
  openedAt: Type.String({ format: 'date-time' }),
  deadline: Type.String({ format: 'date-time' }),
  closedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  evidenceIds: Type.Array(Type.String()),
  closingEvidenceId: Type.Union([Type.String(), Type.Null()]),
  exceptionId: Type.Union([Type.String(), Type.Null()]),
});

export function presentFinding(row: FindingRow) {
  const subject = row.subject as {
    type: string;
    id: string;
    name: string;
    email?: string;
    system?: string;
    aliases?: string[];
  };
  return {
    id: row.id,
    checkId: row.check_id,
    controlIds: row.control_ids,
    criteria: row.criteria,
    subject,
    severity: row.severity,
    status: row.status,
    detail: row.detail,
    owner: row.owner,
    openedAt: row.opened_at.toISOString(),
    deadline: row.deadline.toISOString(),
    closedAt: row.closed_at ? row.closed_at.toISOString() : null,
    evidenceIds: row.evidence_ids,
    closingEvidenceId: row.closing_evidence_id,
    exceptionId: row.exception_id,
  };
}

export const TaskSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  title: Type.String(),
  findingId: Type.Union([Type.String(), Type.Null()]),
  assignee: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  dueAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  completedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export function presentTask(row: Selectable<TasksTable>) {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    findingId: row.finding_id,
    assignee: row.assignee,
    status: row.status,
    dueAt: row.due_at ? row.due_at.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at ? row.completed_at.toISOString() : null,
  };
}

export const ResultSchema = Type.Object({
  runId: Type.String(),
  status: Type.String(),
  detail: Type.String(),
  asOf: Type.String({ format: 'date-time' }),
  evaluatedAt: Type.String({ format: 'date-time' }),
  evidenceId: Type.Union([Type.String(), Type.Null()]),
  facts: Type.Record(Type.String(), Type.Unknown()),
});

export function presentResult(row: {
  run_id: string;
  status: string;
  detail: string;
  as_of: Date;
  evaluated_at: Date;
  evidence_id: string | null;
  facts: Record<string, unknown>;
}) {
  return {
    runId: row.run_id,
    status: row.status,
    detail: row.detail,
    asOf: row.as_of.toISOString(),
    evaluatedAt: row.evaluated_at.toISOString(),
    evidenceId: row.evidence_id,
    facts: row.facts,
  };
}

export const ExceptionSchema = Type.Object({
  id: Type.String(),
  checkId: Type.String(),
  subjectKey: Type.String(),
  status: Type.String(),
  justification: Type.String(),
  approver: Type.String(),
  requestedBy: Type.String(),
  approvedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedBy: Type.Union([Type.String(), Type.Null()]),
  revokeReason: Type.Union([Type.String(), Type.Null()]),
  expiryAnnouncedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  evidenceId: Type.Union([Type.String(), Type.Null()]),
});

export function presentException(row: ExceptionRow, now: Date = new Date()) {
  return {
    id: row.id,
    checkId: row.check_id,
    subjectKey: row.subject_key,
    status: exceptionStatus(row, now),
    justification: row.justification,
    approver: row.approver,
    requestedBy: row.created_by,
    approvedAt: row.approved_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
    revokedBy: row.revoked_by,
    revokeReason: row.revoke_reason,
    expiryAnnouncedAt: row.expiry_notified_at ? row.expiry_notified_at.toISOString() : null,
    evidenceId: row.evidence_id,
  };
}

export const FindingDetailSchema = Type.Object({
  finding: FindingSchema,
  results: Type.Array(ResultSchema),
  tasks: Type.Array(TaskSchema),
  exception: Type.Union([ExceptionSchema, Type.Null()]),
});
