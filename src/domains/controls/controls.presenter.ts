import { Type } from 'typebox';
import type { ControlRow } from './controls.service.ts';

export const ControlSchema = Type.Object(
  {
    id: Type.String(),
    templateId: Type.String(),
    title: Type.String(),
    description: Type.String(),
    frequency: Type.String(),
    ownerRole: Type.String(),
    owner: Type.Union([Type.String(), Type.Null()]),
    criteria: Type.Array(Type.String()),
    evidence: Type.Array(Type.String()),
    checks: Type.Array(Type.String()),
    status: Type.String(),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Control' },
);

export function presentControl(row: ControlRow) {
  return {
    id: row.id,
    templateId: row.template_id,
    title: row.title,
    description: row.description,
    frequency: row.frequency,
    ownerRole: row.owner_role,
    owner: row.owner,
    criteria: row.criteria,
    evidence: row.evidence,
    checks: row.checks,
    status: row.status,
    updatedAt: row.updated_at.toISOString(),
  };
}
