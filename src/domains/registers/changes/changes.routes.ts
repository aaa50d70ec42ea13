import { Type } from 'typebox';
import type { App, AppContext } from '../../../http/app.ts';
import { requestActor } from '../../../http/request-actor.ts';
import { WorkspaceParams } from '../../workspaces/workspaces.routes.ts';
import { Body, DateTime, errors, Id, Nullable, Str, Text, When } from '../shared/http.ts';
import type { ChangeRow } from './changes.repository.ts';
import {
  changeContent,
  changePicture,
  getChange,
  listChanges,
  recordChange,
  updateChange,
} from './changes.service.ts';
import { violations } from './segregation.ts';

const ChangeSchema = Type.Object(
  {
    id: Type.String(),
    ticket: Type.String(),
    title: Type.String(),
    description: Type.String(),
    system: Type.String(),
    emergency: Type.Boolean(),
    author: Type.String(),
    approver: Nullable(Type.String()),
    approvedAt: Nullable(DateTime),
    tester: Nullable(Type.String()),
    testedAt: Nullable(DateTime),
    implementedAt: Nullable(DateTime),
    status: Type.String(),
    segregationOfDuties: Type.Array(Type.String(), { description: 'problems found, empty when none' }),
    evidenceId: Nullable(Type.String()),
  },
  { $id: 'ChangeRecord' },
);

const changeFields = {
  ticket: Str(100),
  title: Str(300),
  description: Text,
  system: Str(),
  emergency: Type.Boolean(),
  author: Str(),
  approver: Nullable(Str()),
  approvedAt: Nullable(When),
  tester: Nullable(Str()),
  testedAt: Nullable(When),
  implementedAt: Nullable(When),
  status: Type.Union([
    Type.Literal('planned'),
    Type.Literal('approved'),
    Type.Literal('implemented'),
    Type.Literal('rolled_back'),
    Type.Literal('cancelled'),
  ]),
};

function present(row: ChangeRow) {
  return {
    id: row.id,
    ...changeContent(row),
    segregationOfDuties: violations(row, new Date(), { emergencyApprovalDays: 5 }).map((v) => v.reason),
    evidenceId: row.evidence_id,
  };
}

export async function changeRoutes(app: App, { database }: AppContext) {
  const read = { access: { permission: 'evidence:read' as const } };
  const write = { access: { permission: 'evidence:write' as const } };
  const tags = ['registers'];

  app.get(
    '/workspaces/:workspace/changes',
    {
      config: read,
      schema: {
        tags,
        summary: 'Manual change records',
        params: WorkspaceParams,
        response: { 200: Type.Object({ changes: Type.Array(ChangeSchema) }), ...errors },
      },
    },
    async (request) => ({ changes: (await listChanges(database, request.params.workspace)).map(present) }),
  );

  app.post(
    '/workspaces/:workspace/changes',
    {
      config: write,
      schema: {
        tags,
        summary: 'Record a manual change (an emergency may be approved afterwards)',
        params: WorkspaceParams,
        body: Body(changeFields),
        response: { 201: ChangeSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          present(
            await recordChange(database, requestActor(request), request.params.workspace, request.body),
          ),
        ),
  );

  app.get(
    '/workspaces/:workspace/changes/:change',
    {
      config: read,
      schema: {
        tags,
        summary: 'One change (by id or ticket)',
        params: Type.Object({ workspace: Id, change: Id }),
        response: { 200: ChangeSchema, ...errors },
      },
    },
    async (request) => present(await getChange(database, request.params.workspace, request.params.change)),
  );

  app.patch(
    '/workspaces/:workspace/changes/:change',
    {
      config: write,
      schema: {
        tags,
        summary: 'Update a change: approve it, record its test and implementation',
        params: Type.Object({ workspace: Id, change: Id }),
        body: Body(changeFields),
        response: { 200: ChangeSchema, ...errors },
      },
    },
    async (request) =>
      present(
        await updateChange(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.change,
          request.body,
        ),
      ),
  );

  app.get(
    '/workspaces/:workspace/change-picture',
    {
      config: read,
      schema: {
        tags,
        summary:
          'CC8.1 over a window (default the last 90 days): manual changes and merged code changes, with approvals and segregation of duties',
        params: WorkspaceParams,
        querystring: Type.Object(
          { from: Type.Optional(When), to: Type.Optional(When) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            workspace: Type.String(),
            from: DateTime,
            to: DateTime,
            summary: Type.Object({
              manualChanges: Type.Integer(),
              manualEmergency: Type.Integer(),
              manualWithSegregationIssues: Type.Integer(),
              codeChanges: Type.Integer(),
              codeIndependentlyApproved: Type.Integer(),
            }),
            manual: Type.Array(Type.Unknown()),
            code: Type.Array(Type.Unknown()),
          }),
          ...errors,
        },
      },
    },
    async (request) => changePicture(database, request.params.workspace, request.query),
  );
}
