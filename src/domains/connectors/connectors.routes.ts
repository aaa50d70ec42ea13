/**
 * Pull connectors over HTTP: add (credentials in, never out), list, show, pull now, remove.
 * Everything here needs `connectors:manage`: settings name internal hosts, bind DNs and paths.
 */
import { Type } from 'typebox';
import { pullKinds } from '../../connectors/pull.ts';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { openSecretBox } from '../secrets/secrets.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import { ConnectorSchema } from './connectors.presenter.ts';
import {
  addConnector,
  getConnector,
  listConnectors,
  removeConnector,
  runConnector,
} from './connectors.service.ts';

const errors = {
  400: Type.Ref('Error'),
  404: Type.Ref('Error'),
  409: Type.Ref('Error'),
  503: Type.Ref('Error'),
};
const manage = { access: { permission: 'connectors:manage' as const } };

const ConnectorParams = Type.Object({
  workspace: Type.String({ minLength: 1, maxLength: 100 }),
  name: Type.String({ minLength: 1, maxLength: 63 }),
});

const PullSummarySchema = Type.Object({
  workspace: Type.String(),
  connector: Type.String(),
  kind: Type.String(),
  batchId: Type.String(),
  observedAt: Type.String({ format: 'date-time' }),
  recordsRead: Type.Integer(),
  eventsStored: Type.Integer(),
  duplicates: Type.Integer(),
  people: Type.Integer(),
  identities: Type.Integer(),
  entitlementChanges: Type.Integer(),
  rejected: Type.Integer(),
  pulled: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Null()])),
  evaluation: Type.Union([
    Type.Object({ jobId: Type.Integer(), checkIds: Type.Array(Type.String()) }),
    Type.Null(),
  ]),
});

export async function connectorRoutes(app: App, { config, database, secrets }: AppContext) {
  const box = secrets ?? openSecretBox(config);

  app.get(
    '/workspaces/:workspace/connectors',
    {
      config: manage,
      schema: {
        tags: ['connectors'],
        summary: "The workspace's pull connectors with their last pull (credentials are never returned)",
        params: WorkspaceParams,
        response: { 200: Type.Object({ connectors: Type.Array(ConnectorSchema) }), ...errors },
      },
    },
    async (request) => ({ connectors: await listConnectors(database, request.params.workspace) }),
  );

  app.post(
    '/workspaces/:workspace/connectors',
    {
      config: manage,
      schema: {
        tags: ['connectors'],
        summary: `Add a pull connector (kinds: ${pullKinds.join(', ')})`,
        description:
          'LDAP settings: `url` (ldap:// or ldaps://), `bindDn`, `baseDn`, optional `userBaseDn`, `groupBaseDn`, ' +
          '`userFilter`, `groupFilter`, `pageSize`, `timeoutSeconds`; credentials: `password` (sealed at rest, ' +
          'never returned). Git settings: `path` (a repository on the server), optional `branch`, `repository` ' +
          '(org/repo), `since`. See docs/connectors/.',
        params: WorkspaceParams,
        body: Type.Object(
          {
            kind: Type.Union(pullKinds.map((k) => Type.Literal(k))),
            name: Type.String({ minLength: 1, maxLength: 63 }),
            settings: Type.Record(Type.String(), Type.Union([Type.String(), Type.Integer()])),
            credentials: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 4096 }))),
            intervalMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 10_080 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: ConnectorSchema, ...errors },
      },
    },
    async (request, reply) => {
      const connector = await addConnector(
        database,
        box,
        requestActor(request),
        request.params.workspace,
        request.body,
      );
      return reply.status(201).send(connector);
    },
  );

  app.get(
    '/workspaces/:workspace/connectors/:name',
    {
      config: manage,
      schema: {
        tags: ['connectors'],
        summary: 'One connector with its last pull, cursor and error',
        params: ConnectorParams,
        response: { 200: ConnectorSchema, ...errors },
      },
    },
    async (request) => getConnector(database, request.params.workspace, request.params.name),
  );

  app.post(
    '/workspaces/:workspace/connectors/:name/pulls',
    {
      config: manage,
      schema: {
        tags: ['connectors'],
        summary: 'Pull now: read the source and store what changed since the last pull',
        description:
          'Answers when the pull is stored, with what was read (`pulled`) and stored. A source that cannot be ' +
          'read (unreachable directory, refused bind, missing repository) gives 503 and is recorded as the ' +
          "connector's last error; nothing of that pull is stored.",
        params: ConnectorParams,
        response: { 200: PullSummarySchema, ...errors },
      },
    },
    async (request) => {
      const { storedEventIds: _ids, ...summary } = await runConnector(
        database,
        box,
        requestActor(request),
        request.params.workspace,
        request.params.name,
      );
      return summary;
    },
  );

  app.delete(
    '/workspaces/:workspace/connectors/:name',
    {
      config: manage,
      schema: {
        tags: ['connectors'],
        summary: 'Remove a connector and its sealed credentials (what it pulled stays)',
        params: ConnectorParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await removeConnector(database, requestActor(request), request.params.workspace, request.params.name);
      return reply.status(204).send(null);
    },
  );
}
