import { Type } from 'typebox';
import { AssayError } from '../../errors.ts';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { hasPlatformAuthority, visibleWorkspaces } from '../accounts/caller.ts';
import { presentWorkspace, WorkspaceSchema } from './workspaces.presenter.ts';
import { createWorkspace, getWorkspace, listAllWorkspaces } from './workspaces.service.ts';

export const WorkspaceParams = Type.Object({ workspace: Type.String({ minLength: 1, maxLength: 100 }) });
const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error'), 409: Type.Ref('Error') };

export async function workspaceRoutes(app: App, { database }: AppContext) {
  app.post(
    '/workspaces',
    {
      config: { access: { permission: 'workspaces:create' } },
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
      config: { access: 'authenticated' },
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
      // Only the workspaces the caller may see; an MSP they cannot see lists as unknown.
      const visible = await visibleWorkspaces(database, request.caller!);
      const ids = new Set(visible.map((w) => w.id));
      const parent = request.query.parent;
      if (parent !== undefined && !hasPlatformAuthority(request.caller)) {
        if (!visible.some((w) => w.slug === parent || w.id === parent.toLowerCase())) {
          throw new AssayError('workspace_not_found', `workspace "${parent}" does not exist`);
        }
      }
      const rows = await listAllWorkspaces(database, { parent });
      return { workspaces: rows.filter((w) => ids.has(w.id)).map(presentWorkspace) };
    },
  );

  app.get(
    '/workspaces/:workspace',
    {
      config: { access: { permission: 'workspace:read' } },
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
