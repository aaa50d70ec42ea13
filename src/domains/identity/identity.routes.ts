import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import { IdentitySchema, PersonSchema, presentIdentity, presentPerson } from './identity.presenter.ts';
import { listWorkspaceIdentities, listWorkspacePeople, updateWorkspaceIdentity } from './identity.service.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error') };
const OptionalText = Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 500 }), Type.Null()]));

export async function identityRoutes(app: App, { database }: AppContext) {
  app.get(
    '/workspaces/:workspace/people',
    {
      config: { access: { permission: 'identities:read' } },
      schema: {
        tags: ['identity'],
        summary: 'People from HR',
        params: WorkspaceParams,
        response: { 200: Type.Object({ people: Type.Array(PersonSchema) }), ...errors },
      },
    },
    async (request) => ({
      people: (await listWorkspacePeople(database, request.params.workspace)).map(presentPerson),
    }),
  );

  app.get(
    '/workspaces/:workspace/identities',
    {
      config: { access: { permission: 'identities:read' } },
      schema: {
        tags: ['identity'],
        summary: 'Accounts in every system, with the person each belongs to',
        params: WorkspaceParams,
        querystring: Type.Object(
          { system: Type.Optional(Type.String({ minLength: 1 })), unlinked: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ identities: Type.Array(IdentitySchema) }), ...errors },
      },
    },
    async (request) => ({
      identities: (await listWorkspaceIdentities(database, request.params.workspace, request.query)).map(
        presentIdentity,
      ),
    }),
  );

  app.patch(
    '/workspaces/:workspace/identities/:identity',
    {
      config: { access: { permission: 'identities:write' } },
      schema: {
        tags: ['identity'],
        summary: 'Link an account to a person by hand, or declare it non-human with an owner and purpose',
        params: Type.Object({
          workspace: Type.String({ minLength: 1, maxLength: 100 }),
          identity: Type.String({ minLength: 1, maxLength: 100 }),
        }),
        body: Type.Object(
          {
            person: Type.Optional(Type.Union([Type.String({ minLength: 3, maxLength: 320 }), Type.Null()])),
            nonHuman: Type.Optional(Type.Boolean()),
            owner: OptionalText,
            purpose: OptionalText,
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: IdentitySchema, ...errors },
      },
    },
    async (request) =>
      presentIdentity(
        await updateWorkspaceIdentity(
          database,
          requestActor(request),
          request.params.workspace,
          request.params.identity,
          request.body,
        ),
      ),
  );
}
