import { Type } from 'typebox';
import type { App, AppContext } from '../../../http/app.ts';
import { requestActor } from '../../../http/request-actor.ts';
import { WorkspaceParams } from '../../workspaces/workspaces.routes.ts';
import { Body, ControlList, DateTime, errors, Id, Nullable, Str, StrList, When } from '../shared/http.ts';
import { presentAssignment } from './assignments.ts';
import type { CompletionRow, CourseRow } from './training.repository.ts';
import {
  assignTraining,
  createCourse,
  recordCompletion,
  trainingStatus,
  updateCourse,
} from './training.service.ts';

const CourseSchema = Type.Object(
  {
    id: Type.String(),
    code: Type.String(),
    title: Type.String(),
    kind: Type.String(),
    frequency: Type.String(),
    dueDays: Type.Integer(),
    audienceDepartments: Type.Array(Type.String()),
    audienceTitles: Type.Array(Type.String()),
    controls: Type.Array(Type.String()),
    active: Type.Boolean(),
    effectiveFrom: DateTime,
  },
  { $id: 'TrainingCourse' },
);
const CompletionSchema = Type.Object(
  {
    id: Type.String(),
    course: Type.String(),
    email: Type.String(),
    completedAt: DateTime,
    source: Type.String(),
    score: Nullable(Type.Integer()),
    evidenceId: Nullable(Type.String()),
  },
  { $id: 'TrainingCompletion' },
);
const AssignmentSchema = Type.Object(
  {
    course: Type.String(),
    email: Type.String(),
    name: Nullable(Type.String()),
    reason: Type.String({ description: 'on_hire, initial, annual, role_specific or manual' }),
    dueAt: DateTime,
    state: Type.String({ description: 'completed, current, due or overdue' }),
    lastCompletedAt: Nullable(DateTime),
  },
  { $id: 'TrainingAssignment' },
);

const courseFields = {
  code: Str(60),
  title: Str(300),
  kind: Type.Union([
    Type.Literal('security_awareness'),
    Type.Literal('role_specific'),
    Type.Literal('other'),
  ]),
  frequency: Type.Union([Type.Literal('once'), Type.Literal('annual')]),
  dueDays: Type.Integer(),
  audienceDepartments: StrList,
  audienceTitles: StrList,
  controls: ControlList,
  active: Type.Boolean(),
  effectiveFrom: When,
};

function presentCourse(c: CourseRow) {
  return {
    id: c.id,
    code: c.code,
    title: c.title,
    kind: c.kind,
    frequency: c.frequency,
    dueDays: c.due_days,
    audienceDepartments: c.audience_departments,
    audienceTitles: c.audience_titles,
    controls: c.control_ids,
    active: c.active,
    effectiveFrom: c.effective_from.toISOString(),
  };
}

function presentCompletion(c: CompletionRow, code: string) {
  return {
    id: c.id,
    course: code,
    email: c.email,
    completedAt: c.completed_at.toISOString(),
    source: c.source,
    score: c.score,
    evidenceId: c.evidence_id,
  };
}

export async function trainingRoutes(app: App, { database }: AppContext) {
  const read = { access: { permission: 'evidence:read' as const } };
  const write = { access: { permission: 'evidence:write' as const } };
  const tags = ['registers'];

  app.get(
    '/workspaces/:workspace/training/courses',
    {
      config: read,
      schema: {
        tags,
        summary: 'Training courses',
        params: WorkspaceParams,
        response: { 200: Type.Object({ courses: Type.Array(CourseSchema) }), ...errors },
      },
    },
    async (request) => ({
      courses: (await trainingStatus(database, request.params.workspace)).courses.map(presentCourse),
    }),
  );

  app.post(
    '/workspaces/:workspace/training/courses',
    {
      config: write,
      schema: {
        tags,
        summary: 'Add a course: its audience (departments, titles) and cadence',
        params: WorkspaceParams,
        body: Body(courseFields),
        response: { 201: CourseSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentCourse(
            await createCourse(database, requestActor(request), request.params.workspace, request.body),
          ),
        ),
  );

  app.patch(
    '/workspaces/:workspace/training/courses/:course',
    {
      config: write,
      schema: {
        tags,
        summary: 'Update a course',
        params: Type.Object({ workspace: Id, course: Id }),
        body: Body(courseFields),
        response: { 200: CourseSchema, ...errors },
      },
    },
    async (request) =>
      presentCourse(
        await updateCourse(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.course,
          request.body,
        ),
      ),
  );

  app.get(
    '/workspaces/:workspace/training/completions',
    {
      config: read,
      schema: {
        tags,
        summary: 'Training completions',
        params: WorkspaceParams,
        response: { 200: Type.Object({ completions: Type.Array(CompletionSchema) }), ...errors },
      },
    },
    async (request) => {
      const { courses, completions } = await trainingStatus(database, request.params.workspace);
      const codes = new Map(courses.map((c) => [c.id, c.code]));
      return { completions: completions.map((c) => presentCompletion(c, codes.get(c.course_id) ?? '')) };
    },
  );

  app.post(
    '/workspaces/:workspace/training/completions',
    {
      config: write,
      schema: {
        tags,
        summary: 'Record a completion (evidence)',
        params: WorkspaceParams,
        body: Type.Object(
          {
            course: Str(60),
            email: Str(254),
            completedAt: Type.Optional(When),
            score: Type.Optional(Nullable(Type.Integer())),
            source: Type.Optional(Type.Union([Type.Literal('recorded'), Type.Literal('imported')])),
          },
          { additionalProperties: false },
        ),
        response: { 201: CompletionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await recordCompletion(
        database,
        requestActor(request),
        request.params.workspace,
        request.body,
      );
      return reply.status(201).send(presentCompletion(row, request.body.course));
    },
  );

  app.get(
    '/workspaces/:workspace/training/assignments',
    {
      config: read,
      schema: {
        tags,
        summary:
          'Who owes which training and by when (from HR: on hire, annual refresh, role-specific; and by hand)',
        params: WorkspaceParams,
        querystring: Type.Object({ state: Type.Optional(Str(20)) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ asOf: DateTime, assignments: Type.Array(AssignmentSchema) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { assignments, asOf } = await trainingStatus(database, request.params.workspace);
      const state = request.query.state;
      return {
        asOf: asOf.toISOString(),
        assignments: assignments.filter((a) => !state || a.state === state).map(presentAssignment),
      };
    },
  );

  app.post(
    '/workspaces/:workspace/training/assignments',
    {
      config: write,
      schema: {
        tags,
        summary: 'Assign a course to someone by hand',
        params: WorkspaceParams,
        body: Type.Object({ course: Str(60), email: Str(254), dueAt: When }, { additionalProperties: false }),
        response: {
          201: Type.Object({
            id: Type.String(),
            course: Type.String(),
            email: Type.String(),
            dueAt: DateTime,
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const row = await assignTraining(
        database,
        requestActor(request),
        request.params.workspace,
        request.body,
      );
      return reply
        .status(201)
        .send({ id: row.id, course: request.body.course, email: row.email, dueAt: row.due_at.toISOString() });
    },
  );
}
