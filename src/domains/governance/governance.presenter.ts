import { Type } from 'typebox';
import type { ChangeSinceLaunchRow } from './campaigns.repository.ts';
import type { CampaignRow, ItemRow } from './campaigns.service.ts';

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const CampaignSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.String(),
  scope: Type.Record(Type.String(), Type.Unknown()),
  launchedAt: Type.String(),
  launchedBy: Type.String(),
  dueAt: Type.String(),
  snapshotSha256: Type.String(),
  signedOffAt: NullableString,
  signedOffBy: NullableString,
  decisionsSha256: NullableString,
  evidenceId: NullableString,
  // Optional in the schema so clients written against the earlier shape stay valid; always sent.
  kind: Type.Optional(
    Type.String({ description: 'review, or mover (one person, reviewed by the new manager)' }),
  ),
  subjectEmail: Type.Optional(NullableString),
  moverChange: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  recurrence: Type.Optional(NullableString),
  seriesId: Type.Optional(NullableString),
  nextLaunchAt: Type.Optional(NullableString),
});

export function presentCampaign(c: CampaignRow) {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    scope: c.scope as Record<string, unknown>,
    launchedAt: new Date(c.launched_at).toISOString(),
    launchedBy: c.launched_by,
    dueAt: new Date(c.due_at).toISOString(),
    snapshotSha256: c.snapshot_sha256,
    signedOffAt: iso(c.signed_off_at),
    signedOffBy: c.signed_off_by,
    decisionsSha256: c.decisions_sha256,
    evidenceId: c.evidence_id,
    kind: c.kind,
    subjectEmail: c.subject_email,
    moverChange: (c.mover_change ?? null) as Record<string, unknown> | null,
    recurrence: c.recurrence,
    seriesId: c.series_id,
    nextLaunchAt: iso(c.next_launch_at),
  };
}

export const ItemSchema = Type.Object({
  id: Type.String(),
  identityId: NullableString,
  subjectType: Type.String(),
  system: Type.String(),
  account: Type.String(),
  person: NullableString,
  owner: NullableString,
  entitlement: Type.String(),
  privileged: Type.Boolean(),
  reviewer: Type.String(),
  delegatedFrom: NullableString,
  decision: NullableString,
  justification: NullableString,
  decidedBy: NullableString,
  decidedAt: NullableString,
  taskId: NullableString,
  confirmedAt: NullableString,
  confirmation: NullableString,
  evidenceId: NullableString,
  flag: Type.Optional(NullableString),
  flagReason: Type.Optional(NullableString),
});

export function presentItem(i: ItemRow) {
  return {
    id: i.id,
    identityId: i.identity_id,
    subjectType: i.subject_type,
    system: i.system,
    account: i.account,
    person: i.person_email,
    owner: i.owner,
    entitlement: i.entitlement,
    privileged: i.privileged,
    reviewer: i.reviewer,
    delegatedFrom: i.delegated_from,
    decision: i.decision,
    justification: i.justification,
    decidedBy: i.decided_by,
    decidedAt: iso(i.decided_at),
    taskId: i.task_id,
    confirmedAt: iso(i.confirmed_at),
    confirmation: i.confirmation,
    evidenceId: i.evidence_id,
    flag: i.flag,
    flagReason: i.flag_reason,
  };
}

export const ChangeSchema = Type.Object({
  identityId: Type.String(),
  system: Type.String(),
  entitlement: Type.String(),
  granted: Type.Boolean(),
  privileged: Type.Boolean(),
  at: Type.String(),
  source: Type.String(),
});

export function presentChange(c: ChangeSinceLaunchRow) {
  return {
    identityId: c.identity_id,
    system: c.system,
    entitlement: c.name,
    granted: c.granted,
    privileged: c.privileged,
    at: c.at.toISOString(),
    source: c.source,
  };
}

export const TaskSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  title: Type.String(),
  status: Type.String(),
  assignee: NullableString,
  findingId: NullableString,
  dueAt: NullableString,
  createdAt: Type.String(),
  completedAt: NullableString,
  details: Type.Record(Type.String(), Type.Unknown()),
});

export function presentTask(t: {
  id: string;
  kind: string;
  title: string;
  status: string;
  assignee: string | null;
  finding_id: string | null;
  due_at: Date | null;
  created_at: Date;
  completed_at: Date | null;
  details: unknown;
}) {
  return {
    id: t.id,
    kind: t.kind,
    title: t.title,
    status: t.status,
    assignee: t.assignee,
    findingId: t.finding_id,
    dueAt: iso(t.due_at),
    createdAt: new Date(t.created_at).toISOString(),
    completedAt: iso(t.completed_at),
    details: t.details as Record<string, unknown>,
  };
}

export const OnboardingSchema = Type.Object({
  person: Type.String(),
  name: NullableString,
  startedAt: Type.String(),
  trigger: Type.String({ description: 'hr (start date) or scim (account created)' }),
  manager: NullableString,
  status: Type.String({ description: 'open, overdue, complete or cancelled (left before finishing)' }),
  items: Type.Array(TaskSchema),
});

export function presentOnboarding(o: {
  person: string;
  name: string | null;
  startedAt: string;
  trigger: string;
  manager: string | null;
  status: string;
  items: Parameters<typeof presentTask>[0][];
}) {
  return { ...o, items: o.items.map(presentTask) };
}

export const SettingsSchema = Type.Object({
  joinerLookbackDays: Type.Integer(),
  acknowledgementDays: Type.Integer(),
  trainingDays: Type.Integer(),
  accessRequestDays: Type.Integer(),
  moverReviewDays: Type.Integer(),
  moverFallbackReviewer: NullableString,
});
