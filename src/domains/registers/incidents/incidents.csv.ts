/**
 * The CSV form of the incident register: incidents, tabletop exercises and their follow-up actions
 * (see docs/registers.md).
 */
import { type CsvKind, cell, type Input, result } from '../shared/csv.ts';
import { optionalInstant, optionalText } from '../shared/values.ts';
import {
  findExercise,
  findFollowUpByKey,
  findIncident,
  listExerciseRows,
  listFollowUpRows,
  listIncidentRows,
} from './incidents.repository.ts';
import {
  formatDatedLines,
  incidentChecks,
  normalizeExercise,
  normalizeFollowUp,
  normalizeIncident,
  resolveFollowUpSource,
  upsertExerciseIn,
  upsertFollowUpIn,
  upsertIncidentIn,
} from './incidents.service.ts';

export const incidents: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeIncident> }> = {
  kind: 'incidents',
  register: 'incidents',
  description: 'The incident log.',
  checks: incidentChecks,
  columns: [
    { header: 'reference', required: true, description: 'Incident reference (the key).' },
    { header: 'title', required: 'new', description: 'What happened.' },
    { header: 'severity', required: 'new', description: 'low, medium, high or critical.' },
    { header: 'status', description: 'open (default), contained, resolved or closed.' },
    { header: 'detected_at', description: 'When it was detected (default: the import time).' },
    { header: 'resolved_at', description: 'When it was resolved.' },
    { header: 'closed_at', description: 'When it was closed.' },
    { header: 'root_cause', description: 'Required to close a high or critical incident.' },
    { header: 'summary', description: 'Summary and impact.' },
    { header: 'owner', description: 'Incident owner.' },
    { header: 'controls', description: 'Control template ids involved, `;`-separated.' },
    { header: 'timeline', description: 'One `<date-time> <what happened>` per line.' },
    { header: 'notifications', description: 'One `<date-time> <who was notified>` per line.' },
  ],
  async rows(trx, ctx) {
    return (await listIncidentRows(trx, ctx.workspaceId)).map((i) => ({
      reference: i.reference,
      title: i.title,
      severity: i.severity,
      status: i.status,
      detected_at: cell.date(i.detected_at),
      resolved_at: cell.date(i.resolved_at),
      closed_at: cell.date(i.closed_at),
      root_cause: i.root_cause,
      summary: i.summary,
      owner: cell.text(i.owner),
      controls: cell.list(i.control_ids),
      timeline: formatDatedLines(i.timeline, 'entry'),
      notifications: formatDatedLines(i.notifications, 'recipient'),
    }));
  },
  parse: (raw) => ({ raw, values: normalizeIncident(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findIncident(trx, ctx.workspaceId, values.reference!);
    return result(
      await upsertIncidentIn(trx, ctx, existing ? values : normalizeIncident(raw, 'create'), 'upsert'),
    );
  },
};

export const tabletopExercises: CsvKind<{ raw: Input; values: ReturnType<typeof normalizeExercise> }> = {
  kind: 'tabletop-exercises',
  register: 'incidents',
  description: 'Tabletop exercises of the incident-response plan.',
  checks: incidentChecks,
  columns: [
    { header: 'title', required: true, description: 'Exercise title (with held_at, the key).' },
    { header: 'held_at', required: true, description: 'When it was held.' },
    { header: 'scenario', required: 'new', description: 'The scenario played.' },
    { header: 'facilitator', description: 'Who ran it.' },
    { header: 'participants', required: 'new', description: 'Who took part, `;`-separated.' },
    { header: 'outcomes', description: 'What was learned.' },
    { header: 'tests_plan', description: 'true (default): the exercise tests the incident-response plan.' },
  ],
  async rows(trx, ctx) {
    return (await listExerciseRows(trx, ctx.workspaceId)).map((e) => ({
      title: e.title,
      held_at: cell.date(e.held_at),
      scenario: e.scenario,
      facilitator: cell.text(e.facilitator),
      participants: cell.list(e.participants),
      outcomes: e.outcomes,
      tests_plan: cell.bool(e.tests_plan),
    }));
  },
  parse: (raw) => ({ raw, values: normalizeExercise(raw, 'update') }),
  async apply(trx, ctx, { raw, values }) {
    const existing = await findExercise(trx, ctx.workspaceId, values.title!, values.heldAt);
    return result(await upsertExerciseIn(trx, ctx, existing ? values : normalizeExercise(raw, 'create')));
  },
};

export const followUpActions: CsvKind<{
  raw: Input;
  values: ReturnType<typeof normalizeFollowUp>;
  exercise: string | null;
  exerciseHeldAt: Date | null;
  incident: string | null;
}> = {
  kind: 'follow-up-actions',
  register: 'incidents',
  description: 'Follow-up actions from exercises and incidents, tracked to closure.',
  checks: incidentChecks,
  columns: [
    { header: 'exercise', description: 'Title of the exercise it follows from (or give incident).' },
    { header: 'exercise_held_at', description: 'When that exercise was held (needed if the title repeats).' },
    { header: 'incident', description: 'Reference of the incident it follows from.' },
    { header: 'title', required: true, description: 'The action (with its exercise or incident, the key).' },
    { header: 'owner', description: 'Who carries it out.' },
    { header: 'due_at', required: 'new', description: 'When it is due.' },
    { header: 'status', description: 'open (default), done or cancelled.' },
    { header: 'closed_at', description: 'When it was closed.' },
    { header: 'resolution', description: 'How it was closed (required for done).' },
  ],
  async rows(trx, ctx) {
    const exercises = new Map((await listExerciseRows(trx, ctx.workspaceId)).map((e) => [e.id, e]));
    const incidentRefs = new Map(
      (await listIncidentRows(trx, ctx.workspaceId)).map((i) => [i.id, i.reference]),
    );
    return (await listFollowUpRows(trx, ctx.workspaceId)).map((a) => {
      const exercise = a.exercise_id ? exercises.get(a.exercise_id) : undefined;
      return {
        exercise: exercise?.title ?? '',
        exercise_held_at: cell.date(exercise?.held_at),
        incident: a.incident_id ? (incidentRefs.get(a.incident_id) ?? '') : '',
        title: a.title,
        owner: cell.text(a.owner),
        due_at: cell.date(a.due_at),
        status: a.status,
        closed_at: cell.date(a.closed_at),
        resolution: a.resolution,
      };
    });
  },
  parse: (raw) => ({
    raw,
    values: normalizeFollowUp(raw, 'update'),
    exercise: optionalText('exercise', raw.exercise, 300),
    exerciseHeldAt: optionalInstant('exerciseHeldAt', raw.exerciseHeldAt),
    incident: optionalText('incident', raw.incident, 60),
  }),
  async apply(trx, ctx, row) {
    const source = await resolveFollowUpSource(trx, ctx, row);
    const existing = await findFollowUpByKey(trx, ctx.workspaceId, source, row.values.title!);
    return result(
      await upsertFollowUpIn(trx, ctx, source, existing ? row.values : normalizeFollowUp(row.raw, 'create')),
    );
  },
};
