/**
 * Significant changes (CC3.4): a new in-scope system, a new vendor or an organisation change must
 * be considered by the risk assessment. Each one detected opens a reassessment task; assessing it
 * records who judged it, how, and which risks it touched, as evidence.
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
import { completeRegisterTasks, openRegisterTask } from '../shared/registers.repository.ts';
import { addDays, list, oneOf, optionalInstant, text } from '../shared/values.ts';
import {
  countRisks,
  findRisk,
  findSignificantChange,
  insertSignificantChange,
  listSignificantChangeRows,
  systemsWithoutChangeRecord,
  updateSignificantChangeRow,
} from './risks.repository.ts';
import type { SignificantChangeKind } from './risks.tables.ts';

export const significantChangeKinds = ['new_system', 'new_vendor', 'org_change', 'other'] as const;

/** Days the risk owner has to reassess after a significant change. */
export const reassessmentDays = 30;

export async function recordSignificantChange(
  trx: Trx,
  ctx: RegisterContext,
  change: { kind: SignificantChangeKind; sourceKey: string; description: string; detectedAt?: Date },
) {
  const detectedAt = change.detectedAt ?? ctx.now;
  const row = await insertSignificantChange(trx, {
    workspace_id: ctx.workspaceId,
    kind: change.kind,
    source_key: change.sourceKey,
    description: change.description,
    detected_at: detectedAt,
    risk_ids: [],
    created_at: ctx.now,
  });
  if (!row) return null;
  const taskId = await openRegisterTask(trx, {
    workspaceId: ctx.workspaceId,
    kind: 'risk_reassessment',
    key: `significant_change:${row.id}`,
    title: `Reassess risks after a significant change: ${change.description}`,
    assignee: null,
    dueAt: addDays(detectedAt, reassessmentDays),
    createdAt: ctx.now,
    details: { significantChangeId: row.id, kind: change.kind },
  });
  await audit(trx, ctx, 'risk.significant_change_detected', 'significant_change', row.id, {
    kind: change.kind,
    description: change.description,
  });
  return updateSignificantChangeRow(trx, ctx.workspaceId, row.id, { task_id: taskId });
}

/**
 * Systems added to scope after the risk register began (the register's first assessment took in
 * those before it) that no significant change records yet.
 */
export async function scanSignificantChangesIn(trx: Trx, ctx: RegisterContext) {
  const { first } = await countRisks(trx, ctx.workspaceId);
  if (!first) return [];
  const recorded = [];
  for (const system of await systemsWithoutChangeRecord(trx, ctx.workspaceId, first)) {
    const row = await recordSignificantChange(trx, ctx, {
      kind: 'new_system',
      sourceKey: `system:${system.id}`,
      description: `New in-scope system ${system.name} (${system.kind}, ${system.environment})`,
      detectedAt: system.created_at,
    });
    if (row) recorded.push(row);
  }
  return recorded;
}

export async function scanSignificantChanges(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  options: WriteOptions = {},
) {
  const ctx = await registerContext(database, actor, workspaceRef, options);
  return database.inWorkspace(ctx.workspaceId, (trx) => scanSignificantChangesIn(trx, ctx));
}

export async function addSignificantChange(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: { kind?: unknown; description?: unknown; detectedAt?: unknown; reference?: unknown },
  options: WriteOptions = {},
) {
  const kind = oneOf('kind', input.kind ?? 'org_change', significantChangeKinds);
  const description = text('description', input.description, 2000);
  const detectedAt = optionalInstant('detectedAt', input.detectedAt);
  const ctx = await registerContext(database, actor, workspaceRef, options);
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const sourceKey =
      input.reference !== undefined && input.reference !== null && input.reference !== ''
        ? `manual:${text('reference', input.reference, 100).toLowerCase()}`
        : `manual:${ctx.now.toISOString()}:${description.toLowerCase().slice(0, 80)}`;
    const row = await recordSignificantChange(trx, ctx, {
      kind,
      sourceKey,
      description,
      ...(detectedAt ? { detectedAt } : {}),
    });
    if (!row) {
      throw new AssayError(
        'register_record_exists',
        `significant change "${String(input.reference)}" is already recorded`,
        {
          field: 'reference',
        },
      );
    }
    return row;
  });
}

export async function assessSignificantChange(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  id: string,
  input: { assessedBy?: unknown; assessment?: unknown; risks?: unknown; assessedAt?: unknown },
  options: WriteOptions = {},
) {
  const assessedBy = text('assessedBy', input.assessedBy);
  const assessment = text('assessment', input.assessment, 20_000);
  const riskRefs = list('risks', input.risks);
  const assessedAtGiven = optionalInstant('assessedAt', input.assessedAt);
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const assessedAt = assessedAtGiven ?? ctx.now;
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const change =
      (await findSignificantChange(trx, ctx.workspaceId, id)) ?? notFound('significant change', id, ctx);
    if (change.assessed_at) {
      throw new AssayError(
        'register_transition_invalid',
        `significant change ${id} was already assessed on ${change.assessed_at.toISOString()}`,
      );
    }
    const risks = [];
    for (const [i, ref] of riskRefs.entries()) {
      const risk = await findRisk(trx, ctx.workspaceId, ref);
      if (!risk) {
        throw new AssayError('validation_failed', `risks[${i}]: risk "${ref}" does not exist`, {
          field: `risks[${i}]`,
        });
      }
      risks.push(risk);
    }
    const [evidenceId] = await appendRegisterEvidence(trx, ctx, [
      {
        kind: 'risk.significant_change_assessment',
        controls: ['RISK-04', 'CHG-08'],
        criteria: ['CC3.4'],
        subject: { type: 'significant_change', id: change.id, name: change.description.slice(0, 200) },
        effectiveAt: assessedAt,
        content: {
          kind: change.kind,
          description: change.description,
          detectedAt: change.detected_at.toISOString(),
          assessedBy,
          assessment,
          risks: risks.map((r) => r.reference),
        },
      },
    ]);
    const row = await updateSignificantChangeRow(trx, ctx.workspaceId, change.id, {
      assessed_at: assessedAt,
      assessed_by: assessedBy,
      assessment,
      risk_ids: risks.map((r) => r.id),
      evidence_id: evidenceId ?? null,
    });
    await completeRegisterTasks(
      trx,
      ctx.workspaceId,
      'risk_reassessment',
      `significant_change:${change.id}`,
      ctx.now,
    );
    await audit(trx, ctx, 'risk.significant_change_assessed', 'significant_change', change.id, {
      assessedBy,
    });
    return row;
  });
}

export async function listSignificantChanges(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, (trx) => listSignificantChangeRows(trx, ctx.workspaceId));
}
