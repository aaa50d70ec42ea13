/**
 * The CSV form of the continuity register: backup restore tests and disaster-recovery exercises
 * (see docs/registers.md).
 */
import { type CsvKind, cell, type Input, result } from '../shared/csv.ts';
import { findContinuityTestByKey, listContinuityRows } from './continuity.repository.ts';
import { continuityChecks, normalizeContinuity, upsertContinuityIn } from './continuity.service.ts';

export const continuityTests: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeContinuity> }> = {
  kind: 'continuity-tests',
  register: 'continuity',
  description: 'Backup restore tests and disaster-recovery exercises.',
  checks: continuityChecks,
  columns: [
    {
      header: 'kind',
      required: true,
      description: 'backup_restore or dr_exercise (with target and performed_at, the key).',
    },
    {
      header: 'target',
      required: true,
      description: 'The system or data set restored, or the exercise scope.',
    },
    { header: 'performed_at', required: true, description: 'When.' },
    { header: 'performed_by', required: 'new', description: 'Who.' },
    { header: 'result', required: 'new', description: 'success, partial or failed.' },
    { header: 'rto_target_minutes', description: 'Recovery time objective.' },
    { header: 'rto_actual_minutes', description: 'Recovery time measured.' },
    { header: 'rpo_target_minutes', description: 'Recovery point objective.' },
    { header: 'rpo_actual_minutes', description: 'Data loss measured.' },
    { header: 'notes', description: 'What was restored and learned.' },
  ],
  async rows(trx, ctx) {
    return (await listContinuityRows(trx, ctx.workspaceId)).map((t) => ({
      kind: t.kind,
      target: t.target,
      performed_at: cell.date(t.performed_at),
      performed_by: t.performed_by,
      result: t.result,
      rto_target_minutes: cell.int(t.rto_target_minutes),
      rto_actual_minutes: cell.int(t.rto_actual_minutes),
      rpo_target_minutes: cell.int(t.rpo_target_minutes),
      rpo_actual_minutes: cell.int(t.rpo_actual_minutes),
      notes: t.notes,
    }));
  },
  parse: (raw) => ({ raw, values: normalizeContinuity(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findContinuityTestByKey(
      trx,
      ctx.workspaceId,
      values.kind!,
      values.target!,
      values.performedAt!,
    );
    return result(
      existing
        ? await upsertContinuityIn(trx, ctx, values, 'upsert', existing)
        : await upsertContinuityIn(trx, ctx, normalizeContinuity(raw, 'create'), 'create'),
    );
  },
};
