/**
 * Authorisation on every route. Each route declares its rule in its options:
 *
 *   config: { access: 'public' }                          anyone (health, OpenAPI, sign-in)
 *   config: { access: 'authenticated' }                   any signed-in person or API token
 *   config: { access: 'session' }                         a signed-in person (not a token)
 *   config: { access: 'mfa-session' }                     …who gave a second factor in this session
 *   config: { access: { permission: 'controls:write' } }  that permission in the workspace named
 *                                                         by the `:workspace` path parameter
 *                                                         (a platform permission: platform admins)
 *
 * One `onRequest` hook enforces it, before the body is read or validated: an anonymous or
 * unauthorised caller cannot make the server parse a large upload, and gets the same answer
 * whatever the body says. A route with no rule fails closed (403) for everyone.
 *
 * The caller is a session cookie (cookie-authenticated writes also need the session's CSRF token
 * in the `x-csrf-token` header) or `Authorization: Bearer <API token>`. A caller without access to
 * a workspace gets 403 whether or not the workspace exists, so guessed slugs and ids reveal nothing.
 */
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/database.ts';
import { isPlatformPermission, type Permission } from '../domains/access/permissions.ts';
import {
  authenticateApiToken,
  authenticateSessionToken,
  type Caller,
  hasPlatformAuthority,
  resolveGrant,
  type WorkspaceGrant,
} from '../domains/accounts/caller.ts';
import { secretMatchesHash } from '../domains/accounts/credentials.ts';
import { csrfHeader, sessionCookie } from '../domains/accounts/sessions.service.ts';
import { AssayError } from '../errors.ts';
import { readCookie } from './cookies.ts';

export type AccessRule = 'public' | 'authenticated' | 'session' | 'mfa-session' | { permission: Permission };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route; see src/http/access.ts. Routes without one refuse everyone. */
    access?: AccessRule;
  }
  interface FastifyRequest {
    /** The authenticated caller (null on public routes). */
    caller: Caller | null;
    /** The caller's rights in the route's workspace (permission rules only). */
    grant: WorkspaceGrant | null;
  }
}

export interface RouteAccess {
  method: string;
  url: string;
  access: AccessRule | undefined;
  /** The route's request schemas (the fuzz tests generate input from them). */
  schema: { body?: unknown; querystring?: unknown; params?: unknown } | undefined;
}

const tables = new WeakMap<object, RouteAccess[]>();

/** Every route the application registered, with its access rule (the matrix test walks this). */
export function routeTable(app: object): readonly RouteAccess[] {
  return tables.get(app) ?? [];
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface Hookable {
  decorateRequest(name: string, value: null): unknown;
  addHook(
    name: 'onRoute',
    fn: (route: { method: string | string[]; url: string; config?: unknown; schema?: unknown }) => void,
  ): unknown;
  addHook(name: 'onRequest', fn: (request: FastifyRequest) => Promise<void>): unknown;
}

export function installAccessControl(app: Hookable, database: Database): void {
  const routes: RouteAccess[] = [];
  tables.set(app, routes);
  app.decorateRequest('caller', null);
  app.decorateRequest('grant', null);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const access = (route.config as { access?: AccessRule } | undefined)?.access;
    const schema = route.schema as RouteAccess['schema'];
    for (const method of methods) routes.push({ method, url: route.url, access, schema });
    // The OpenAPI document states how each operation authenticates.
    if (route.schema && access !== undefined) {
      (route.schema as { security?: unknown }).security = openApiSecurity(access);
    }
  });
  app.addHook('onRequest', (request) => enforce(database, request));
}

/** OpenAPI security schemes: the session cookie (with its CSRF header) and API tokens. */
export const openApiSecuritySchemes = {
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: sessionCookie,
    description: `Set by POST /api/v1/auth/login. Writes also need the ${csrfHeader} header.`,
  },
  bearer: { type: 'http', scheme: 'bearer', description: 'An API token (assay_tk_…) of the workspace.' },
} as const;

function openApiSecurity(rule: AccessRule): Record<string, string[]>[] {
  if (rule === 'public') return [];
  if (rule === 'session' || rule === 'mfa-session') return [{ session: [] }];
  if (typeof rule === 'object' && isPlatformPermission(rule.permission)) return [{ session: [] }];
  return [{ session: [] }, { bearer: [] }];
}

const forbidden = (message: string) => new AssayError('forbidden', message);

async function enforce(database: Database, request: FastifyRequest): Promise<void> {
  if (request.is404) return;
  const rule = request.routeOptions.config.access;
  const where = `${request.method} ${request.routeOptions.url}`;
  if (rule === undefined) {
    throw forbidden(`${where} declares no access rule, so nobody may call it (see docs/security.md)`);
  }
  if (rule === 'public') return;

  const caller = await identify(database, request);
  request.caller = caller;
  if (caller.kind === 'user' && unsafeMethods.has(request.method)) {
    const sent = request.headers[csrfHeader];
    if (typeof sent !== 'string' || !secretMatchesHash(sent, caller.session.csrfHash)) {
      throw new AssayError(
        'csrf_failed',
        `a signed-in ${request.method} needs the session's CSRF token in the ${csrfHeader} header`,
      );
    }
  }
  if (rule === 'authenticated') return;
  if (rule === 'session' || rule === 'mfa-session') {
    if (caller.kind !== 'user') throw forbidden('only a signed-in person may do this, not an API token');
    if (rule === 'mfa-session' && !caller.session.mfa) {
      throw new AssayError('mfa_required', 'sign in with your second factor to do this');
    }
    return;
  }

  const { permission } = rule;
  if (isPlatformPermission(permission)) {
    if (hasPlatformAuthority(caller)) return;
    if (caller.kind === 'user' && caller.platformAdmin && !caller.session.mfa) {
      throw new AssayError('mfa_required', 'platform administration needs a sign-in with a second factor');
    }
    throw forbidden(`only a platform admin may do this (${permission})`);
  }
  const ref = (request.params as Record<string, unknown> | undefined)?.workspace;
  if (typeof ref !== 'string' || ref === '') {
    throw forbidden(`${where} names no workspace, so ${permission} cannot be checked`);
  }
  const grant = await resolveGrant(database, caller, ref);
  if (!grant) {
    // Platform admins see real 404s for workspaces that do not exist; nobody else learns of them.
    if (hasPlatformAuthority(caller)) return;
    throw forbidden(`you have no access to workspace "${ref.slice(0, 100)}"`);
  }
  request.grant = grant;
  if (grant.permissions.has(permission as never)) return;
  if (grant.withheldForMfa.length > 0) {
    throw new AssayError(
      'mfa_required',
      `your ${grant.withheldForMfa.join(', ')} role in "${grant.workspace.slug}" needs a sign-in with a second factor ` +
        '(enrol one at POST /api/v1/auth/totp/enroll, then sign in again)',
    );
  }
  const held = caller.kind === 'token' ? 'this API token' : `your role (${grant.roles.join(', ') || 'none'})`;
  throw forbidden(`${held} does not allow ${permission} in "${grant.workspace.slug}"`);
}

async function identify(database: Database, request: FastifyRequest): Promise<Caller> {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer[ ]+([^\s]+)$/i.exec(authorization);
    if (!match)
      throw new AssayError('unauthenticated', 'the Authorization header must be "Bearer <API token>"');
    return authenticateApiToken(database, match[1]!);
  }
  const token = readCookie(request, sessionCookie);
  if (token === undefined) {
    throw new AssayError(
      'unauthenticated',
      'sign in, or send an API token as "Authorization: Bearer <token>"',
    );
  }
  return authenticateSessionToken(database, token);
}
