/**
 * The risk register (CC3.1–CC3.4): risks rated likelihood × impact on the workspace's scale,
 * inherent and residual, with a treatment and the controls that carry it, an owner, a fraud flag
 * (CC3.3) and a review cadence. Every assessment and review is evidence.
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
  requireControls,
  type WriteOptions,
} from '../shared/context.ts';
import { evaluateRegister } from '../shared/evaluate.ts';
import {
  addDays,
  bool,
  controlIds,
  integer,
  invalid,
  oneOf,
  optionalInstant,
  optionalInteger,
  optionalText,
  patch,
  prose,
  text,
} from '../shared/values.ts';
import {
  findMatrix,
  findRisk,
  insertRisk,
  insertRiskReview,
  listRiskReviewRows,
  listRiskRows,
  maxScores,
  type RiskMatrixRow,
  type RiskRow,
  updateRiskRow,
  upsertMatrix,
} from './risks.repository.ts';
import type { Treatment } from './risks.tables.ts';
import { scanSignificantChangesIn } from './significant-changes.ts';

export const riskChecks = ['risk.register_review_overdue'] as const;
export const treatments = ['mitigate', 'accept', 'transfer', 'avoid'] as const;

// --- the rating scale -------------------------------------------------------------------------

export interface Matrix {
  likelihoodLevels: number;
  impactLevels: number;
  mediumFrom: number;
  highFrom: number;
  criticalFrom: number;
}

export const defaultMatrix: Matrix = {
  likelihoodLevels: 5,
  impactLevels: 5,
  mediumFrom: 5,
  highFrom: 10,
  criticalFrom: 17,
};

export function matrixOf(row: RiskMatrixRow | undefined): Matrix {
  if (!row) return defaultMatrix;
  return {
    likelihoodLevels: row.likelihood_levels,
    impactLevels: row.impact_levels,
    mediumFrom: row.medium_from,
    highFrom: row.high_from,
    criticalFrom: row.critical_from,
  };
}

export type Rating = 'low' | 'medium' | 'high' | 'critical';

export function rate(matrix: Matrix, likelihood: number, impact: number): { score: number; rating: Rating } {
  const score = likelihood * impact;
  const rating: Rating =
    score >= matrix.criticalFrom
      ? 'critical'
      : score >= matrix.highFrom
        ? 'high'
        : score >= matrix.mediumFrom
          ? 'medium'
          : 'low';
  return { score, rating };
}

export async function getMatrix(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, async (trx) =>
    matrixOf(await findMatrix(trx, ctx.workspaceId)),
  );
}

export async function setMatrix(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: Partial<Record<keyof Matrix, unknown>>,
  options: WriteOptions = {},
) {
  const ctx = await registerContext(database, actor, workspaceRef, options);
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const current = matrixOf(await findMatrix(trx, ctx.workspaceId));
    const next: Matrix = {
      likelihoodLevels:
        patch(input.likelihoodLevels, (v) => integer('likelihoodLevels', v, 2, 10)) ??
        current.likelihoodLevels,
      impactLevels:
        patch(input.impactLevels, (v) => integer('impactLevels', v, 2, 10)) ?? current.impactLevels,
      mediumFrom: patch(input.mediumFrom, (v) => integer('mediumFrom', v, 1, 100)) ?? current.mediumFrom,
      highFrom: patch(input.highFrom, (v) => integer('highFrom', v, 1, 100)) ?? current.highFrom,
      criticalFrom:
        patch(input.criticalFrom, (v) => integer('criticalFrom', v, 1, 100)) ?? current.criticalFrom,
    };
    if (!(next.mediumFrom < next.highFrom && next.highFrom < next.criticalFrom)) {
      invalid('mediumFrom', 'the thresholds must rise: mediumFrom < highFrom < criticalFrom');
    }
    if (next.criticalFrom > next.likelihoodLevels * next.impactLevels) {
      invalid(
        'criticalFrom',
        `no score on a ${next.likelihoodLevels}×${next.impactLevels} scale reaches ${next.criticalFrom}`,
      );
    }
    const used = await maxScores(trx, ctx.workspaceId);
    if (used.likelihood > next.likelihoodLevels || used.impact > next.impactLevels) {
      throw new AssayError(
        'register_transition_invalid',
        `risks are rated up to likelihood ${used.likelihood} and impact ${used.impact}: re-rate them before shrinking the scale`,
      );
    }
    await upsertMatrix(trx, {
      workspace_id: ctx.workspaceId,
      likelihood_levels: next.likelihoodLevels,
      impact_levels: next.impactLevels,
      medium_from: next.mediumFrom,
      high_from: next.highFrom,
      critical_from: next.criticalFrom,
      updated_at: ctx.now,
    });
    await audit(trx, ctx, 'risk.matrix_set', 'risk_matrix', ctx.workspaceId, { ...next });
    return next;
  });
}

// --- risks ------------------------------------------------------------------------------------

export interface RiskInput {
  reference?: unknown;
  title?: unknown;
  description?: unknown;
  category?: unknown;
  owner?: unknown;
  fraudRisk?: unknown;
  inherentLikelihood?: unknown;
  inherentImpact?: unknown;
  residualLikelihood?: unknown;
  residualImpact?: unknown;
  treatment?: unknown;
  treatmentPlan?: unknown;
  controls?: unknown;
  status?: unknown;
  reviewCadenceDays?: unknown;
  lastReviewedAt?: unknown;
}

export interface RiskValues {
  reference?: string;
  title?: string;
  description?: string;
  category?: string;
  owner?: string | null;
  fraudRisk?: boolean;
  inherentLikelihood?: number;
  inherentImpact?: number;
  residualLikelihood?: number | null;
  residualImpact?: number | null;
  treatment?: Treatment;
  treatmentPlan?: string;
  controls?: string[];
  status?: 'open' | 'closed';
  reviewCadenceDays?: number;
  lastReviewedAt?: Date | null;
}

export function normalizeRisk(input: RiskInput, mode: 'create' | 'update'): RiskValues {
  const values: RiskValues = {
    reference: patch(input.reference, (v) => text('reference', v, 60)),
    title: patch(input.title, (v) => text('title', v, 300)),
    description: patch(input.description, (v) => prose('description', v)),
    category: patch(input.category, (v) => prose('category', v, 100)),
    owner: patch(input.owner, (v) => optionalText('owner', v)),
    fraudRisk: patch(input.fraudRisk, (v) => bool('fraudRisk', v, false)),
    inherentLikelihood: patch(input.inherentLikelihood, (v) => integer('inherentLikelihood', v, 1, 10)),
    inherentImpact: patch(input.inherentImpact, (v) => integer('inherentImpact', v, 1, 10)),
    residualLikelihood: patch(input.residualLikelihood, (v) =>
      optionalInteger('residualLikelihood', v, 1, 10),
    ),
    residualImpact: patch(input.residualImpact, (v) => optionalInteger('residualImpact', v, 1, 10)),
    treatment: patch(input.treatment, (v) => oneOf('treatment', v, treatments)),
    treatmentPlan: patch(input.treatmentPlan, (v) => prose('treatmentPlan', v)),
    controls: patch(input.controls, (v) => controlIds('controls', v)),
    status: patch(input.status, (v) => oneOf('status', v, ['open', 'closed'] as const)),
    reviewCadenceDays: patch(input.reviewCadenceDays, (v) => integer('reviewCadenceDays', v, 1, 3660)),
    lastReviewedAt: patch(input.lastReviewedAt, (v) => optionalInstant('lastReviewedAt', v)),
  };
  if (mode === 'create') {
    for (const field of [
      'reference',
      'title',
      'inherentLikelihood',
      'inherentImpact',
      'treatment',
    ] as const) {
      if (values[field] === undefined) invalid(field, 'is required');
    }
  }
  return values;
}

function checkAgainstMatrix(
  matrix: Matrix,
  risk: Pick<RiskRow, 'inherent_likelihood' | 'inherent_impact' | 'residual_likelihood' | 'residual_impact'>,
) {
  const fields = [
    ['inherentLikelihood', risk.inherent_likelihood, matrix.likelihoodLevels],
    ['inherentImpact', risk.inherent_impact, matrix.impactLevels],
    ['residualLikelihood', risk.residual_likelihood, matrix.likelihoodLevels],
    ['residualImpact', risk.residual_impact, matrix.impactLevels],
  ] as const;
  for (const [field, value, max] of fields) {
    if (value !== null && value > max) invalid(field, `must be from 1 to ${max} on this workspace's scale`);
  }
  if ((risk.residual_likelihood === null) !== (risk.residual_impact === null)) {
    invalid('residualImpact', 'give both residual likelihood and residual impact, or neither');
  }
}

export function riskContent(matrix: Matrix, row: RiskRow) {
  const inherent = rate(matrix, row.inherent_likelihood, row.inherent_impact);
  const residual =
    row.residual_likelihood !== null && row.residual_impact !== null
      ? rate(matrix, row.residual_likelihood, row.residual_impact)
      : null;
  return {
    reference: row.reference,
    title: row.title,
    description: row.description,
    category: row.category,
    owner: row.owner,
    fraudRisk: row.fraud_risk,
    inherent: { likelihood: row.inherent_likelihood, impact: row.inherent_impact, ...inherent },
    residual: residual
      ? { likelihood: row.residual_likelihood, impact: row.residual_impact, ...residual }
      : null,
    treatment: row.treatment,
    treatmentPlan: row.treatment_plan,
    controls: row.control_ids,
    status: row.status,
    reviewCadenceDays: row.review_cadence_days,
    scale: `${matrix.likelihoodLevels}x${matrix.impactLevels}`,
  };
}

async function assessmentEvidence(
  trx: Trx,
  ctx: RegisterContext,
  matrix: Matrix,
  row: RiskRow,
  what: string,
  effectiveAt: Date,
) {
  const [id] = await appendRegisterEvidence(trx, ctx, [
    {
      kind: 'risk.assessment',
      controls: ['RISK-01', 'RISK-02', ...(row.fraud_risk ? ['RISK-03'] : [])],
      criteria: ['CC3.1', 'CC3.2', ...(row.fraud_risk ? ['CC3.3'] : [])],
      subject: { type: 'risk', id: row.id, name: `${row.reference} ${row.title}`.slice(0, 200) },
      effectiveAt,
      staleAfter: addDays(effectiveAt, row.review_cadence_days),
      content: { assessment: what, risk: riskContent(matrix, row) },
    },
  ]);
  return updateRiskRow(trx, ctx.workspaceId, row.id, { evidence_id: id ?? null });
}

export async function upsertRiskIn(
  trx: Trx,
  ctx: RegisterContext,
  values: RiskValues,
  mode: 'create' | 'upsert',
) {
  const matrix = matrixOf(await findMatrix(trx, ctx.workspaceId));
  const existing = await findRisk(trx, ctx.workspaceId, values.reference!);
  if (existing && mode === 'create') {
    throw new AssayError(
      'register_record_exists',
      `risk "${values.reference}" already exists in "${ctx.slug}"`,
      {
        field: 'reference',
      },
    );
  }
  if (existing) return updateRiskIn(trx, ctx, existing, values);
  if (values.controls) await requireControls(trx, ctx, 'controls', values.controls);
  const candidate = {
    inherent_likelihood: values.inherentLikelihood!,
    inherent_impact: values.inherentImpact!,
    residual_likelihood: values.residualLikelihood ?? null,
    residual_impact: values.residualImpact ?? null,
  };
  checkAgainstMatrix(matrix, candidate);
  const reviewedAt = values.lastReviewedAt ?? ctx.now;
  const row = await insertRisk(trx, {
    workspace_id: ctx.workspaceId,
    reference: values.reference!,
    title: values.title!,
    description: values.description ?? '',
    category: values.category ?? '',
    owner: values.owner ?? null,
    fraud_risk: values.fraudRisk ?? false,
    ...candidate,
    treatment: values.treatment!,
    treatment_plan: values.treatmentPlan ?? '',
    control_ids: values.controls ?? [],
    status: values.status ?? 'open',
    review_cadence_days: values.reviewCadenceDays ?? 365,
    last_reviewed_at: reviewedAt,
    created_at: ctx.now,
    updated_at: ctx.now,
  });
  const withEvidence = await assessmentEvidence(trx, ctx, matrix, row, 'identified', reviewedAt);
  await audit(trx, ctx, 'risk.created', 'risk', row.id, { reference: row.reference });
  await scanSignificantChangesIn(trx, ctx);
  return { row: withEvidence, created: true, changed: true };
}

export async function updateRiskIn(trx: Trx, ctx: RegisterContext, current: RiskRow, values: RiskValues) {
  const matrix = matrixOf(await findMatrix(trx, ctx.workspaceId));
  if (values.reference !== undefined && values.reference.toLowerCase() !== current.reference.toLowerCase()) {
    if (await findRisk(trx, ctx.workspaceId, values.reference)) {
      throw new AssayError(
        'register_record_exists',
        `risk "${values.reference}" already exists in "${ctx.slug}"`,
        {
          field: 'reference',
        },
      );
    }
  }
  if (values.controls) await requireControls(trx, ctx, 'controls', values.controls);
  const next: RiskRow = {
    ...current,
    reference: values.reference ?? current.reference,
    title: values.title ?? current.title,
    description: values.description ?? current.description,
    category: values.category ?? current.category,
    owner: values.owner !== undefined ? values.owner : current.owner,
    fraud_risk: values.fraudRisk ?? current.fraud_risk,
    inherent_likelihood: values.inherentLikelihood ?? current.inherent_likelihood,
    inherent_impact: values.inherentImpact ?? current.inherent_impact,
    residual_likelihood:
      values.residualLikelihood !== undefined ? values.residualLikelihood : current.residual_likelihood,
    residual_impact: values.residualImpact !== undefined ? values.residualImpact : current.residual_impact,
    treatment: values.treatment ?? current.treatment,
    treatment_plan: values.treatmentPlan ?? current.treatment_plan,
    control_ids: values.controls ?? current.control_ids,
    status: values.status ?? current.status,
    review_cadence_days: values.reviewCadenceDays ?? current.review_cadence_days,
    last_reviewed_at:
      values.lastReviewedAt !== undefined && values.lastReviewedAt !== null
        ? values.lastReviewedAt
        : current.last_reviewed_at,
  };
  checkAgainstMatrix(matrix, next);
  const before = JSON.stringify(riskContent(matrix, current));
  const sameReview = next.last_reviewed_at?.getTime() === current.last_reviewed_at?.getTime();
  if (JSON.stringify(riskContent(matrix, next)) === before && sameReview) {
    return { row: current, created: false, changed: false };
  }
  const { id: _id, workspace_id: _w, created_at: _c, evidence_id: _e, ...fields } = next;
  const row = await updateRiskRow(trx, ctx.workspaceId, current.id, { ...fields, updated_at: ctx.now });
  const withEvidence = await assessmentEvidence(trx, ctx, matrix, row, 'updated', ctx.now);
  await audit(trx, ctx, 'risk.updated', 'risk', row.id, {
    before: JSON.parse(before),
    after: riskContent(matrix, row),
  });
  await scanSignificantChangesIn(trx, ctx);
  return { row: withEvidence, created: false, changed: true };
}

export async function createRisk(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: RiskInput,
  options: WriteOptions = {},
) {
  const values = normalizeRisk(input, 'create');
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const { row } = await database.inWorkspace(ctx.workspaceId, (trx) =>
    upsertRiskIn(trx, ctx, values, 'create'),
  );
  await evaluateRegister(database, ctx, riskChecks, options.evaluate);
  return row;
}

export async function updateRisk(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  riskRef: string,
  input: RiskInput,
  options: WriteOptions = {},
) {
  const values = normalizeRisk(input, 'update');
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const { row } = await database.inWorkspace(ctx.workspaceId, async (trx) =>
    updateRiskIn(
      trx,
      ctx,
      (await findRisk(trx, ctx.workspaceId, riskRef)) ?? notFound('risk', riskRef, ctx),
      values,
    ),
  );
  await evaluateRegister(database, ctx, riskChecks, options.evaluate);
  return row;
}

/** A periodic review: the risk is looked at again (scores may change) and the review is evidence. */
export async function reviewRisk(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  riskRef: string,
  input: RiskInput & { reviewer?: unknown; notes?: unknown; reviewedAt?: unknown },
  options: WriteOptions = {},
) {
  const reviewer = text('reviewer', input.reviewer);
  const notes = prose('notes', input.notes);
  const reviewedAtGiven = optionalInstant('reviewedAt', input.reviewedAt);
  const { reviewer: _r, notes: _n, reviewedAt: _a, ...rest } = input;
  const values = normalizeRisk(rest, 'update');
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const reviewedAt = reviewedAtGiven ?? ctx.now;
  const result = await database.inWorkspace(ctx.workspaceId, async (trx) => {
    const current = (await findRisk(trx, ctx.workspaceId, riskRef)) ?? notFound('risk', riskRef, ctx);
    const { row: updated } = await updateRiskIn(trx, ctx, current, values);
    const matrix = matrixOf(await findMatrix(trx, ctx.workspaceId));
    const lastReviewed =
      updated.last_reviewed_at && updated.last_reviewed_at > reviewedAt
        ? updated.last_reviewed_at
        : reviewedAt;
    const row = await updateRiskRow(trx, ctx.workspaceId, updated.id, {
      last_reviewed_at: lastReviewed,
      updated_at: ctx.now,
    });
    const snapshot = riskContent(matrix, row);
    const [evidenceId] = await appendRegisterEvidence(trx, ctx, [
      {
        kind: 'risk.review',
        controls: ['RISK-01', 'RISK-02', ...(row.fraud_risk ? ['RISK-03'] : [])],
        criteria: ['CC3.1', 'CC3.2', 'CC4.2', ...(row.fraud_risk ? ['CC3.3'] : [])],
        subject: { type: 'risk', id: row.id, name: `${row.reference} ${row.title}`.slice(0, 200) },
        effectiveAt: reviewedAt,
        staleAfter: addDays(reviewedAt, row.review_cadence_days),
        content: { reviewer, notes, risk: snapshot },
      },
    ]);
    const review = await insertRiskReview(trx, {
      workspace_id: ctx.workspaceId,
      risk_id: row.id,
      reviewed_at: reviewedAt,
      reviewer,
      notes,
      snapshot: JSON.stringify(snapshot),
      evidence_id: evidenceId ?? null,
      created_at: ctx.now,
    });
    await audit(trx, ctx, 'risk.reviewed', 'risk', row.id, { reviewer });
    return {
      risk: await updateRiskRow(trx, ctx.workspaceId, row.id, { evidence_id: evidenceId ?? null }),
      review,
    };
  });
  await evaluateRegister(database, ctx, riskChecks, options.evaluate);
  return result;
}

export async function listRisks(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, async (trx) => ({
    matrix: matrixOf(await findMatrix(trx, ctx.workspaceId)),
    risks: await listRiskRows(trx, ctx.workspaceId),
  }));
}

export async function getRisk(database: Database, workspaceRef: string, riskRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const risk = (await findRisk(trx, ctx.workspaceId, riskRef)) ?? notFound('risk', riskRef, ctx);
    return {
      matrix: matrixOf(await findMatrix(trx, ctx.workspaceId)),
      risk,
      reviews: await listRiskReviewRows(trx, ctx.workspaceId, { riskId: risk.id }),
    };
  });
}
