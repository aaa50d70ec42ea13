import { Type } from 'typebox';
import { DateTime, iso, Nullable } from '../shared/http.ts';
import type { RiskReviewRow, RiskRow, SignificantChangeRow } from './risks.repository.ts';
import { type Matrix, rate } from './risks.service.ts';

const Rating = Type.Object({
  likelihood: Type.Integer(),
  impact: Type.Integer(),
  score: Type.Integer(),
  rating: Type.String(),
});

export const MatrixSchema = Type.Object(
  {
    likelihoodLevels: Type.Integer(),
    impactLevels: Type.Integer(),
    mediumFrom: Type.Integer(),
    highFrom: Type.Integer(),
    criticalFrom: Type.Integer(),
  },
  { $id: 'RiskMatrix' },
);

export const RiskSchema = Type.Object(
  {
    id: Type.String(),
    reference: Type.String(),
    title: Type.String(),
    description: Type.String(),
    category: Type.String(),
    owner: Nullable(Type.String()),
    fraudRisk: Type.Boolean(),
    inherent: Rating,
    residual: Nullable(Rating),
    treatment: Type.String(),
    treatmentPlan: Type.String(),
    controls: Type.Array(Type.String()),
    status: Type.String(),
    reviewCadenceDays: Type.Integer(),
    lastReviewedAt: Nullable(DateTime),
    nextReviewDue: Nullable(DateTime),
    evidenceId: Nullable(Type.String()),
  },
  { $id: 'Risk' },
);

export const RiskReviewSchema = Type.Object({
  id: Type.String(),
  reviewedAt: DateTime,
  reviewer: Type.String(),
  notes: Type.String(),
  evidenceId: Nullable(Type.String()),
});

export const SignificantChangeSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    description: Type.String(),
    detectedAt: DateTime,
    taskId: Nullable(Type.String()),
    assessedAt: Nullable(DateTime),
    assessedBy: Nullable(Type.String()),
    assessment: Nullable(Type.String()),
    riskIds: Type.Array(Type.String()),
    evidenceId: Nullable(Type.String()),
  },
  { $id: 'SignificantChange' },
);

export function presentRisk(matrix: Matrix, row: RiskRow) {
  const reviewed = row.last_reviewed_at ?? row.created_at;
  return {
    id: row.id,
    reference: row.reference,
    title: row.title,
    description: row.description,
    category: row.category,
    owner: row.owner,
    fraudRisk: row.fraud_risk,
    inherent: {
      likelihood: row.inherent_likelihood,
      impact: row.inherent_impact,
      ...rate(matrix, row.inherent_likelihood, row.inherent_impact),
    },
    residual:
      row.residual_likelihood !== null && row.residual_impact !== null
        ? {
            likelihood: row.residual_likelihood,
            impact: row.residual_impact,
            ...rate(matrix, row.residual_likelihood, row.residual_impact),
          }
        : null,
    treatment: row.treatment,
    treatmentPlan: row.treatment_plan,
    controls: row.control_ids,
    status: row.status,
    reviewCadenceDays: row.review_cadence_days,
    lastReviewedAt: iso(row.last_reviewed_at),
    nextReviewDue:
      row.status === 'open'
        ? new Date(reviewed.getTime() + row.review_cadence_days * 86_400_000).toISOString()
        : null,
    evidenceId: row.evidence_id,
  };
}

export function presentRiskReview(row: RiskReviewRow) {
  return {
    id: row.id,
    reviewedAt: row.reviewed_at.toISOString(),
    reviewer: row.reviewer,
    notes: row.notes,
    evidenceId: row.evidence_id,
  };
}

export function presentSignificantChange(row: SignificantChangeRow) {
  return {
    id: row.id,
    kind: row.kind,
    description: row.description,
    detectedAt: row.detected_at.toISOString(),
    taskId: row.task_id,
    assessedAt: iso(row.assessed_at),
    assessedBy: row.assessed_by,
    assessment: row.assessment,
    riskIds: row.risk_ids,
    evidenceId: row.evidence_id,
  };
}
