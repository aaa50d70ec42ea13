import { Type } from 'typebox';
import { DateTime, iso, Nullable } from '../shared/http.ts';
import type { ExerciseRow, FollowUpRow, IncidentRow, PlanRow } from './incidents.repository.ts';

export const IncidentSchema = Type.Object(
  {
    id: Type.String(),
    reference: Type.String(),
    title: Type.String(),
    severity: Type.String(),
    status: Type.String(),
    detectedAt: DateTime,
    resolvedAt: Nullable(DateTime),
    closedAt: Nullable(DateTime),
    rootCause: Type.String(),
    summary: Type.String(),
    owner: Nullable(Type.String()),
    controls: Type.Array(Type.String()),
    timeline: Type.Array(Type.Object({ at: DateTime, entry: Type.String() })),
    notifications: Type.Array(Type.Object({ at: DateTime, recipient: Type.String() })),
    evidenceId: Nullable(Type.String()),
  },
  { $id: 'Incident' },
);

export const ExerciseSchema = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    scenario: Type.String(),
    heldAt: DateTime,
    facilitator: Nullable(Type.String()),
    participants: Type.Array(Type.String()),
    outcomes: Type.String(),
    testsPlan: Type.Boolean(),
    evidenceId: Nullable(Type.String()),
  },
  { $id: 'TabletopExercise' },
);

export const FollowUpSchema = Type.Object(
  {
    id: Type.String(),
    exerciseId: Nullable(Type.String()),
    incidentId: Nullable(Type.String()),
    title: Type.String(),
    owner: Nullable(Type.String()),
    dueAt: DateTime,
    status: Type.String(),
    closedAt: Nullable(DateTime),
    resolution: Type.String(),
    evidenceId: Nullable(Type.String()),
  },
  { $id: 'FollowUpAction' },
);

export const PlanSchema = Type.Object(
  {
    title: Nullable(Type.String()),
    policyId: Nullable(Type.String()),
    owner: Nullable(Type.String()),
    lastTestedAt: Nullable(DateTime),
  },
  { $id: 'IncidentResponsePlan' },
);

export function presentIncident(i: IncidentRow) {
  return {
    id: i.id,
    reference: i.reference,
    title: i.title,
    severity: i.severity,
    status: i.status,
    detectedAt: i.detected_at.toISOString(),
    resolvedAt: iso(i.resolved_at),
    closedAt: iso(i.closed_at),
    rootCause: i.root_cause,
    summary: i.summary,
    owner: i.owner,
    controls: i.control_ids,
    timeline: i.timeline,
    notifications: i.notifications,
    evidenceId: i.evidence_id,
  };
}

export function presentExercise(e: ExerciseRow) {
  return {
    id: e.id,
    title: e.title,
    scenario: e.scenario,
    heldAt: e.held_at.toISOString(),
    facilitator: e.facilitator,
    participants: e.participants,
    outcomes: e.outcomes,
    testsPlan: e.tests_plan,
    evidenceId: e.evidence_id,
  };
}

export function presentFollowUp(a: FollowUpRow) {
  return {
    id: a.id,
    exerciseId: a.exercise_id,
    incidentId: a.incident_id,
    title: a.title,
    owner: a.owner,
    dueAt: a.due_at.toISOString(),
    status: a.status,
    closedAt: iso(a.closed_at),
    resolution: a.resolution,
    evidenceId: a.evidence_id,
  };
}

export function presentPlan(plan: PlanRow | null, lastTestedAt: Date | null) {
  return {
    title: plan?.title ?? null,
    policyId: plan?.policy_id ?? null,
    owner: plan?.owner ?? null,
    lastTestedAt: iso(lastTestedAt),
  };
}
