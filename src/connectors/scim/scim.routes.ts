/**
 * The SCIM 2.0 service provider as a Fastify plugin, mounted at `/scim/v2`:
 *
 *   /scim/v2/:workspace/Users[/:id]      GET (list, filter, paginate), POST, GET, PUT, PATCH, DELETE
 *   /scim/v2/:workspace/Groups[/:id]     the same for groups
 *   /scim/v2/:workspace/ServiceProviderConfig, /ResourceTypes[/:id], /Schemas[/:id]
 *
 * The workspace is in the path (the base URL an identity provider is given is per workspace)
 * and every request must carry that workspace's SCIM token as `Authorization: Bearer …`. An
 * unknown workspace and a wrong token get the same 401, so slugs cannot be probed.
 *
 * Access: these routes are `public` to the session/API-token layer (src/http/access.ts), because
 * identity providers hold no Assay session or API token: this plugin authenticates them with
 * their own SCIM token before anything is read or written. The plugin has its own body parser
 * (`application/scim+json`, or any JSON), its own error format (RFC 7644 §3.12) and its own
 * not-found answer, so nothing here leaks into or depends on the JSON API's conventions.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Trx } from '../../db/database.ts';
import { hashSecret } from '../../domains/accounts/credentials.ts';
import { findWorkspaceBySlugOrId } from '../../domains/workspaces/workspaces.repository.ts';
import { errorCodes, isAssayError } from '../../errors.ts';
import type { AppContext } from '../../http/app.ts';
import { wakeWorkers } from '../../jobs/queue.ts';
import { badRequest, isScimError, notFound, ScimError } from './scim.errors.ts';
import { redactPasswords, type WriteContext } from './scim.facts.ts';
import { findActiveToken, findTokenById, touchToken } from './scim.repository.ts';
import { resourceTypes, schemas, serviceProviderConfig } from './scim.schemas.ts';
import * as scim from './scim.service.ts';

export const scimContentType = 'application/scim+json; charset=utf-8';
const bodyLimit = 5 * 1024 * 1024;

type Params = { workspace: string; id?: string };

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function queryOf(request: FastifyRequest): scim.ListQuery {
  const raw = (request.query ?? {}) as Record<string, unknown>;
  const pick = (name: string) => {
    const key = Object.keys(raw).find((k) => k.toLowerCase() === name.toLowerCase());
    const value = key === undefined ? undefined : raw[key];
    const first = Array.isArray(value) ? value[0] : value;
    return typeof first === 'string' ? first : undefined;
  };
  return {
    filter: pick('filter'),
    startIndex: pick('startIndex'),
    count: pick('count'),
    attributes: pick('attributes'),
    excludedAttributes: pick('excludedAttributes'),
  };
}

const unauthorized = () =>
  new ScimError(
    401,
    'a valid SCIM bearer token for this workspace is required (Authorization: Bearer <token>)',
  );

function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]{1,512})$/i.exec(header(request, 'authorization') ?? '');
  return match?.[1];
}

function baseUrl(request: FastifyRequest, slug: string): string {
  const forwarded = header(request, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const protocol = forwarded === 'https' ? 'https' : request.protocol;
  return `${protocol}://${request.host}/scim/v2/${slug}`;
}

/** A SCIM answer for any failure: ours, Assay's, the database's or Fastify's. */
export function toScimError(error: unknown): ScimError {
  if (isScimError(error)) return error;
  if (isAssayError(error)) {
    switch (errorCodes[error.code]) {
      case 'bad_input':
        return badRequest('invalidValue', error.message);
      case 'not_found':
        return notFound(error.message);
      case 'conflict':
        return new ScimError(409, error.message, 'uniqueness');
      case 'unauthenticated':
        return new ScimError(401, error.message);
      case 'forbidden':
        return new ScimError(403, error.message);
      case 'too_large':
        return new ScimError(413, error.message);
      default:
        return new ScimError(500, 'internal error');
    }
  }
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  // PostgreSQL: a unique index refused a concurrent duplicate; a value it cannot store.
  if (code === '23505')
    return new ScimError(409, 'a resource with that identifier already exists', 'uniqueness');
  if (typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code)) {
    return badRequest('invalidValue', 'a value in the request cannot be stored (too large or malformed)');
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new ScimError(413, `the request body is larger than ${bodyLimit} bytes`);
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const message = error instanceof Error ? error.message : 'bad request';
    return statusCode === 400
      ? badRequest('invalidSyntax', `the request body is not valid JSON: ${message}`)
      : new ScimError(statusCode, message);
  }
  return new ScimError(500, 'internal error');
}

function send(reply: FastifyReply, result: scim.ScimResult) {
  reply.status(result.status).type(scimContentType);
  if (result.version !== undefined) reply.header('etag', `W/"${result.version}"`);
  if (result.status === 201 && result.location) reply.header('location', result.location);
  return result.body === undefined ? reply.send() : reply.send(result.body);
}

interface Authenticated {
  workspace: { id: string; slug: string };
  token: { id: string; directory: string };
}

export function scimRoutes({ database }: AppContext) {
  const authenticated = new WeakMap<FastifyRequest, Authenticated>();

  /**
   * Checks the bearer token before the body is read: an unauthenticated caller gets the same
   * 401 whatever it sends, and cannot make the server parse a large body.
   */
  async function authenticate(request: FastifyRequest): Promise<void> {
    const { workspace: ref } = request.params as Params;
    const token = bearer(request);
    if (token === undefined || typeof ref !== 'string') throw unauthorized();
    const workspace = ref.length <= 100 ? await findWorkspaceBySlugOrId(database.db, ref) : undefined;
    if (!workspace) throw unauthorized();
    const row = await database.inWorkspace(workspace.id, async (trx) => {
      const found = await findActiveToken(trx, workspace.id, hashSecret(token));
      if (found) await touchToken(trx, workspace.id, found.id);
      return found;
    });
    if (!row) throw unauthorized();
    authenticated.set(request, { workspace, token: row });
  }

  /** Runs `fn` in one transaction of the authenticated workspace. */
  async function inScope<T>(
    request: FastifyRequest,
    fn: (trx: Trx, scope: scim.ScimScope, ctx: WriteContext) => Promise<T>,
  ): Promise<T> {
    const auth = authenticated.get(request);
    if (!auth) throw unauthorized();
    const { workspace, token } = auth;
    const at = new Date().toISOString();
    return database.inWorkspace(workspace.id, async (trx) => {
      // Revoked since the request arrived: refuse rather than write with a dead credential.
      if (!(await findTokenById(trx, workspace.id, token.id))) throw unauthorized();
      const scope: scim.ScimScope = {
        workspaceId: workspace.id,
        workspaceSlug: workspace.slug,
        directory: token.directory,
        system: `scim:${token.directory}`,
        tokenId: token.id,
        baseUrl: baseUrl(request, workspace.slug),
      };
      const path = request.url.split('?')[0] ?? request.url;
      const ctx: WriteContext = {
        system: scope.system,
        at,
        request: `${request.method} ${path.slice(0, 300)}`,
        raw: {
          method: request.method,
          path: path.slice(0, 300),
          body: redactPasswords(request.body ?? null),
        },
      };
      return fn(trx, scope, ctx);
    });
  }

  return async function scimPlugin(app: FastifyInstance) {
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeAllContentTypeParsers();
    // IdPs send application/scim+json (RFC 7644 §8.1) or application/json; any JSON is read.
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') {
        done(null, undefined);
        return;
      }
      json(request, text, (error, value) => {
        if (!error) return done(null, value);
        // Fastify's own message names application/json whatever was sent; say what went wrong.
        const reason = (error as { code?: string }).code?.startsWith('FST_') ? '' : ` (${error.message})`;
        done(badRequest('invalidSyntax', `the request body is not valid JSON${reason}`), undefined);
      });
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const failure = toScimError(error);
      if (failure.status >= 500) request.log.error({ err: error }, 'SCIM request failed');
      if (failure.status === 401) reply.header('www-authenticate', 'Bearer realm="Assay SCIM"');
      return reply.status(failure.status).type(scimContentType).send(failure.body());
    });
    app.addHook('onRequest', async (request, reply) => {
      if (request.is404) {
        const path = (request.url.split('?')[0] ?? '').slice(0, 200);
        return reply
          .status(404)
          .type(scimContentType)
          .send(notFound(`no SCIM endpoint ${request.method} ${path}`).body());
      }
      await authenticate(request);
    });
    app.setNotFoundHandler((request, reply) => {
      const path = (request.url.split('?')[0] ?? '').slice(0, 200);
      const failure = notFound(`no SCIM endpoint ${request.method} ${path}`);
      return reply.status(404).type(scimContentType).send(failure.body());
    });

    // Public to the session/token layer: the SCIM token is checked by the onRequest hook above.
    const options = { config: { access: 'public' as const }, schema: { hide: true }, exposeHeadRoute: false };
    const id = (request: FastifyRequest) => (request.params as Params).id ?? '';
    const ifMatch = (request: FastifyRequest) => header(request, 'if-match');
    const run =
      (
        fn: (
          trx: Trx,
          scope: scim.ScimScope,
          ctx: WriteContext,
          request: FastifyRequest,
        ) => Promise<scim.ScimResult>,
      ) =>
      async (request: FastifyRequest, reply: FastifyReply) => {
        const result = await inScope(request, (trx, scope, ctx) => fn(trx, scope, ctx, request));
        // Committed: the checks the change queued can run now.
        if (result.storedEventIds.length > 0) wakeWorkers();
        return send(reply, result);
      };

    app.get(
      '/:workspace/Users',
      options,
      run((trx, scope, _ctx, r) => scim.listUsers(trx, scope, queryOf(r))),
    );
    app.post(
      '/:workspace/Users',
      options,
      run((trx, scope, ctx, r) => scim.createUser(trx, scope, ctx, r.body)),
    );
    app.get(
      '/:workspace/Users/:id',
      options,
      run((trx, scope, _ctx, r) => scim.getUser(trx, scope, id(r), queryOf(r))),
    );
    app.put(
      '/:workspace/Users/:id',
      options,
      run((trx, scope, ctx, r) => scim.replaceUser(trx, scope, ctx, id(r), r.body, ifMatch(r))),
    );
    app.patch(
      '/:workspace/Users/:id',
      options,
      run((trx, scope, ctx, r) => scim.patchUser(trx, scope, ctx, id(r), r.body, ifMatch(r))),
    );
    app.delete(
      '/:workspace/Users/:id',
      options,
      run((trx, scope, ctx, r) => scim.removeUser(trx, scope, ctx, id(r), ifMatch(r))),
    );

    app.get(
      '/:workspace/Groups',
      options,
      run((trx, scope, _ctx, r) => scim.listGroups(trx, scope, queryOf(r))),
    );
    app.post(
      '/:workspace/Groups',
      options,
      run((trx, scope, ctx, r) => scim.createGroup(trx, scope, ctx, r.body)),
    );
    app.get(
      '/:workspace/Groups/:id',
      options,
      run((trx, scope, _ctx, r) => scim.getGroup(trx, scope, id(r), queryOf(r))),
    );
    app.put(
      '/:workspace/Groups/:id',
      options,
      run((trx, scope, ctx, r) => scim.replaceGroup(trx, scope, ctx, id(r), r.body, ifMatch(r), queryOf(r))),
    );
    app.patch(
      '/:workspace/Groups/:id',
      options,
      run((trx, scope, ctx, r) => scim.patchGroup(trx, scope, ctx, id(r), r.body, ifMatch(r), queryOf(r))),
    );
    app.delete(
      '/:workspace/Groups/:id',
      options,
      run((trx, scope, ctx, r) => scim.removeGroup(trx, scope, ctx, id(r), ifMatch(r))),
    );

    // Discovery (RFC 7644 §4): the same token is required, so a workspace's existence stays private.
    const discovery = (body: (base: string) => unknown) =>
      run(async (_trx, scope) => ({
        status: 200,
        body: body(scope.baseUrl) as Record<string, unknown>,
        storedEventIds: [],
      }));
    const list = (items: Record<string, unknown>[]) => ({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: items.length,
      startIndex: 1,
      itemsPerPage: items.length,
      Resources: items,
    });
    const byId = (items: (base: string) => { id: string }[], what: string) =>
      run(async (_trx, scope, _ctx, r) => {
        const wanted = id(r);
        const item = items(scope.baseUrl).find((i) => i.id === wanted);
        if (!item) throw notFound(`${what} ${wanted.slice(0, 200)} not found`);
        return { status: 200, body: item as unknown as Record<string, unknown>, storedEventIds: [] };
      });
    app.get('/:workspace/ServiceProviderConfig', options, discovery(serviceProviderConfig));
    app.get(
      '/:workspace/ResourceTypes',
      options,
      discovery((base) => list(resourceTypes(base))),
    );
    app.get('/:workspace/ResourceTypes/:id', options, byId(resourceTypes, 'ResourceType'));
    app.get(
      '/:workspace/Schemas',
      options,
      discovery((base) => list(schemas(base))),
    );
    app.get('/:workspace/Schemas/:id', options, byId(schemas, 'Schema'));
    // Without this, an unknown GET under the prefix would reach the web app's catch-all route and
    // get the API's plain 404 instead of a SCIM error body.
    app.get('/:workspace/*', options, async (request, reply) => {
      const path = (request.url.split('?')[0] ?? '').slice(0, 200);
      return reply
        .status(404)
        .type(scimContentType)
        .send(notFound(`no SCIM endpoint ${request.method} ${path}`).body());
    });
  };
}
