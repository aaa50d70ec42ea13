/**
 * The continuity register (A1.2, A1.3): backup restore tests and disaster-recovery exercises with
 * their results and the recovery times and points measured against target. Every test is evidence.
 */
import type { Database, Trx } from '../../../db/database.ts';
import { AssayError } from '../../../errors.ts';
import type { Actor } from '../../audit/actor.ts';
import {
  appendRegisterEvidence,
  audit,
  notFound,
  type RegisterContext,
  readContext,
  registerContext,
  type WriteOptions,
} from '../shared/context.ts';
import { evaluateRegister } from '../shared/evaluate.ts';
import { instant, invalid, isUuid, oneOf, optionalInteger, patch, prose, text } from '../shared/values.ts';
import {
  type ContinuityTestRow,
  findContinuityTest,
  findContinuityTestByKey,
  insertContinuityTest,
  listContinuityRows,
  updateContinuityRow,
} from './continuity.repository.ts';
import type { ContinuityResult, ContinuityTestKind } from './continuity.tables.ts';

export const continuityChecks = ['continuity.restore_test_overdue'] as const;
export const continuityKinds = ['backup_restore', 'dr_exercise'] as const;
export const continuityResults = ['success', 'partial', 'failed'] as const;

export interface ContinuityInput {
  kind?: unknown;
  target?: unknown;
  performedAt?: unknown;
  performedBy?: unknown;
  result?: unknown;
  rtoTargetMinutes?: unknown;
  rtoActualMinutes?: unknown;
  rpoTargetMinutes?: unknown;
  rpoActualMinutes?: unknown;
  notes?: unknown;
}

export interface ContinuityValues {
  kind?: ContinuityTestKind;
  target?: string;
  performedAt?: Date;
  performedBy?: string;
  result?: ContinuityResult;
  rtoTargetMinutes?: number | null;
  rtoActualMinutes?: number | null;
  rpoTargetMinutes?: number | null;
  rpoActualMinutes?: number | null;
  notes?: string;
}

const minutes = (field: string) => (v: unknown) => optionalInteger(field, v, 0, 10_000_000);

export function normalizeContinuity(input: ContinuityInput, mode: 'create' | 'update'): ContinuityValues {
  const values: ContinuityValues = {
    kind: patch(input.kind, (v) => oneOf('kind', v, continuityKinds)),
    target: patch(input.target, (v) => text('target', v)),
    performedAt: patch(input.performedAt, (v) => instant('performedAt', v)),
    performedBy: patch(input.performedBy, (v) => text('performedBy', v)),
    result: patch(input.result, (v) => oneOf('result', v, continuityResults)),
    rtoTargetMinutes: patch(input.rtoTargetMinutes, minutes('rtoTargetMinutes')),
    rtoActualMinutes: patch(input.rtoActualMinutes, minutes('rtoActualMinutes')),
    rpoTargetMinutes: patch(input.rpoTargetMinutes, minutes('rpoTargetMinutes')),
    rpoActualMinutes: patch(input.rpoActualMinutes, minutes('rpoActualMinutes')),
    notes: patch(input.notes, (v) => prose('notes', v)),
  };
  if (mode === 'create') {
    for (const field of ['kind', 'target', 'performedAt', 'performedBy', 'result'] as const) {
      if (values[field] === undefined) invalid(field, 'is required');
    }
  }
  return values;
}

export function continuityContent(
  row: Omit<ContinuityTestRow, 'id' | 'workspace_id' | 'evidence_id' | 'created_at' | 'updated_at'>,
) {
  const met = (target: number | null, actual: number | null) =>
    target === null || actual === null ? null : actual <= target;
  return {
    kind: row.kind,
    target: row.target,
    performedAt: row.performed_at.toISOString(),
    performedBy: row.performed_by,
    result: row.result,
    rto: {
      targetMinutes: row.rto_target_minutes,
      actualMinutes: row.rto_actual_minutes,
      met: met(row.rto_target_minutes, row.rto_actual_minutes),
    },
    rpo: {
      targetMinutes: row.rpo_target_minutes,
      actualMinutes: row.rpo_actual_minutes,
      met: met(row.rpo_target_minutes, row.rpo_actual_minutes),
    },
    notes: row.notes,
  };
}

async function continuityEvidence(trx: Trx, ctx: RegisterContext, row: ContinuityTestRow, change: string) {
  const restore = row.kind === 'backup_restore';
  const [id] = await appendRegisterEvidence(trx, ctx, [
    {
      kind: restore ? 'continuity.restore_test' : 'continuity.dr_exercise',
      controls: restore ? ['BCP-04', 'BCP-03'] : ['BCP-02', 'BCP-01'],
      criteria: restore ? ['A1.2', 'A1.3'] : ['A1.3', 'CC7.5', 'CC9.1'],
      subject: { type: 'system', id: row.target.toLowerCase(), name: row.target },
      effectiveAt: row.performed_at,
      content: { change, test: continuityContent(row) },
    },
  ]);
  return updateContinuityRow(trx, ctx.workspaceId, row.id, { evidence_id: id ?? null });
}

export async function upsertContinuityIn(
  trx: Trx,
  ctx: RegisterContext,
  values: ContinuityValues,
  mode: 'create' | 'upsert',
  current?: ContinuityTestRow,
) {
  const existing =
    current ??
    (await findContinuityTestByKey(trx, ctx.workspaceId, values.kind!, values.target!, values.performedAt!));
  if (existing && mode === 'create') {
    throw new AssayError(
      'register_record_exists',
      `a ${values.kind} test of "${values.target}" at ${values.performedAt!.toISOString()} is already recorded`,
    );
  }
  const pick = <K extends keyof ContinuityValues>(k: K, fallback: NonNullable<ContinuityValues[K]> | null) =>
    values[k] !== undefined ? values[k] : fallback;
  const fields = {
    kind: pick('kind', existing?.kind ?? null)!,
    target: pick('target', existing?.target ?? null)!,
    performed_at: pick('performedAt', existing?.performed_at ?? null)!,
    performed_by: pick('performedBy', existing?.performed_by ?? null)!,
    result: pick('result', existing?.result ?? null)!,
    rto_target_minutes: pick('rtoTargetMinutes', existing?.rto_target_minutes ?? null) ?? null,
    rto_actual_minutes: pick('rtoActualMinutes', existing?.rto_actual_minutes ?? null) ?? null,
    rpo_target_minutes: pick('rpoTargetMinutes', existing?.rpo_target_minutes ?? null) ?? null,
    rpo_actual_minutes: pick('rpoActualMinutes', existing?.rpo_actual_minutes ?? null) ?? null,
    notes: pick('notes', existing?.notes ?? '') ?? '',
  };
  if (fields.performed_at > ctx.now) invalid('performedAt', 'is in the future');
  if (existing) {
    if (JSON.stringify(continuityContent(fields)) === JSON.stringify(continuityContent(existing))) {
      return { row: existing, created: false, changed: false };
    }
    const row = await updateContinuityRow(trx, ctx.workspaceId, existing.id, {
      ...fields,
      updated_at: ctx.now,
    });
    const withEvidence = await continuityEvidence(trx, ctx, row, 'corrected');
    await audit(trx, ctx, 'continuity.test_corrected', 'continuity_test', row.id, { target: row.target });
    return { row: withEvidence, created: false, changed: true };
  }
  const row = await insertContinuityTest(trx, {
    workspace_id: ctx.workspaceId,
    ...fields,
    created_at: ctx.now,
    updated_at: ctx.now,
  });
  const withEvidence = await continuityEvidence(trx, ctx, row, 'recorded');
  await audit(trx, ctx, 'continuity.test_recorded', 'continuity_test', row.id, {
    kind: row.kind,
    target: row.target,
    result: row.result,
  });
  return { row: withEvidence, created: true, changed: true };
}

async function write<T>(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  options: WriteOptions,
  fn: (trx: Trx, ctx: RegisterContext) => Promise<T>,
) {
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const result = await database.inWorkspace(ctx.workspaceId, (trx) => fn(trx, ctx));
  await evaluateRegister(database, ctx, continuityChecks, options.evaluate);
  return result;
}

export async function recordContinuityTest(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: ContinuityInput,
  options: WriteOptions = {},
) {
  const values = normalizeContinuity(input, 'create');
  return write(
    database,
    actor,
    workspaceRef,
    options,
    async (trx, ctx) => (await upsertContinuityIn(trx, ctx, values, 'create')).row,
  );
}

export async function updateContinuityTest(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  id: string,
  input: ContinuityInput,
  options: WriteOptions = {},
) {
  const values = normalizeContinuity(input, 'update');
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const current =
      (isUuid(id) ? await findContinuityTest(trx, ctx.workspaceId, id) : undefined) ??
      notFound('continuity test', id, ctx);
    if (
      (values.kind && values.kind !== current.kind) ||
      (values.target && values.target.toLowerCase() !== current.target.toLowerCase()) ||
      (values.performedAt && values.performedAt.getTime() !== current.performed_at.getTime())
    ) {
      invalid('performedAt', 'a test keeps its kind, target and time: record a new test instead');
    }
    return (await upsertContinuityIn(trx, ctx, values, 'upsert', current)).row;
  });
}

export async function listContinuityTests(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, (trx) => listContinuityRows(trx, ctx.workspaceId));
}
