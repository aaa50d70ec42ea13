/** Who may work in a workspace: members and their roles, API tokens, single sign-on, the sign-in
 * policy, and the audit trail of changes. */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AssayError } from '../../errors.ts';
import type { App, AppContext } from '../../http/app.ts';
import { requestActor } from '../../http/request-actor.ts';
import { roles, workspacePermissions } from '../access/permissions.ts';
import { listAuditEntries } from '../audit/audit.repository.ts';
import { openSecretBox } from '../secrets/secrets.ts';
import { listWorkspaces } from '../workspaces/workspaces.repository.ts';
import { getWorkspace } from '../workspaces/workspaces.service.ts';
import { addMember, listWorkspaceMembers, presentMember, removeMember } from './memberships.service.ts';
import {
  getSsoConnection,
  jitRoles,
  presentSsoConnection,
  removeSsoConnection,
  setSsoConnection,
} from './oidc.service.ts';
import { getSecurityPolicy, setSecurityPolicy } from './security-policy.service.ts';
import {
  createApiToken,
  defaultTokenLifetimeDays,
  listApiTokens,
  maxTokenLifetimeDays,
  presentToken,
  revokeApiToken,
} from './tokens.service.ts';

const errors = {
  400: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  409: Type.Ref('Error'),
};
const WorkspaceParams = Type.Object({ workspace: Type.String({ minLength: 1, maxLength: 100 }) });
const RoleSchema = Type.Union(roles.map((r) => Type.Literal(r)));
const PermissionSchema = Type.Union(workspacePermissions.map((p) => Type.Literal(p)));
const DateSchema = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

const MemberSchema = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  email: Type.String(),
  displayName: Type.String(),
  role: Type.String(),
  clients: Type.Array(Type.String()),
  auditPeriod: Type.Union([Type.Object({ start: Type.String(), end: Type.String() }), Type.Null()]),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

const TokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  permissions: Type.Array(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  status: Type.String(),
});

const SsoSchema = Type.Object({
  issuer: Type.String(),
  clientId: Type.String(),
  clientSecretSet: Type.Boolean(),
  jitRole: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
});

/** Only an owner (or a platform admin) grants or removes the owner role. */
function mayManageOwners(request: FastifyRequest): boolean {
  return request.grant?.platformAdmin === true || request.grant?.roles.includes('owner') === true;
}

async function slugMap(context: AppContext) {
  return new Map((await listWorkspaces(context.database.db)).map((w) => [w.id, w.slug]));
}

export async function workspaceAccessRoutes(app: App, context: AppContext) {
  const { database } = context;
  const secrets = context.secrets ?? openSecretBox(context.config);

  app.get(
    '/workspaces/:workspace/members',
    {
      config: { access: { permission: 'members:read' } },
      schema: {
        tags: ['access'],
        summary: 'Members of the workspace and their roles',
        params: WorkspaceParams,
        response: { 200: Type.Object({ members: Type.Array(MemberSchema) }), ...errors },
      },
    },
    async (request) => {
      const { rows } = await listWorkspaceMembers(database, request.params.workspace);
      const slugs = await slugMap(context);
      return { members: rows.map((r) => presentMember(r, slugs)) };
    },
  );

  app.post(
    '/workspaces/:workspace/members',
    {
      config: { access: { permission: 'members:manage' } },
      schema: {
        tags: ['access'],
        summary: 'Add a member or change their role (a person new to Assay is created without a password)',
        params: WorkspaceParams,
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 254 }),
            role: RoleSchema,
            clients: Type.Optional(
              Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 500 }),
            ),
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
            auditPeriod: Type.Optional(
              Type.Object({ start: DateSchema, end: DateSchema }, { additionalProperties: false }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: MemberSchema, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await addMember(
        database,
        { actor: requestActor(request), mayManageOwners: mayManageOwners(request) },
        request.params.workspace,
        {
          email: body.email,
          role: body.role,
          clients: body.clients,
          expiresAt: body.expiresAt === undefined ? null : new Date(body.expiresAt),
          auditPeriod: body.auditPeriod,
        },
      );
      const { rows } = await listWorkspaceMembers(database, result.workspace.id);
      const row = rows.find((r) => r.id === result.membership.id)!;
      return reply.status(201).send(presentMember(row, await slugMap(context)));
    },
  );

  app.delete(
    '/workspaces/:workspace/members/:member',
    {
      config: { access: { permission: 'members:manage' } },
      schema: {
        tags: ['access'],
        summary: 'Remove a member (by membership id or email); API tokens they created here are revoked',
        params: Type.Object({
          workspace: Type.String({ minLength: 1, maxLength: 100 }),
          member: Type.String({ minLength: 1, maxLength: 254 }),
        }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await removeMember(
        database,
        { actor: requestActor(request), mayManageOwners: mayManageOwners(request) },
        request.params.workspace,
        request.params.member,
      );
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/workspaces/:workspace/tokens',
    {
      config: { access: { permission: 'tokens:read' } },
      schema: {
        tags: ['access'],
        summary: "The workspace's API tokens (never their secrets), with last use",
        params: WorkspaceParams,
        response: { 200: Type.Object({ tokens: Type.Array(TokenSchema) }), ...errors },
      },
    },
    async (request) => ({
      tokens: (await listApiTokens(database, request.params.workspace)).map(presentToken),
    }),
  );

  app.post(
    '/workspaces/:workspace/tokens',
    {
      config: { access: { permission: 'tokens:manage' } },
      schema: {
        tags: ['access'],
        summary: 'Create an API token for this workspace; the secret is in this answer only',
        params: WorkspaceParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            permissions: Type.Array(PermissionSchema, { minItems: 1, maxItems: workspacePermissions.length }),
            expiresInDays: Type.Optional(
              Type.Integer({ minimum: 1, maximum: maxTokenLifetimeDays, default: defaultTokenLifetimeDays }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ token: TokenSchema, secret: Type.String() }), ...errors },
      },
    },
    async (request, reply) => {
      const caller = request.caller;
      if (caller?.kind !== 'user') {
        throw new AssayError('forbidden', 'API tokens cannot create API tokens: a person must');
      }
      const days = request.body.expiresInDays ?? defaultTokenLifetimeDays;
      const { row, secret } = await createApiToken(
        database,
        {
          actor: requestActor(request),
          userId: caller.userId,
          grantable: request.grant?.permissions ?? new Set(),
        },
        request.params.workspace,
        {
          name: request.body.name,
          permissions: request.body.permissions,
          expiresAt: new Date(Date.now() + days * 86_400_000),
        },
      );
      return reply.status(201).send({ token: presentToken(row), secret });
    },
  );

  app.delete(
    '/workspaces/:workspace/tokens/:token',
    {
      config: { access: { permission: 'tokens:manage' } },
      schema: {
        tags: ['access'],
        summary: 'Revoke an API token',
        params: Type.Object({
          workspace: Type.String({ minLength: 1, maxLength: 100 }),
          token: Type.String({ minLength: 1, maxLength: 100 }),
        }),
        response: { 200: TokenSchema, ...errors },
      },
    },
    async (request) =>
      presentToken(
        await revokeApiToken(database, requestActor(request), request.params.workspace, request.params.token),
      ),
  );

  app.get(
    '/workspaces/:workspace/sso',
    {
      config: { access: { permission: 'security:manage' } },
      schema: {
        tags: ['access'],
        summary: 'Single sign-on settings (the client secret is never returned)',
        params: WorkspaceParams,
        response: { 200: SsoSchema, ...errors },
      },
    },
    async (request) => presentSsoConnection(await getSsoConnection(database, request.params.workspace)),
  );

  app.put(
    '/workspaces/:workspace/sso',
    {
      config: { access: { permission: 'security:manage' } },
      schema: {
        tags: ['access'],
        summary: 'Set up single sign-on with an OpenID Connect provider',
        params: WorkspaceParams,
        body: Type.Object(
          {
            issuer: Type.String({ minLength: 8, maxLength: 500 }),
            clientId: Type.String({ minLength: 1, maxLength: 500 }),
            clientSecret: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
            jitRole: Type.Optional(Type.Union([...jitRoles.map((r) => Type.Literal(r)), Type.Null()])),
          },
          { additionalProperties: false },
        ),
        response: { 200: SsoSchema, ...errors },
      },
    },
    async (request) =>
      presentSsoConnection(
        await setSsoConnection(
          database,
          secrets,
          requestActor(request),
          request.params.workspace,
          request.body,
        ),
      ),
  );

  app.delete(
    '/workspaces/:workspace/sso',
    {
      config: { access: { permission: 'security:manage' } },
      schema: {
        tags: ['access'],
        summary: 'Turn single sign-on off',
        params: WorkspaceParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await removeSsoConnection(database, requestActor(request), request.params.workspace);
      return reply.status(204).send(null);
    },
  );

  const PolicySchema = Type.Object({ workspace: Type.String(), requireMfa: Type.Boolean() });

  app.get(
    '/workspaces/:workspace/security-policy',
    {
      config: { access: { permission: 'security:manage' } },
      schema: {
        tags: ['access'],
        summary: "The workspace's sign-in policy",
        params: WorkspaceParams,
        response: { 200: PolicySchema, ...errors },
      },
    },
    async (request) => getSecurityPolicy(database, request.params.workspace),
  );

  app.put(
    '/workspaces/:workspace/security-policy',
    {
      config: { access: { permission: 'security:manage' } },
      schema: {
        tags: ['access'],
        summary: 'Require a second factor of every member (owners and admins always need one)',
        params: WorkspaceParams,
        body: Type.Object({ requireMfa: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: PolicySchema, ...errors },
      },
    },
    async (request) =>
      setSecurityPolicy(database, requestActor(request), request.params.workspace, request.body),
  );

  app.get(
    '/workspaces/:workspace/audit-trail',
    {
      config: { access: { permission: 'audit_trail:read' } },
      schema: {
        tags: ['access'],
        summary: 'Recent changes in the workspace, newest first, each attributed to a person or token',
        params: WorkspaceParams,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            entries: Type.Array(
              Type.Object({
                at: Type.String({ format: 'date-time' }),
                actor: Type.Object({ type: Type.String(), id: Type.String() }),
                action: Type.String(),
                targetType: Type.String(),
                targetId: Type.String(),
                details: Type.Record(Type.String(), Type.Unknown()),
                evidenceId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
                  description: 'the ledger evidence that seals this entry (null until it is sealed)',
                }),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const workspace = await getWorkspace(database, request.params.workspace);
      const rows = await database.inWorkspace(workspace.id, (trx) =>
        listAuditEntries(trx, workspace.id, request.query.limit ?? 100),
      );
      return {
        entries: rows.map((r) => ({
          at: r.at.toISOString(),
          actor: { type: r.actor_type, id: r.actor_id },
          action: r.action,
          targetType: r.target_type,
          targetId: r.target_id,
          details: r.details,
          evidenceId: r.evidence_id,
        })),
      };
    },
  );
}
