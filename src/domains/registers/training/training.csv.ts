/** The CSV form of the training register: courses and completions (see docs/registers.md). */
import { type CsvKind, cell, type Input, result } from '../shared/csv.ts';
import { invalid } from '../shared/values.ts';
import type { CompletionRow, CourseRow } from './training.repository.ts';
import { findCourse, listCompletionRows, listCourseRows } from './training.repository.ts';
import {
  completionEvidence,
  normalizeCompletion,
  normalizeCourse,
  recordCompletionIn,
  trainingChecks,
  upsertCourseIn,
} from './training.service.ts';

export const trainingCourses: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeCourse> }> = {
  kind: 'training-courses',
  register: 'training',
  description: 'Training courses, their audience and cadence.',
  checks: trainingChecks,
  columns: [
    { header: 'code', required: true, description: 'Course code (the key).' },
    { header: 'title', required: 'new', description: 'Course title.' },
    { header: 'kind', required: 'new', description: 'security_awareness, role_specific or other.' },
    { header: 'frequency', required: 'new', description: 'once or annual.' },
    {
      header: 'due_days',
      description: 'Days to complete after hire (or after the course starts) (default 30).',
    },
    {
      header: 'audience_departments',
      description: 'Departments that must take it, `;`-separated (empty: everyone).',
    },
    { header: 'audience_titles', description: 'Job titles (substrings) that must take it, `;`-separated.' },
    { header: 'controls', description: 'Further control template ids it serves, `;`-separated.' },
    { header: 'active', description: 'true (default) or false.' },
    { header: 'effective_from', description: 'When the course started to apply (default: the import time).' },
  ],
  async rows(trx, ctx) {
    return (await listCourseRows(trx, ctx.workspaceId)).map((c) => ({
      code: c.code,
      title: c.title,
      kind: c.kind,
      frequency: c.frequency,
      due_days: cell.int(c.due_days),
      audience_departments: cell.list(c.audience_departments),
      audience_titles: cell.list(c.audience_titles),
      controls: cell.list(c.control_ids),
      active: cell.bool(c.active),
      effective_from: cell.date(c.effective_from),
    }));
  },
  parse: (raw) => ({ raw, values: normalizeCourse(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findCourse(trx, ctx.workspaceId, values.code!);
    return result(
      await upsertCourseIn(trx, ctx, existing ? values : normalizeCourse(raw, 'create'), 'upsert'),
    );
  },
};

type CompletionBatch = { row: CompletionRow; course: CourseRow }[];

export const trainingCompletions: CsvKind<ReturnType<typeof normalizeCompletion>> = {
  kind: 'training-completions',
  register: 'training',
  description: 'Training completions, recorded or exported from a training platform.',
  checks: trainingChecks,
  columns: [
    { header: 'course', required: true, description: 'Course code.' },
    { header: 'email', required: true, description: "The person's email." },
    { header: 'completed_at', required: true, description: 'When they completed it.' },
    { header: 'source', description: 'recorded or imported (default imported).' },
    { header: 'score', description: '0–100, if the platform scores.' },
  ],
  async rows(trx, ctx) {
    const codes = new Map((await listCourseRows(trx, ctx.workspaceId)).map((c) => [c.id, c.code]));
    return (await listCompletionRows(trx, ctx.workspaceId)).map((c) => ({
      course: codes.get(c.course_id) ?? '',
      email: c.email,
      completed_at: cell.date(c.completed_at),
      source: c.source,
      score: cell.int(c.score),
    }));
  },
  parse: (raw) => {
    if (raw.completedAt === undefined) invalid('completedAt', 'is required');
    return normalizeCompletion(raw, 'imported');
  },
  async apply(trx, ctx, values, batch) {
    let courses = batch.get('courses') as Map<string, CourseRow> | undefined;
    if (!courses) {
      courses = new Map((await listCourseRows(trx, ctx.workspaceId)).map((c) => [c.code.toLowerCase(), c]));
      batch.set('courses', courses);
    }
    const done = await recordCompletionIn(trx, ctx, values, courses);
    if (!done.created) return 'unchanged';
    const pending = (batch.get('completions') as CompletionBatch | undefined) ?? [];
    pending.push(done);
    batch.set('completions', pending);
    return 'created';
  },
  async finish(trx, ctx, batch) {
    const pending = (batch.get('completions') as CompletionBatch | undefined) ?? [];
    for (let i = 0; i < pending.length; i += 5000)
      await completionEvidence(trx, ctx, pending.slice(i, i + 5000));
  },
};
