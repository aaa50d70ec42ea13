import { Type } from 'typebox';
import { DateTime, iso, Nullable } from '../shared/http.ts';
import type {
  AcknowledgementRow,
  CampaignRow,
  PolicyReviewRow,
  PolicyRow,
  PolicyVersionRow,
} from './policies.repository.ts';

export const PolicyVersionSchema = Type.Object(
  {
    id: Type.String(),
    version: Type.Integer(),
    body: Type.String({ description: 'markdown' }),
    bodySha256: Type.String(),
    changeSummary: Type.String(),
    createdBy: Type.String(),
    createdAt: DateTime,
    approvedBy: Nullable(Type.String()),
    approvedAt: Nullable(DateTime),
    publishedAt: Nullable(DateTime),
    approvalEvidenceId: Nullable(Type.String()),
    publicationEvidenceId: Nullable(Type.String()),
  },
  { $id: 'PolicyVersion' },
);

export const PolicySchema = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    kind: Type.String(),
    owner: Nullable(Type.String()),
    reviewCadenceDays: Type.Integer(),
    acknowledgementRequired: Type.Boolean(),
    controls: Type.Array(Type.String()),
    status: Type.String(),
    currentVersion: Nullable(Type.Integer()),
    latestVersion: Nullable(Type.Integer()),
    lastReviewedAt: Nullable(DateTime),
    nextReviewDue: Nullable(DateTime),
  },
  { $id: 'Policy' },
);

export const CampaignSchema = Type.Object(
  {
    id: Type.String(),
    version: Type.Integer(),
    launchedAt: DateTime,
    dueAt: DateTime,
    audience: Type.Array(Type.String(), { description: 'empty: the whole active workforce' }),
    launchedBy: Type.String(),
  },
  { $id: 'AcknowledgementCampaign' },
);

export const AcknowledgementSchema = Type.Object(
  {
    email: Type.String(),
    version: Type.Integer(),
    acknowledgedAt: DateTime,
    source: Type.String(),
    evidenceId: Nullable(Type.String()),
  },
  { $id: 'PolicyAcknowledgement' },
);

export const PolicyReviewSchema = Type.Object({
  id: Type.String(),
  reviewedAt: DateTime,
  reviewer: Type.String(),
  outcome: Type.String(),
  notes: Type.String(),
  evidenceId: Nullable(Type.String()),
});

export function presentPolicy(row: PolicyRow, versions: PolicyVersionRow[]) {
  const own = versions.filter((v) => v.policy_id === row.id);
  const current = own.find((v) => v.id === row.current_version_id);
  return {
    id: row.id,
    title: row.title,
    kind: row.kind,
    owner: row.owner,
    reviewCadenceDays: row.review_cadence_days,
    acknowledgementRequired: row.acknowledgement_required,
    controls: row.control_ids,
    status: row.status,
    currentVersion: current?.version ?? null,
    latestVersion: own.at(-1)?.version ?? null,
    lastReviewedAt: iso(row.last_reviewed_at),
    nextReviewDue:
      row.last_reviewed_at && row.status === 'active'
        ? new Date(row.last_reviewed_at.getTime() + row.review_cadence_days * 86_400_000).toISOString()
        : null,
  };
}

export function presentVersion(v: PolicyVersionRow) {
  return {
    id: v.id,
    version: v.version,
    body: v.body,
    bodySha256: v.body_sha256,
    changeSummary: v.change_summary,
    createdBy: v.created_by,
    createdAt: v.created_at.toISOString(),
    approvedBy: v.approved_by,
    approvedAt: iso(v.approved_at),
    publishedAt: iso(v.published_at),
    approvalEvidenceId: v.approval_evidence_id,
    publicationEvidenceId: v.publication_evidence_id,
  };
}

export function presentCampaign(c: CampaignRow, version: number) {
  return {
    id: c.id,
    version,
    launchedAt: c.launched_at.toISOString(),
    dueAt: c.due_at.toISOString(),
    audience: c.audience,
    launchedBy: c.launched_by,
  };
}

export function presentAcknowledgement(a: AcknowledgementRow, version: number) {
  return {
    email: a.email,
    version,
    acknowledgedAt: a.acknowledged_at.toISOString(),
    source: a.source,
    evidenceId: a.evidence_id,
  };
}

export function presentPolicyReview(r: PolicyReviewRow) {
  return {
    id: r.id,
    reviewedAt: r.reviewed_at.toISOString(),
    reviewer: r.reviewer,
    outcome: r.outcome,
    notes: r.notes,
    evidenceId: r.evidence_id,
  };
}
