/**
 * The incident register (CC7.3–CC7.5): incidents with severity, timeline, status, root cause,
 * linked controls and the notifications made; the incident-response plan and when it was last
 * tested; tabletop exercises with their scenario, participants and outcomes; and follow-up actions
 * from exercises and incidents, tracked to closure. Every record is evidence.
 */
import type { Database, Trx } from '../../../db/database.ts';
import { AssayError } from '../../../errors.ts';
import type { Actor } from '../../audit/actor.ts';
import { findPolicy } from '../policies/policies.repository.ts';
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
  bool,
  controlIds,
  instant,
  invalid,
  list,
  oneOf,
  optionalInstant,
  optionalText,
  patch,
  prose,
  text,
} from '../shared/values.ts';
import {
  type ExerciseRow,
  type FollowUpRow,
  findExercise,
  findFollowUp,
  findFollowUpByKey,
  findIncident,
  findPlan,
  type IncidentRow,
  insertExercise,
  insertFollowUp,
  insertIncident,
  listExerciseRows,
  listFollowUpRows,
  listIncidentRows,
  updateExerciseRow,
  updateFollowUpRow,
  updateIncidentRow,
  upsertPlan,
} from './incidents.repository.ts';
import type { IncidentSeverity, IncidentStatus, Notification, TimelineEntry } from './incidents.tables.ts';
import { lastPlanTest } from './plan.ts';

export const incidentChecks = ['incident.plan_untested', 'incident.followups_overdue'] as const;
export const severities = ['low', 'medium', 'high', 'critical'] as const;
export const incidentStatuses = ['open', 'contained', 'resolved', 'closed'] as const;
export const followUpStatuses = ['open', 'done', 'cancelled'] as const;

async function write<T>(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  options: WriteOptions,
  fn: (trx: Trx, ctx: RegisterContext) => Promise<T>,
) {
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const result = await database.inWorkspace(ctx.workspaceId, (trx) => fn(trx, ctx));
  await evaluateRegister(database, ctx, incidentChecks, options.evaluate);
  return result;
}

// --- timelines and notifications as lists or as lines of text ---------------------------------

const dated = /^(\S+)\s+(.+)$/;

/** `[{at, entry}]`, or text with one `<date-time> <what happened>` per line. */
export function parseDatedLines<K extends string>(
  field: string,
  value: unknown,
  key: K,
): ({ at: string } & Record<K, string>)[] {
  if (value === undefined || value === null || value === '') return [];
  const items: unknown[] =
    typeof value === 'string'
      ? value
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter(Boolean)
      : Array.isArray(value)
        ? value
        : invalid(field, 'must be a list');
  const out = items.map((item, i) => {
    let at: unknown;
    let what: unknown;
    if (typeof item === 'string') {
      const match = dated.exec(item);
      if (!match) invalid(`${field}[${i}]`, `"${item.slice(0, 40)}" must read "<date-time> <${key}>"`);
      at = match[1];
      what = match[2];
    } else {
      const o = (item ?? {}) as Record<string, unknown>;
      at = o.at;
      what = o[key];
    }
    return {
      at: instant(`${field}[${i}].at`, at).toISOString(),
      [key]: text(`${field}[${i}].${key}`, what, 2000),
    } as { at: string } & Record<K, string>;
  });
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

export function formatDatedLines(items: { at: string }[], key: string): string {
  return items.map((i) => `${i.at} ${(i as Record<string, unknown>)[key]}`).join('\n');
}

// --- the plan ---------------------------------------------------------------------------------

export async function setPlan(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: { title?: unknown; policy?: unknown; owner?: unknown; testedAt?: unknown; notes?: unknown },
  options: WriteOptions = {},
) {
  const testedAt = optionalInstant('testedAt', input.testedAt);
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const current = await findPlan(trx, ctx.workspaceId);
    let policyId = current?.policy_id ?? null;
    if (input.policy !== undefined) {
      const ref = optionalText('policy', input.policy);
      policyId = ref
        ? ((await findPolicy(trx, ctx.workspaceId, ref)) ?? notFound('policy', ref, ctx)).id
        : null;
    }
    const title = patch(input.title, (v) => text('title', v)) ?? current?.title ?? text('title', input.title);
    const lastTested =
      testedAt && (!current?.last_tested_at || testedAt > current.last_tested_at)
        ? testedAt
        : (current?.last_tested_at ?? null);
    const row = await upsertPlan(trx, {
      workspace_id: ctx.workspaceId,
      title,
      policy_id: policyId,
      owner: input.owner !== undefined ? optionalText('owner', input.owner) : (current?.owner ?? null),
      last_tested_at: lastTested,
      updated_at: ctx.now,
    });
    if (testedAt) {
      // The plan exercised outside a tabletop (a real incident run by the plan, a drill).
      await appendRegisterEvidence(trx, ctx, [
        {
          kind: 'incident.plan_tested',
          controls: ['INC-01', 'INC-02'],
          criteria: ['CC7.4', 'CC7.5'],
          subject: { type: 'plan', id: 'incident-response-plan', name: row.title },
          effectiveAt: testedAt,
          content: { plan: row.title, testedAt: testedAt.toISOString(), notes: prose('notes', input.notes) },
        },
      ]);
    }
    await audit(trx, ctx, 'incident.plan_set', 'incident_response_plan', ctx.workspaceId, {
      title: row.title,
      testedAt: testedAt?.toISOString() ?? null,
    });
    return row;
  });
}

export async function getPlan(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const plan = await findPlan(trx, ctx.workspaceId);
    const exercises = await listExerciseRows(trx, ctx.workspaceId);
    return { plan: plan ?? null, lastTestedAt: lastPlanTest(plan ?? null, exercises) };
  });
}

// --- incidents --------------------------------------------------------------------------------

export interface IncidentInput {
  reference?: unknown;
  title?: unknown;
  severity?: unknown;
  status?: unknown;
  detectedAt?: unknown;
  resolvedAt?: unknown;
  closedAt?: unknown;
  rootCause?: unknown;
  summary?: unknown;
  owner?: unknown;
  controls?: unknown;
  timeline?: unknown;
  notifications?: unknown;
}

export interface IncidentValues {
  reference?: string;
  title?: string;
  severity?: IncidentSeverity;
  status?: IncidentStatus;
  detectedAt?: Date;
  resolvedAt?: Date | null;
  closedAt?: Date | null;
  rootCause?: string;
  summary?: string;
  owner?: string | null;
  controls?: string[];
  timeline?: TimelineEntry[];
  notifications?: Notification[];
}

export function normalizeIncident(input: IncidentInput, mode: 'create' | 'update'): IncidentValues {
  const values: IncidentValues = {
    reference: patch(input.reference, (v) => text('reference', v, 60)),
    title: patch(input.title, (v) => text('title', v, 300)),
    severity: patch(input.severity, (v) => oneOf('severity', v, severities)),
    status: patch(input.status, (v) => oneOf('status', v, incidentStatuses)),
    detectedAt: patch(input.detectedAt, (v) => instant('detectedAt', v)),
    resolvedAt: patch(input.resolvedAt, (v) => optionalInstant('resolvedAt', v)),
    closedAt: patch(input.closedAt, (v) => optionalInstant('closedAt', v)),
    rootCause: patch(input.rootCause, (v) => prose('rootCause', v)),
    summary: patch(input.summary, (v) => prose('summary', v)),
    owner: patch(input.owner, (v) => optionalText('owner', v)),
    controls: patch(input.controls, (v) => controlIds('controls', v)),
    timeline: patch(input.timeline, (v) => parseDatedLines('timeline', v, 'entry')),
    notifications: patch(input.notifications, (v) => parseDatedLines('notifications', v, 'recipient')),
  };
  if (mode === 'create') {
    for (const field of ['reference', 'title', 'severity'] as const) {
      if (values[field] === undefined) invalid(field, 'is required');
    }
  }
  return values;
}

export function incidentContent(row: IncidentRow) {
  return {
    reference: row.reference,
    title: row.title,
    severity: row.severity,
    status: row.status,
    detectedAt: row.detected_at.toISOString(),
    resolvedAt: row.resolved_at?.toISOString() ?? null,
    closedAt: row.closed_at?.toISOString() ?? null,
    rootCause: row.root_cause,
    summary: row.summary,
    owner: row.owner,
    controls: row.control_ids,
    timeline: row.timeline,
    notifications: row.notifications,
  };
}

function settle(
  row: Omit<IncidentRow, 'id' | 'workspace_id' | 'created_at' | 'updated_at' | 'evidence_id'>,
  now: Date,
) {
  // Resolution and closure get their times when the status says so and none was given.
  if ((row.status === 'resolved' || row.status === 'closed') && !row.resolved_at)
    row.resolved_at = row.closed_at ?? now;
  if (row.status === 'closed' && !row.closed_at) row.closed_at = now;
  if (row.status !== 'closed') row.closed_at = null;
  if (row.resolved_at && row.resolved_at < row.detected_at)
    invalid('resolvedAt', 'must not be before detectedAt');
  if (row.closed_at && row.resolved_at && row.closed_at < row.resolved_at)
    invalid('closedAt', 'must not be before resolvedAt');
  if (
    row.status === 'closed' &&
    (row.severity === 'high' || row.severity === 'critical') &&
    row.root_cause === ''
  ) {
    invalid('rootCause', `a ${row.severity}-severity incident is closed only with its root cause recorded`);
  }
  return row;
}

async function incidentEvidence(trx: Trx, ctx: RegisterContext, row: IncidentRow, change: string) {
  const [id] = await appendRegisterEvidence(trx, ctx, [
    {
      kind: 'incident.record',
      controls: [
        'INC-04',
        ...(row.notifications.length > 0 ? ['INC-06'] : []),
        ...(row.status === 'closed' ? ['INC-05'] : []),
        ...row.control_ids,
      ],
      criteria: ['CC7.3', 'CC7.4', 'CC7.5'],
      subject: { type: 'incident', id: row.id, name: `${row.reference} ${row.title}`.slice(0, 200) },
      effectiveAt: change === 'reported' ? row.detected_at : ctx.now,
      content: { change, incident: incidentContent(row) },
    },
  ]);
  return updateIncidentRow(trx, ctx.workspaceId, row.id, { evidence_id: id ?? null });
}

export async function upsertIncidentIn(
  trx: Trx,
  ctx: RegisterContext,
  values: IncidentValues,
  mode: 'create' | 'upsert',
) {
  const existing = await findIncident(trx, ctx.workspaceId, values.reference!);
  if (existing && mode === 'create') {
    throw new AssayError(
      'register_record_exists',
      `incident "${values.reference}" already exists in "${ctx.slug}"`,
      {
        field: 'reference',
      },
    );
  }
  if (existing) return updateIncidentIn(trx, ctx, existing, values);
  if (values.controls) await requireControls(trx, ctx, 'controls', values.controls);
  const fields = settle(
    {
      reference: values.reference!,
      title: values.title!,
      severity: values.severity!,
      status: values.status ?? 'open',
      detected_at: values.detectedAt ?? ctx.now,
      resolved_at: values.resolvedAt ?? null,
      closed_at: values.closedAt ?? null,
      root_cause: values.rootCause ?? '',
      summary: values.summary ?? '',
      owner: values.owner ?? null,
      control_ids: values.controls ?? [],
      timeline: values.timeline ?? [],
      notifications: values.notifications ?? [],
    },
    ctx.now,
  );
  const row = await insertIncident(trx, {
    ...fields,
    workspace_id: ctx.workspaceId,
    timeline: JSON.stringify(fields.timeline),
    notifications: JSON.stringify(fields.notifications),
    created_at: ctx.now,
    updated_at: ctx.now,
  });
  const withEvidence = await incidentEvidence(trx, ctx, row, 'reported');
  await audit(trx, ctx, 'incident.reported', 'incident', row.id, {
    reference: row.reference,
    severity: row.severity,
  });
  return { row: withEvidence, created: true, changed: true };
}

export async function updateIncidentIn(
  trx: Trx,
  ctx: RegisterContext,
  current: IncidentRow,
  values: IncidentValues,
) {
  if (values.reference !== undefined && values.reference.toLowerCase() !== current.reference.toLowerCase()) {
    if (await findIncident(trx, ctx.workspaceId, values.reference)) {
      throw new AssayError(
        'register_record_exists',
        `incident "${values.reference}" already exists in "${ctx.slug}"`,
        {
          field: 'reference',
        },
      );
    }
  }
  if (values.controls) await requireControls(trx, ctx, 'controls', values.controls);
  const fields = settle(
    {
      reference: values.reference ?? current.reference,
      title: values.title ?? current.title,
      severity: values.severity ?? current.severity,
      status: values.status ?? current.status,
      detected_at: values.detectedAt ?? current.detected_at,
      resolved_at: values.resolvedAt !== undefined ? values.resolvedAt : current.resolved_at,
      closed_at: values.closedAt !== undefined ? values.closedAt : current.closed_at,
      root_cause: values.rootCause ?? current.root_cause,
      summary: values.summary ?? current.summary,
      owner: values.owner !== undefined ? values.owner : current.owner,
      control_ids: values.controls ?? current.control_ids,
      timeline: values.timeline ?? current.timeline,
      notifications: values.notifications ?? current.notifications,
    },
    ctx.now,
  );
  const candidate = { ...current, ...fields };
  const before = JSON.stringify(incidentContent(current));
  if (JSON.stringify(incidentContent(candidate)) === before)
    return { row: current, created: false, changed: false };
  const row = await updateIncidentRow(trx, ctx.workspaceId, current.id, {
    ...fields,
    timeline: JSON.stringify(fields.timeline),
    notifications: JSON.stringify(fields.notifications),
    updated_at: ctx.now,
  });
  const change = row.status !== current.status ? `status ${current.status} → ${row.status}` : 'updated';
  const withEvidence = await incidentEvidence(trx, ctx, row, change);
  await audit(trx, ctx, 'incident.updated', 'incident', row.id, { change });
  return { row: withEvidence, created: false, changed: true };
}

export async function createIncident(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: IncidentInput,
  options: WriteOptions = {},
) {
  const values = normalizeIncident(input, 'create');
  return write(
    database,
    actor,
    workspaceRef,
    options,
    async (trx, ctx) => (await upsertIncidentIn(trx, ctx, values, 'create')).row,
  );
}

export async function updateIncident(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  ref: string,
  input: IncidentInput & { addTimeline?: unknown; addNotification?: unknown },
  options: WriteOptions = {},
) {
  const { addTimeline, addNotification, ...rest } = input;
  const values = normalizeIncident(rest, 'update');
  const moreTimeline = parseDatedLines('addTimeline', addTimeline, 'entry');
  const moreNotifications = parseDatedLines('addNotification', addNotification, 'recipient');
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const current = (await findIncident(trx, ctx.workspaceId, ref)) ?? notFound('incident', ref, ctx);
    const byTime = (a: { at: string }, b: { at: string }) => a.at.localeCompare(b.at);
    if (moreTimeline.length > 0)
      values.timeline = [...(values.timeline ?? current.timeline), ...moreTimeline].sort(byTime);
    if (moreNotifications.length > 0) {
      values.notifications = [...(values.notifications ?? current.notifications), ...moreNotifications].sort(
        byTime,
      );
    }
    return (await updateIncidentIn(trx, ctx, current, values)).row;
  });
}

// --- tabletop exercises -----------------------------------------------------------------------

export interface ExerciseInput {
  title?: unknown;
  scenario?: unknown;
  heldAt?: unknown;
  facilitator?: unknown;
  participants?: unknown;
  outcomes?: unknown;
  testsPlan?: unknown;
  followUps?: unknown;
}

export interface ExerciseValues {
  title?: string;
  scenario?: string;
  heldAt?: Date;
  facilitator?: string | null;
  participants?: string[];
  outcomes?: string;
  testsPlan?: boolean;
  followUps?: FollowUpValues[];
}

export function normalizeExercise(input: ExerciseInput, mode: 'create' | 'update'): ExerciseValues {
  const values: ExerciseValues = {
    title: patch(input.title, (v) => text('title', v, 300)),
    scenario: patch(input.scenario, (v) => text('scenario', v, 20_000)),
    heldAt: patch(input.heldAt, (v) => instant('heldAt', v)),
    facilitator: patch(input.facilitator, (v) => optionalText('facilitator', v)),
    participants: patch(input.participants, (v) => list('participants', v, 500)),
    outcomes: patch(input.outcomes, (v) => prose('outcomes', v)),
    testsPlan: patch(input.testsPlan, (v) => bool('testsPlan', v, true)),
    followUps: patch(input.followUps, (v) => {
      if (!Array.isArray(v)) invalid('followUps', 'must be a list of {title, owner, dueAt}');
      return v.map((f, i) => normalizeFollowUp(f ?? {}, 'create', `followUps[${i}].`));
    }),
  };
  if (mode === 'create') {
    for (const field of ['title', 'scenario', 'heldAt'] as const)
      if (values[field] === undefined) invalid(field, 'is required');
    if (values.participants === undefined || values.participants.length === 0) {
      invalid('participants', 'name who took part');
    }
  }
  return values;
}

export function exerciseContent(row: ExerciseRow) {
  return {
    title: row.title,
    scenario: row.scenario,
    heldAt: row.held_at.toISOString(),
    facilitator: row.facilitator,
    participants: row.participants,
    outcomes: row.outcomes,
    testsPlan: row.tests_plan,
  };
}

async function exerciseEvidence(trx: Trx, ctx: RegisterContext, row: ExerciseRow, followUps: FollowUpRow[]) {
  const [id] = await appendRegisterEvidence(trx, ctx, [
    {
      kind: 'incident.tabletop_exercise',
      controls: ['INC-02', 'INC-01'],
      criteria: ['CC7.4', 'CC7.5', 'CC4.1', 'A1.3'],
      subject: { type: 'tabletop_exercise', id: row.id, name: row.title },
      effectiveAt: row.held_at,
      content: {
        exercise: exerciseContent(row),
        followUps: followUps.map((f) => ({
          title: f.title,
          owner: f.owner,
          dueAt: f.due_at.toISOString(),
          status: f.status,
        })),
      },
    },
  ]);
  return updateExerciseRow(trx, ctx.workspaceId, row.id, { evidence_id: id ?? null });
}

export async function upsertExerciseIn(trx: Trx, ctx: RegisterContext, values: ExerciseValues) {
  const existing = await findExercise(trx, ctx.workspaceId, values.title!, values.heldAt);
  const fields = {
    title: values.title ?? existing?.title ?? '',
    scenario: values.scenario ?? existing?.scenario ?? '',
    held_at: values.heldAt ?? existing!.held_at,
    facilitator: values.facilitator !== undefined ? values.facilitator : (existing?.facilitator ?? null),
    participants: values.participants ?? existing?.participants ?? [],
    outcomes: values.outcomes ?? existing?.outcomes ?? '',
    tests_plan: values.testsPlan ?? existing?.tests_plan ?? true,
  };
  let row: ExerciseRow;
  let created = false;
  if (existing && existing.held_at.getTime() === fields.held_at.getTime()) {
    if (
      JSON.stringify(exerciseContent({ ...existing, ...fields })) ===
        JSON.stringify(exerciseContent(existing)) &&
      !values.followUps?.length
    ) {
      return { row: existing, created: false, changed: false };
    }
    row = await updateExerciseRow(trx, ctx.workspaceId, existing.id, { ...fields, updated_at: ctx.now });
  } else {
    row = await insertExercise(trx, {
      workspace_id: ctx.workspaceId,
      ...fields,
      created_at: ctx.now,
      updated_at: ctx.now,
    });
    created = true;
  }
  for (const f of values.followUps ?? []) {
    await upsertFollowUpIn(trx, ctx, { exerciseId: row.id, incidentId: null }, f, { evidence: false });
  }
  const followUps = (await listFollowUpRows(trx, ctx.workspaceId)).filter((f) => f.exercise_id === row.id);
  const withEvidence = await exerciseEvidence(trx, ctx, row, followUps);
  await audit(
    trx,
    ctx,
    created ? 'incident.exercise_recorded' : 'incident.exercise_updated',
    'tabletop_exercise',
    row.id,
    {
      title: row.title,
    },
  );
  return { row: withEvidence, created, changed: true };
}

export async function recordExercise(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: ExerciseInput,
  options: WriteOptions = {},
) {
  const values = normalizeExercise(input, 'create');
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    if (await findExercise(trx, ctx.workspaceId, values.title!, values.heldAt)) {
      throw new AssayError(
        'register_record_exists',
        `exercise "${values.title}" held ${values.heldAt!.toISOString()} is already recorded`,
      );
    }
    return (await upsertExerciseIn(trx, ctx, values)).row;
  });
}

export async function updateExercise(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  id: string,
  input: ExerciseInput,
  options: WriteOptions = {},
) {
  const values = normalizeExercise(input, 'update');
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const current = (await findExercise(trx, ctx.workspaceId, id)) ?? notFound('tabletop exercise', id, ctx);
    if (values.heldAt && values.heldAt.getTime() !== current.held_at.getTime()) {
      invalid('heldAt', 'record a new exercise instead of moving one to another date');
    }
    if (values.title && values.title.toLowerCase() !== current.title.toLowerCase()) {
      invalid('title', 'an exercise keeps the title it was recorded with');
    }
    return (
      await upsertExerciseIn(trx, ctx, {
        ...values,
        title: values.title ?? current.title,
        heldAt: current.held_at,
      })
    ).row;
  });
}

// --- follow-up actions ------------------------------------------------------------------------

export interface FollowUpInput {
  title?: unknown;
  owner?: unknown;
  dueAt?: unknown;
  status?: unknown;
  closedAt?: unknown;
  resolution?: unknown;
}

export interface FollowUpValues {
  title?: string;
  owner?: string | null;
  dueAt?: Date;
  status?: 'open' | 'done' | 'cancelled';
  closedAt?: Date | null;
  resolution?: string;
}

export function normalizeFollowUp(
  input: FollowUpInput,
  mode: 'create' | 'update',
  prefix = '',
): FollowUpValues {
  const values: FollowUpValues = {
    title: patch(input.title, (v) => text(`${prefix}title`, v, 300)),
    owner: patch(input.owner, (v) => optionalText(`${prefix}owner`, v)),
    dueAt: patch(input.dueAt, (v) => instant(`${prefix}dueAt`, v)),
    status: patch(input.status, (v) => oneOf(`${prefix}status`, v, followUpStatuses)),
    closedAt: patch(input.closedAt, (v) => optionalInstant(`${prefix}closedAt`, v)),
    resolution: patch(input.resolution, (v) => prose(`${prefix}resolution`, v)),
  };
  if (mode === 'create') {
    if (values.title === undefined) invalid(`${prefix}title`, 'is required');
    if (values.dueAt === undefined) invalid(`${prefix}dueAt`, 'is required');
  }
  return values;
}

export function followUpContent(row: FollowUpRow) {
  return {
    title: row.title,
    owner: row.owner,
    dueAt: row.due_at.toISOString(),
    status: row.status,
    closedAt: row.closed_at?.toISOString() ?? null,
    resolution: row.resolution,
  };
}

export async function upsertFollowUpIn(
  trx: Trx,
  ctx: RegisterContext,
  source: { exerciseId: string | null; incidentId: string | null },
  values: FollowUpValues,
  options: { evidence: boolean } = { evidence: true },
  current?: FollowUpRow,
) {
  const existing = current ?? (await findFollowUpByKey(trx, ctx.workspaceId, source, values.title!));
  const status = values.status ?? existing?.status ?? 'open';
  let closedAt = values.closedAt !== undefined ? values.closedAt : (existing?.closed_at ?? null);
  if (status === 'open') closedAt = null;
  else closedAt ??= ctx.now;
  const fields = {
    title: values.title ?? existing!.title,
    owner: values.owner !== undefined ? values.owner : (existing?.owner ?? null),
    due_at: values.dueAt ?? existing!.due_at,
    status,
    closed_at: closedAt,
    resolution: values.resolution ?? existing?.resolution ?? '',
  };
  if (status === 'done' && fields.resolution === '') invalid('resolution', 'say how the action was closed');
  let row: FollowUpRow;
  if (existing) {
    if (
      JSON.stringify(followUpContent({ ...existing, ...fields })) ===
      JSON.stringify(followUpContent(existing))
    ) {
      return { row: existing, created: false, changed: false };
    }
    row = await updateFollowUpRow(trx, ctx.workspaceId, existing.id, { ...fields, updated_at: ctx.now });
  } else {
    row = await insertFollowUp(trx, {
      workspace_id: ctx.workspaceId,
      exercise_id: source.exerciseId,
      incident_id: source.incidentId,
      ...fields,
      created_at: ctx.now,
      updated_at: ctx.now,
    });
  }
  const closing = row.status !== 'open' && existing?.status !== row.status;
  if (options.evidence && closing) {
    const [id] = await appendRegisterEvidence(trx, ctx, [
      {
        kind: 'incident.follow_up_closed',
        controls: ['INC-05', 'INC-02'],
        criteria: ['CC7.5', 'CC4.2'],
        subject: { type: 'follow_up_action', id: row.id, name: row.title },
        effectiveAt: row.closed_at ?? ctx.now,
        content: { followUp: followUpContent(row), exerciseId: row.exercise_id, incidentId: row.incident_id },
      },
    ]);
    row = await updateFollowUpRow(trx, ctx.workspaceId, row.id, { evidence_id: id ?? null });
  }
  await audit(
    trx,
    ctx,
    existing ? 'incident.follow_up_updated' : 'incident.follow_up_added',
    'follow_up_action',
    row.id,
    {
      title: row.title,
      status: row.status,
    },
  );
  return { row, created: !existing, changed: true };
}

export async function resolveFollowUpSource(
  trx: Trx,
  ctx: RegisterContext,
  ref: { exercise?: string | null; exerciseHeldAt?: Date | null; incident?: string | null },
) {
  if (Boolean(ref.exercise) === Boolean(ref.incident))
    invalid('exercise', 'name the exercise or the incident it follows from (one of them)');
  if (ref.exercise) {
    const exercise =
      (await findExercise(trx, ctx.workspaceId, ref.exercise, ref.exerciseHeldAt ?? undefined)) ??
      notFound('tabletop exercise', ref.exercise, ctx);
    return { exerciseId: exercise.id, incidentId: null };
  }
  const incident =
    (await findIncident(trx, ctx.workspaceId, ref.incident!)) ?? notFound('incident', ref.incident!, ctx);
  return { exerciseId: null, incidentId: incident.id };
}

export async function addFollowUp(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: FollowUpInput & { exercise?: unknown; incident?: unknown },
  options: WriteOptions = {},
) {
  const values = normalizeFollowUp(input, 'create');
  const exercise = optionalText('exercise', input.exercise);
  const incident = optionalText('incident', input.incident);
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const source = await resolveFollowUpSource(trx, ctx, { exercise, incident });
    if (await findFollowUpByKey(trx, ctx.workspaceId, source, values.title!)) {
      throw new AssayError(
        'register_record_exists',
        `follow-up action "${values.title}" already exists for that ${exercise ? 'exercise' : 'incident'}`,
      );
    }
    return (await upsertFollowUpIn(trx, ctx, source, values)).row;
  });
}

export async function updateFollowUp(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  id: string,
  input: FollowUpInput,
  options: WriteOptions = {},
) {
  const values = normalizeFollowUp(input, 'update');
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const current = (await findFollowUp(trx, ctx.workspaceId, id)) ?? notFound('follow-up action', id, ctx);
    return (
      await upsertFollowUpIn(
        trx,
        ctx,
        { exerciseId: current.exercise_id, incidentId: current.incident_id },
        values,
        { evidence: true },
        current,
      )
    ).row;
  });
}

// --- reads ------------------------------------------------------------------------------------

export async function listIncidents(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, (trx) => listIncidentRows(trx, ctx.workspaceId));
}

export async function getIncident(database: Database, workspaceRef: string, ref: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const incident = (await findIncident(trx, ctx.workspaceId, ref)) ?? notFound('incident', ref, ctx);
    const followUps = (await listFollowUpRows(trx, ctx.workspaceId)).filter(
      (f) => f.incident_id === incident.id,
    );
    return { incident, followUps };
  });
}

export async function listExercises(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, async (trx) => ({
    exercises: await listExerciseRows(trx, ctx.workspaceId),
    followUps: await listFollowUpRows(trx, ctx.workspaceId),
  }));
}

export async function listFollowUps(database: Database, workspaceRef: string) {
  const ctx = await readContext(database, workspaceRef);
  return database.inWorkspace(ctx.workspaceId, (trx) => listFollowUpRows(trx, ctx.workspaceId));
}
