/**
 * The training register (CC1.4, CC2.2): courses with their audience and cadence, completions
 * recorded or imported, hand-made assignments, and the assignments that follow from HR's roster.
 * Each completion is evidence.
 */
import type { Database, Trx } from '../../../db/database.ts';
import { AssayError } from '../../../errors.ts';
import type { Actor } from '../../audit/actor.ts';
import { activeWorkforce } from '../policies/acknowledgements.ts';
import { listWorkforce } from '../policies/policies.repository.ts';
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
  email,
  instant,
  integer,
  invalid,
  list,
  oneOf,
  optionalInstant,
  optionalInteger,
  patch,
  text,
} from '../shared/values.ts';
import { courseView, deriveAssignments, type Trainee } from './assignments.ts';
import {
  type CompletionRow,
  type CourseRow,
  findCompletion,
  findCourse,
  insertAssignment,
  insertCompletion,
  insertCourse,
  listAssignmentRows,
  listCompletionRows,
  listCourseRows,
  setCompletionEvidence,
  updateCourseRow,
} from './training.repository.ts';

export const trainingChecks = ['training.overdue'] as const;
export const courseKinds = ['security_awareness', 'role_specific', 'other'] as const;
export const frequencies = ['once', 'annual'] as const;

async function write<T>(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  options: WriteOptions,
  fn: (trx: Trx, ctx: RegisterContext) => Promise<T>,
) {
  const ctx = await registerContext(database, actor, workspaceRef, options);
  const result = await database.inWorkspace(ctx.workspaceId, (trx) => fn(trx, ctx));
  await evaluateRegister(database, ctx, trainingChecks, options.evaluate);
  return result;
}

export interface CourseInput {
  code?: unknown;
  title?: unknown;
  kind?: unknown;
  frequency?: unknown;
  dueDays?: unknown;
  audienceDepartments?: unknown;
  audienceTitles?: unknown;
  controls?: unknown;
  active?: unknown;
  effectiveFrom?: unknown;
}

export interface CourseValues {
  code?: string;
  title?: string;
  kind?: CourseRow['kind'];
  frequency?: CourseRow['frequency'];
  dueDays?: number;
  audienceDepartments?: string[];
  audienceTitles?: string[];
  controls?: string[];
  active?: boolean;
  effectiveFrom?: Date;
}

export function normalizeCourse(input: CourseInput, mode: 'create' | 'update'): CourseValues {
  const values: CourseValues = {
    code: patch(input.code, (v) => text('code', v, 60)),
    title: patch(input.title, (v) => text('title', v, 300)),
    kind: patch(input.kind, (v) => oneOf('kind', v, courseKinds)),
    frequency: patch(input.frequency, (v) => oneOf('frequency', v, frequencies)),
    dueDays: patch(input.dueDays, (v) => integer('dueDays', v, 0, 365)),
    audienceDepartments: patch(input.audienceDepartments, (v) => list('audienceDepartments', v)),
    audienceTitles: patch(input.audienceTitles, (v) => list('audienceTitles', v)),
    controls: patch(input.controls, (v) => controlIds('controls', v)),
    active: patch(input.active, (v) => bool('active', v, true)),
    effectiveFrom: patch(input.effectiveFrom, (v) => instant('effectiveFrom', v)),
  };
  if (mode === 'create') {
    for (const field of ['code', 'title', 'kind', 'frequency'] as const)
      if (values[field] === undefined) invalid(field, 'is required');
  }
  return values;
}

function courseControls(row: CourseRow) {
  return [row.kind === 'role_specific' ? 'HR-04' : 'HR-03', ...row.control_ids];
}

export async function upsertCourseIn(
  trx: Trx,
  ctx: RegisterContext,
  values: CourseValues,
  mode: 'create' | 'upsert',
) {
  const existing = await findCourse(trx, ctx.workspaceId, values.code!);
  if (existing && mode === 'create') {
    throw new AssayError(
      'register_record_exists',
      `course "${values.code}" already exists in "${ctx.slug}"`,
      { field: 'code' },
    );
  }
  if (values.controls) await requireControls(trx, ctx, 'controls', values.controls);
  const fields = {
    code: values.code ?? existing!.code,
    title: values.title ?? existing?.title ?? '',
    kind: values.kind ?? existing!.kind,
    frequency: values.frequency ?? existing!.frequency,
    due_days: values.dueDays ?? existing?.due_days ?? 30,
    audience_departments: values.audienceDepartments ?? existing?.audience_departments ?? [],
    audience_titles: values.audienceTitles ?? existing?.audience_titles ?? [],
    control_ids: values.controls ?? existing?.control_ids ?? [],
    active: values.active ?? existing?.active ?? true,
    effective_from: values.effectiveFrom ?? existing?.effective_from ?? ctx.now,
  };
  if (existing) {
    const same = Object.entries(fields).every(
      ([k, v]) => JSON.stringify(v) === JSON.stringify(existing[k as keyof CourseRow]),
    );
    if (same) return { row: existing, created: false, changed: false };
    const row = await updateCourseRow(trx, ctx.workspaceId, existing.id, { ...fields, updated_at: ctx.now });
    await audit(trx, ctx, 'training.course_updated', 'training_course', row.id, { code: row.code });
    return { row, created: false, changed: true };
  }
  const row = await insertCourse(trx, {
    workspace_id: ctx.workspaceId,
    ...fields,
    created_at: ctx.now,
    updated_at: ctx.now,
  });
  await audit(trx, ctx, 'training.course_created', 'training_course', row.id, { code: row.code });
  return { row, created: true, changed: true };
}

export async function createCourse(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: CourseInput,
  options: WriteOptions = {},
) {
  const values = normalizeCourse(input, 'create');
  return write(
    database,
    actor,
    workspaceRef,
    options,
    async (trx, ctx) => (await upsertCourseIn(trx, ctx, values, 'create')).row,
  );
}

export async function updateCourse(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  ref: string,
  input: CourseInput,
  options: WriteOptions = {},
) {
  const values = normalizeCourse(input, 'update');
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const current = (await findCourse(trx, ctx.workspaceId, ref)) ?? notFound('course', ref, ctx);
    if (values.code && values.code.toLowerCase() !== current.code.toLowerCase()) {
      if (await findCourse(trx, ctx.workspaceId, values.code)) {
        throw new AssayError('register_record_exists', `course "${values.code}" already exists`, {
          field: 'code',
        });
      }
    }
    const { row } = await upsertCourseIn(trx, ctx, { ...values, code: current.code }, 'upsert');
    if (values.code && values.code !== current.code) {
      return updateCourseRow(trx, ctx.workspaceId, current.id, { code: values.code, updated_at: ctx.now });
    }
    return row;
  });
}

export interface CompletionInput {
  course?: unknown;
  email?: unknown;
  completedAt?: unknown;
  source?: unknown;
  score?: unknown;
}

export interface CompletionValues {
  course: string;
  email: string;
  completedAt: Date | null;
  source: CompletionRow['source'];
  score: number | null;
}

export function normalizeCompletion(
  input: CompletionInput,
  defaultSource: CompletionRow['source'] = 'recorded',
): CompletionValues {
  return {
    course: text('course', input.course, 60),
    email: email('email', input.email),
    completedAt: optionalInstant('completedAt', input.completedAt),
    source: oneOf('source', input.source ?? defaultSource, ['recorded', 'imported'] as const),
    score: optionalInteger('score', input.score, 0, 100),
  };
}

/** Records a completion (the same course, person and time again is the same record). */
export async function recordCompletionIn(
  trx: Trx,
  ctx: RegisterContext,
  values: CompletionValues,
  courses?: Map<string, CourseRow>,
) {
  const course =
    courses?.get(values.course.toLowerCase()) ??
    (await findCourse(trx, ctx.workspaceId, values.course)) ??
    invalid('course', `course "${values.course}" does not exist (see assay training courses)`);
  const completedAt = values.completedAt ?? ctx.now;
  if (completedAt > addDays(ctx.now, 1)) invalid('completedAt', 'is in the future');
  const existing = await findCompletion(trx, ctx.workspaceId, course.id, values.email, completedAt);
  if (existing) return { row: existing, course, created: false };
  const row = await insertCompletion(trx, {
    workspace_id: ctx.workspaceId,
    course_id: course.id,
    email: values.email,
    completed_at: completedAt,
    source: values.source,
    score: values.score,
    created_at: ctx.now,
  });
  return { row, course, created: true };
}

export async function completionEvidence(
  trx: Trx,
  ctx: RegisterContext,
  items: { row: CompletionRow; course: CourseRow }[],
) {
  const ids = await appendRegisterEvidence(
    trx,
    ctx,
    items.map(({ row, course }) => ({
      kind: 'training.completion',
      controls: courseControls(course),
      criteria: ['CC1.4', 'CC2.2'],
      subject: { type: 'person', id: row.email, name: row.email },
      effectiveAt: row.completed_at,
      staleAfter: course.frequency === 'annual' ? addDays(row.completed_at, 365) : null,
      content: {
        course: course.code,
        title: course.title,
        email: row.email,
        source: row.source,
        score: row.score,
      },
    })),
  );
  for (const [i, item] of items.entries()) {
    await setCompletionEvidence(trx, ctx.workspaceId, item.row.id, ids[i] ?? null);
    item.row.evidence_id = ids[i] ?? null;
  }
}

export async function recordCompletion(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: CompletionInput,
  options: WriteOptions = {},
) {
  const values = normalizeCompletion(input);
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const result = await recordCompletionIn(trx, ctx, values);
    if (result.created) {
      await completionEvidence(trx, ctx, [result]);
      await audit(trx, ctx, 'training.completed', 'training_course', result.course.id, {
        email: values.email,
      });
    }
    return result.row;
  });
}

export async function assignTraining(
  database: Database,
  actor: Actor,
  workspaceRef: string,
  input: { course?: unknown; email?: unknown; dueAt?: unknown },
  options: WriteOptions = {},
) {
  const courseRef = text('course', input.course, 60);
  const who = email('email', input.email);
  const dueAt = instant('dueAt', input.dueAt);
  return write(database, actor, workspaceRef, options, async (trx, ctx) => {
    const course = (await findCourse(trx, ctx.workspaceId, courseRef)) ?? notFound('course', courseRef, ctx);
    if (dueAt < ctx.now) invalid('dueAt', 'is in the past');
    const row = await insertAssignment(trx, {
      workspace_id: ctx.workspaceId,
      course_id: course.id,
      email: who,
      assigned_at: ctx.now,
      due_at: dueAt,
      assigned_by: ctx.actor.name ?? ctx.actor.id,
      created_at: ctx.now,
    });
    if (!row)
      throw new AssayError(
        'register_record_exists',
        `${who} is already assigned ${course.code} due ${dueAt.toISOString()}`,
      );
    await audit(trx, ctx, 'training.assigned', 'training_course', course.id, {
      email: who,
      dueAt: dueAt.toISOString(),
    });
    return row;
  });
}

/** People employed at `asOf`, as trainees. */
export function trainees(
  people: {
    email: string;
    name: string;
    status: string;
    start_date: Date | string | null;
    end_date: Date | string | null;
    department: string | null;
    title: string | null;
  }[],
  asOf: Date,
): Trainee[] {
  const byEmail = new Map(people.map((p) => [p.email.toLowerCase(), p]));
  return activeWorkforce(people, asOf).map((m) => ({
    ...m,
    department: byEmail.get(m.email)?.department ?? null,
    title: byEmail.get(m.email)?.title ?? null,
  }));
}

export async function trainingStatus(
  database: Database,
  workspaceRef: string,
  options: { asOf?: Date } = {},
) {
  const ctx = await readContext(database, workspaceRef);
  const asOf = options.asOf ?? ctx.now;
  return database.inWorkspace(ctx.workspaceId, async (trx) => {
    const [courses, completions, manual, people] = await Promise.all([
      listCourseRows(trx, ctx.workspaceId),
      listCompletionRows(trx, ctx.workspaceId),
      listAssignmentRows(trx, ctx.workspaceId),
      listWorkforce(trx, ctx.workspaceId),
    ]);
    const assignments = deriveAssignments({
      courses: courses.map(courseView),
      people: trainees(people, asOf),
      completions: completions.map((c) => ({
        courseId: c.course_id,
        email: c.email,
        completedAt: c.completed_at,
        evidenceId: c.evidence_id,
      })),
      manual: manual.map((m) => ({
        courseId: m.course_id,
        email: m.email,
        assignedAt: m.assigned_at,
        dueAt: m.due_at,
      })),
      asOf,
    });
    return { courses, completions, assignments, asOf };
  });
}
