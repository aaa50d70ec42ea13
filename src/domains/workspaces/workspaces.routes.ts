import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { presentWorkspace, WorkspaceSchema } from './workspaces.presenter.ts';
import { createWorkspace, getWorkspace, listAllWorkspaces } from './workspaces.service.ts';

export const WorkspaceParams = Type.Object({ workspace: Type.String({ minLength: 1, maxLength: 100 }) });
const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error'), 409: Type.Ref('Error') };

export async function workspaceRoutes(app: App, { database }: AppContext) {
  app.post(
    '/workspaces',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Create a workspace (a client of an MSP when parent is given)',
        body: Type.Object(
          {
            slug: Type.String({ minLength: 1, maxLength: 63 }),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            kind: Type.Optional(Type.Union([Type.Literal('company'), Type.Literal('msp')])),
            parent: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: WorkspaceSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await createWorkspace(database, requestActor(request), request.body);
      return reply.status(201).send(presentWorkspace(row));
    },
  );

  app.get(
    '/workspaces',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'List workspaces (the clients of one MSP with ?parent=)',
        querystring: Type.Object(
          { parent: Type.Optional(Type.String({ minLength: 1 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ workspaces: Type.Array(WorkspaceSchema) }), ...errors },
      },
    },
    async (request) => {
      const rows = await listAllWorkspaces(database, { parent: request.query.parent });
      return { workspaces: rows.map(presentWorkspace) };
    },
  );

  app.get(
    '/workspaces/:workspace',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'One workspace by slug or id',
        params: WorkspaceParams,
        response: { 200: WorkspaceSchema, ...errors },
      },
    },
    async (request) => presentWorkspace(await getWorkspace(database, request.params.workspace)),
  );
}
