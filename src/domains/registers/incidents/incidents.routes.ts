import { Type } from 'typebox';
import type { App, AppContext } from '../../../http/app.ts';
import { requestActor } from '../../../http/request-actor.ts';
import { WorkspaceParams } from '../../workspaces/workspaces.routes.ts';
import { Body, ControlList, errors, Id, Nullable, Str, StrList, Text, When } from '../shared/http.ts';
import {
  ExerciseSchema,
  FollowUpSchema,
  IncidentSchema,
  PlanSchema,
  presentExercise,
  presentFollowUp,
  presentIncident,
  presentPlan,
} from './incidents.presenter.ts';
import {
  addFollowUp,
  createIncident,
  getIncident,
  getPlan,
  listExercises,
  listFollowUps,
  listIncidents,
  recordExercise,
  setPlan,
  updateExercise,
  updateFollowUp,
  updateIncident,
} from './incidents.service.ts';

const Dated = (key: string) => Type.Array(Type.Object({ at: When, [key]: Str(2000) }), { maxItems: 1000 });
const Severity = Type.Union([
  Type.Literal('low'),
  Type.Literal('medium'),
  Type.Literal('high'),
  Type.Literal('critical'),
]);
const Status = Type.Union([
  Type.Literal('open'),
  Type.Literal('contained'),
  Type.Literal('resolved'),
  Type.Literal('closed'),
]);
const FollowUpStatus = Type.Union([Type.Literal('open'), Type.Literal('done'), Type.Literal('cancelled')]);

const incidentFields = {
  reference: Str(60),
  title: Str(300),
  severity: Severity,
  status: Status,
  detectedAt: When,
  resolvedAt: Nullable(When),
  closedAt: Nullable(When),
  rootCause: Text,
  summary: Text,
  owner: Nullable(Str()),
  controls: ControlList,
  timeline: Dated('entry'),
  notifications: Dated('recipient'),
};
const followUpFields = {
  title: Str(300),
  owner: Nullable(Str()),
  dueAt: When,
  status: FollowUpStatus,
  closedAt: Nullable(When),
  resolution: Text,
};
const exerciseFields = {
  title: Str(300),
  scenario: Text,
  heldAt: When,
  facilitator: Nullable(Str()),
  participants: StrList,
  outcomes: Text,
  testsPlan: Type.Boolean(),
};

const IncidentDetail = Type.Object({ incident: IncidentSchema, followUps: Type.Array(FollowUpSchema) });

export async function incidentRoutes(app: App, { database }: AppContext) {
  const read = { access: { permission: 'evidence:read' as const } };
  const write = { access: { permission: 'evidence:write' as const } };
  const tags = ['registers'];
  const detail = async (workspace: string, ref: string) => {
    const d = await getIncident(database, workspace, ref);
    return { incident: presentIncident(d.incident), followUps: d.followUps.map(presentFollowUp) };
  };

  app.get(
    '/workspaces/:workspace/incidents',
    {
      config: read,
      schema: {
        tags,
        summary: 'The incident log',
        params: WorkspaceParams,
        response: { 200: Type.Object({ incidents: Type.Array(IncidentSchema) }), ...errors },
      },
    },
    async (request) => ({
      incidents: (await listIncidents(database, request.params.workspace)).map(presentIncident),
    }),
  );

  app.post(
    '/workspaces/:workspace/incidents',
    {
      config: write,
      schema: {
        tags,
        summary: 'Report an incident',
        params: WorkspaceParams,
        body: Body(incidentFields),
        response: { 201: IncidentDetail, ...errors },
      },
    },
    async (request, reply) => {
      const row = await createIncident(
        database,
        requestActor(request),
        request.params.workspace,
        request.body,
      );
      return reply.status(201).send(await detail(request.params.workspace, row.id));
    },
  );

  app.get(
    '/workspaces/:workspace/incidents/:incident',
    {
      config: read,
      schema: {
        tags,
        summary: 'One incident (by id or reference) and its follow-up actions',
        params: Type.Object({ workspace: Id, incident: Id }),
        response: { 200: IncidentDetail, ...errors },
      },
    },
    async (request) => detail(request.params.workspace, request.params.incident),
  );

  app.patch(
    '/workspaces/:workspace/incidents/:incident',
    {
      config: write,
      schema: {
        tags,
        summary: 'Update an incident: status, root cause; addTimeline and addNotification append entries',
        params: Type.Object({ workspace: Id, incident: Id }),
        body: Body({ ...incidentFields, addTimeline: Dated('entry'), addNotification: Dated('recipient') }),
        response: { 200: IncidentDetail, ...errors },
      },
    },
    async (request) => {
      const row = await updateIncident(
        database,
        requestActor(request),
        request.params.workspace,
        request.params.incident,
        request.body,
      );
      return detail(request.params.workspace, row.id);
    },
  );

  app.get(
    '/workspaces/:workspace/incident-response-plan',
    {
      config: read,
      schema: {
        tags,
        summary: 'The incident-response plan and when it was last tested',
        params: WorkspaceParams,
        response: { 200: PlanSchema, ...errors },
      },
    },
    async (request) => {
      const { plan, lastTestedAt } = await getPlan(database, request.params.workspace);
      return presentPlan(plan, lastTestedAt);
    },
  );

  app.put(
    '/workspaces/:workspace/incident-response-plan',
    {
      config: write,
      schema: {
        tags,
        summary:
          'Name the plan (and the policy document holding it); testedAt records a test outside a tabletop',
        params: WorkspaceParams,
        body: Body({
          title: Str(),
          policy: Nullable(Str()),
          owner: Nullable(Str()),
          testedAt: When,
          notes: Text,
        }),
        response: { 200: PlanSchema, ...errors },
      },
    },
    async (request) => {
      await setPlan(database, requestActor(request), request.params.workspace, request.body);
      const { plan, lastTestedAt } = await getPlan(database, request.params.workspace);
      return presentPlan(plan, lastTestedAt);
    },
  );

  app.get(
    '/workspaces/:workspace/tabletop-exercises',
    {
      config: read,
      schema: {
        tags,
        summary: 'Tabletop exercises',
        params: WorkspaceParams,
        response: { 200: Type.Object({ exercises: Type.Array(ExerciseSchema) }), ...errors },
      },
    },
    async (request) => ({
      exercises: (await listExercises(database, request.params.workspace)).exercises.map(presentExercise),
    }),
  );

  app.post(
    '/workspaces/:workspace/tabletop-exercises',
    {
      config: write,
      schema: {
        tags,
        summary:
          'Record a tabletop exercise with its follow-up actions (it tests the plan unless testsPlan is false)',
        params: WorkspaceParams,
        body: Body({
          ...exerciseFields,
          followUps: Type.Array(Body({ title: Str(300), owner: Nullable(Str()), dueAt: When }), {
            maxItems: 200,
          }),
        }),
        response: { 201: ExerciseSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentExercise(
            await recordExercise(database, requestActor(request), request.params.workspace, request.body),
          ),
        ),
  );

  app.patch(
    '/workspaces/:workspace/tabletop-exercises/:exercise',
    {
      config: write,
      schema: {
        tags,
        summary: 'Update an exercise (its scenario, participants, outcomes); more followUps may be added',
        params: Type.Object({ workspace: Id, exercise: Id }),
        body: Body({
          ...exerciseFields,
          followUps: Type.Array(Body({ title: Str(300), owner: Nullable(Str()), dueAt: When }), {
            maxItems: 200,
          }),
        }),
        response: { 200: ExerciseSchema, ...errors },
      },
    },
    async (request) =>
      presentExercise(
        await updateExercise(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.exercise,
          request.body,
        ),
      ),
  );

  app.get(
    '/workspaces/:workspace/follow-up-actions',
    {
      config: read,
      schema: {
        tags,
        summary: 'Follow-up actions from exercises and incidents',
        params: WorkspaceParams,
        response: { 200: Type.Object({ actions: Type.Array(FollowUpSchema) }), ...errors },
      },
    },
    async (request) => ({
      actions: (await listFollowUps(database, request.params.workspace)).map(presentFollowUp),
    }),
  );

  app.post(
    '/workspaces/:workspace/follow-up-actions',
    {
      config: write,
      schema: {
        tags,
        summary: 'Add a follow-up action to an exercise (by id or title) or an incident (by id or reference)',
        params: WorkspaceParams,
        body: Body({ ...followUpFields, exercise: Str(300), incident: Str(60) }),
        response: { 201: FollowUpSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentFollowUp(
            await addFollowUp(database, requestActor(request), request.params.workspace, request.body),
          ),
        ),
  );

  app.patch(
    '/workspaces/:workspace/follow-up-actions/:action',
    {
      config: write,
      schema: {
        tags,
        summary: 'Update or close a follow-up action (closing with a resolution is evidence)',
        params: Type.Object({ workspace: Id, action: Id }),
        body: Body(followUpFields),
        response: { 200: FollowUpSchema, ...errors },
      },
    },
    async (request) =>
      presentFollowUp(
        await updateFollowUp(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.action,
          request.body,
        ),
      ),
  );
}
