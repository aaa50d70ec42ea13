import { Type } from 'typebox';
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
