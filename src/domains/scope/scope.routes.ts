import type { Selectable } from 'kysely';
import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import { addSystem, getScope, listScopeSystems, setScope } from './scope.service.ts';
import type { SystemsTable } from './scope.tables.ts';
import { draftSystemDescription } from './system-description.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error'), 409: Type.Ref('Error') };

const SystemSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  environment: Type.String(),
  owner: Type.Union([Type.String(), Type.Null()]),
  dataClassification: Type.String(),
  description: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});

function presentSystem(row: Selectable<SystemsTable>) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    environment: row.environment,
    owner: row.owner,
    dataClassification: row.data_classification,
    description: row.description,
    createdAt: row.created_at.toISOString(),
  };
}

export async function scopeRoutes(app: App, { database }: AppContext) {
  app.put(
    '/workspaces/:workspace/scope',
    {
      config: { access: { permission: 'scope:write' } },
      schema: {
        tags: ['scope'],
        summary: 'Choose the Trust Services Categories in scope (Security is always included)',
        params: WorkspaceParams,
        body: Type.Object(
          { categories: Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 10 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            workspace: Type.String(),
            catalogVersion: Type.String(),
            categories: Type.Array(Type.String()),
            criteria: Type.Integer(),
            controls: Type.Integer(),
            controlsAdded: Type.Array(Type.String()),
            controlsSetAside: Type.Array(Type.String()),
          }),
          ...errors,
        },
      },
    },
    async (request) =>
      setScope(database, requestActor(request), request.params.workspace, request.body.categories),
  );

  app.get(
    '/workspaces/:workspace/scope',
    {
      config: { access: { permission: 'scope:read' } },
      schema: {
        tags: ['scope'],
        summary: 'The scope: categories and in-scope systems',
        params: WorkspaceParams,
        response: {
          200: Type.Object({
            workspace: Type.String(),
            categories: Type.Array(Type.String()),
            catalogVersion: Type.String(),
            systems: Type.Array(SystemSchema),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { workspace, scope, systems } = await getScope(database, request.params.workspace);
      return {
        workspace: workspace.slug,
        categories: scope?.categories ?? [],
        catalogVersion: scope?.catalog_version ?? workspace.catalog_version,
        systems: systems.map(presentSystem),
      };
    },
  );

  app.post(
    '/workspaces/:workspace/systems',
    {
      config: { access: { permission: 'scope:write' } },
      schema: {
        tags: ['scope'],
        summary: 'Register an in-scope system',
        params: WorkspaceParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            kind: Type.Union(
              ['application', 'infrastructure', 'data_store', 'saas', 'endpoint_fleet'].map((k) =>
                Type.Literal(k),
              ),
            ),
            environment: Type.Union(
              ['production', 'staging', 'development', 'corporate'].map((k) => Type.Literal(k)),
            ),
            owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            dataClassification: Type.Union(
              ['public', 'internal', 'confidential', 'restricted'].map((k) => Type.Literal(k)),
            ),
            description: Type.Optional(Type.String({ maxLength: 4000 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: SystemSchema, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body as Parameters<typeof addSystem>[3];
      const row = await addSystem(database, requestActor(request), request.params.workspace, body);
      return reply.status(201).send(presentSystem(row));
    },
  );

  app.get(
    '/workspaces/:workspace/systems',
    {
      config: { access: { permission: 'scope:read' } },
      schema: {
        tags: ['scope'],
        summary: 'In-scope systems',
        params: WorkspaceParams,
        response: { 200: Type.Object({ systems: Type.Array(SystemSchema) }), ...errors },
      },
    },
    async (request) => ({
      systems: (await listScopeSystems(database, request.params.workspace)).map(presentSystem),
    }),
  );

  app.get(
    '/workspaces/:workspace/system-description',
    {
      config: { access: { permission: 'scope:read' } },
      schema: {
        tags: ['scope'],
        summary: 'A system-description draft (markdown) generated from the scope',
        params: WorkspaceParams,
        produces: ['text/markdown'],
        response: { 200: Type.String(), ...errors },
      },
    },
    async (request, reply) => {
      const markdown = await draftSystemDescription(database, request.params.workspace);
      return reply.type('text/markdown; charset=utf-8').send(markdown);
    },
  );
}
