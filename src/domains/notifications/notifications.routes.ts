import { Type } from 'typebox';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { openSecretBox } from '../secrets/secrets.ts';
import { WorkspaceParams } from '../workspaces/workspaces.routes.ts';
import {
  channelKinds,
  createChannel,
  listChannels,
  recentDeliveries,
  removeChannel,
  severities,
  testChannel,
} from './channels.service.ts';
import { notificationKinds } from './messages.ts';

const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error'), 409: Type.Ref('Error') };
// Channels are outbound integrations: managing (and seeing) them is for those who manage connectors.
const manage = { access: { permission: 'connectors:manage' as const } };

const ChannelSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  target: Type.String(),
  events: Type.Array(Type.String()),
  minSeverity: Type.String(),
  digestSeconds: Type.Integer(),
  enabled: Type.Boolean(),
  hasSecret: Type.Boolean(),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});

const ChannelParams = Type.Object({
  workspace: Type.String({ minLength: 1, maxLength: 100 }),
  channel: Type.String({ minLength: 1, maxLength: 100 }),
});

export async function notificationRoutes(app: App, { config, database, secrets }: AppContext) {
  const box = secrets ?? openSecretBox(config);
  const deps = { database, secrets: box, mail: config };

  app.get(
    '/workspaces/:workspace/notification-channels',
    {
      config: manage,
      schema: {
        tags: ['notifications'],
        summary: "The workspace's notification channels (secrets are never returned)",
        params: WorkspaceParams,
        response: { 200: Type.Object({ channels: Type.Array(ChannelSchema) }), ...errors },
      },
    },
    async (request) => ({ channels: await listChannels(database, request.params.workspace) }),
  );

  app.post(
    '/workspaces/:workspace/notification-channels',
    {
      config: manage,
      schema: {
        tags: ['notifications'],
        summary: 'Add a channel: email recipients, a signed webhook, or a Slack-compatible incoming webhook',
        description:
          'Webhook deliveries carry `X-Assay-Timestamp` and `X-Assay-Signature: sha256=<hex HMAC-SHA256 of ' +
          '"<timestamp>.<body>" with the channel secret>`. Notifications within `digestSeconds` (default ' +
          '15 minutes) go out as one message; critical ones at once.',
        params: WorkspaceParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            kind: Type.Union(channelKinds.map((k) => Type.Literal(k))),
            to: Type.Optional(Type.Array(Type.String({ maxLength: 254 }), { minItems: 1, maxItems: 50 })),
            url: Type.Optional(Type.String({ maxLength: 2000 })),
            secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
            events: Type.Optional(
              Type.Array(Type.Union(notificationKinds.map((k) => Type.Literal(k))), {
                minItems: 1,
                maxItems: 10,
              }),
            ),
            minSeverity: Type.Optional(Type.Union(severities.map((s) => Type.Literal(s)))),
            digestSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: ChannelSchema, ...errors },
      },
    },
    async (request, reply) => {
      const channel = await createChannel(
        database,
        box.encrypt,
        requestActor(request),
        request.params.workspace,
        request.body,
        { digestSeconds: config.notificationDigestSeconds },
      );
      return reply.status(201).send(channel);
    },
  );

  app.delete(
    '/workspaces/:workspace/notification-channels/:channel',
    {
      config: manage,
      schema: {
        tags: ['notifications'],
        summary: 'Remove a channel (by id or name); its undelivered notifications go with it',
        params: ChannelParams,
        response: { 200: ChannelSchema, ...errors },
      },
    },
    async (request) =>
      removeChannel(database, requestActor(request), request.params.workspace, request.params.channel),
  );

  app.post(
    '/workspaces/:workspace/notification-channels/:channel/test',
    {
      config: manage,
      schema: {
        tags: ['notifications'],
        summary: 'Send a test message through the channel now: whether it arrived, and if not why',
        params: ChannelParams,
        response: {
          200: Type.Object({
            channel: ChannelSchema,
            delivered: Type.Boolean(),
            error: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) =>
      testChannel(deps, requestActor(request), request.params.workspace, request.params.channel),
  );

  app.get(
    '/workspaces/:workspace/notification-deliveries',
    {
      config: manage,
      schema: {
        tags: ['notifications'],
        summary: 'Recent deliveries with their status (pending, sent, failed and why)',
        params: WorkspaceParams,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            deliveries: Type.Array(
              Type.Object({
                id: Type.Integer(),
                channelId: Type.String(),
                status: Type.String(),
                attempts: Type.Integer(),
                lastError: Type.Union([Type.String(), Type.Null()]),
                sentAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
                event: Type.Object({
                  kind: Type.String(),
                  severity: Type.String(),
                  title: Type.String(),
                  occurredAt: Type.String({ format: 'date-time' }),
                }),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => ({
      deliveries: await recentDeliveries(database, request.params.workspace, request.query.limit ?? 50),
    }),
  );
}
