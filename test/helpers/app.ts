import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Role, WorkspacePermission } from '../../src/domains/access/permissions.ts';
import { addMember } from '../../src/domains/accounts/memberships.service.ts';
import { csrfHeader, issueSession, sessionCookie } from '../../src/domains/accounts/sessions.service.ts';
import { createApiToken } from '../../src/domains/accounts/tokens.service.ts';
import { createUser } from '../../src/domains/accounts/users.service.ts';
import type { Actor } from '../../src/domains/audit/actor.ts';
import { type App, buildApp } from '../../src/http/app.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

/** `app.inject` options, plus `anonymous: true` to send the request with no credentials at all. */
export type InjectRequest = InjectOptions & { anonymous?: boolean };
export type Inject = (options: InjectRequest | string) => Promise<LightMyRequestResponse>;

export interface Credentials {
  userId: string;
  email: string;
  /** The session cookie token and its CSRF token, for tests that build their own headers. */
  sessionToken: string;
  csrfToken: string;
}

export interface TestApp extends TestDatabase {
  /** The API; its `inject` is signed in as a platform admin (with a second factor) by default. */
  app: App;
  admin: Credentials;
  /** Requests with no credentials. */
  anonymous: Inject;
  /** A new person holding `role` in `workspace`, signed in (with a second factor unless `mfa: false`). */
  asRole(
    role: Role,
    workspace: string,
    options?: { mfa?: boolean; clients?: string[]; email?: string },
  ): Promise<Inject & { credentials: Credentials }>;
  /** A signed-in session for an existing person. */
  asUser(
    userId: string,
    email: string,
    options?: { mfa?: boolean },
  ): Promise<Inject & { credentials: Credentials }>;
  /** An API token of `workspace` with exactly `permissions`. */
  asToken(
    workspace: string,
    permissions: WorkspacePermission[],
  ): Promise<Inject & { secret: string; tokenId: string }>;
}

const operator: Actor = { type: 'cli', id: 'test-operator' };

function hasHeader(headers: InjectOptions['headers'], name: string): boolean {
  return Object.keys(headers ?? {}).some((key) => key.toLowerCase() === name);
}

/**
 * The API over a fresh test database, for `app.inject(...)`. Requests are signed in as a
 * platform admin unless they carry their own `authorization` or `cookie` header or say
 * `anonymous: true`.
 */
export async function buildTestApp(t: TestContext): Promise<TestApp> {
  const testDb = await createTestDatabase(t);
  // A key of its own per test: nothing is written to a shared data directory.
  const config = { ...testDb.config, secretKey: testDb.config.secretKey ?? randomBytes(32).toString('hex') };
  const { database } = testDb;
  const app = await buildApp({ config, database });
  t.after(() => app.close());
  const rawInject = app.inject.bind(app) as (options: InjectOptions) => Promise<LightMyRequestResponse>;

  const withCredentials =
    (credentials: Credentials | null): Inject =>
    (request) => {
      const { anonymous, ...options } = typeof request === 'string' ? { url: request } : request;
      if (anonymous || credentials === null) return rawInject(options);
      if (hasHeader(options.headers, 'authorization') || hasHeader(options.headers, 'cookie')) {
        return rawInject(options);
      }
      return rawInject({
        ...options,
        headers: {
          ...options.headers,
          cookie: `${sessionCookie}=${credentials.sessionToken}`,
          ...(hasHeader(options.headers, csrfHeader) ? {} : { [csrfHeader]: credentials.csrfToken }),
        },
      });
    };

  const signIn = async (userId: string, email: string, mfa: boolean): Promise<Credentials> => {
    const session = await issueSession(database, {
      userId,
      stage: 'full',
      mfa,
      ssoWorkspaceId: null,
      ip: '127.0.0.1',
      userAgent: 'assay-test',
    });
    return { userId, email, sessionToken: session.token, csrfToken: session.csrfToken };
  };

  const adminUser = await createUser(database, operator, {
    email: `platform-admin-${randomBytes(4).toString('hex')}@assay.test`,
    platformAdmin: true,
  });
  const admin = await signIn(adminUser.id, adminUser.email, true);
  const adminInject = withCredentials(admin);
  // Keep `app.inject(options)` working for every test, now signed in; the chained form stays raw.
  (app as unknown as { inject: unknown }).inject = (options?: InjectRequest | string, callback?: unknown) =>
    options === undefined || callback !== undefined
      ? (rawInject as (...args: unknown[]) => unknown)(options, callback)
      : adminInject(options);

  let counter = 0;
  const asUser: TestApp['asUser'] = async (userId, email, options = {}) => {
    const credentials = await signIn(userId, email, options.mfa ?? true);
    return Object.assign(withCredentials(credentials), { credentials });
  };
  const asRole: TestApp['asRole'] = async (role, workspace, options = {}) => {
    counter += 1;
    const email =
      options.email ?? `${role.replace(/_/g, '-')}-${counter}-${randomBytes(3).toString('hex')}@people.test`;
    const auditor = role === 'auditor';
    const { user } = await addMember(database, { actor: operator, mayManageOwners: true }, workspace, {
      email,
      role,
      clients: options.clients,
      expiresAt: auditor ? new Date(Date.now() + 30 * 86_400_000) : null,
      auditPeriod: auditor ? { start: '2026-01-01', end: '2026-06-30' } : undefined,
    });
    return asUser(user.id, user.email, { mfa: options.mfa ?? true });
  };
  const asToken: TestApp['asToken'] = async (workspace, permissions) => {
    counter += 1;
    const { row, secret } = await createApiToken(database, { actor: operator, userId: null }, workspace, {
      name: `test token ${counter}`,
      permissions,
    });
    const inject: Inject = (request) => {
      const options = typeof request === 'string' ? { url: request } : request;
      return rawInject({ ...options, headers: { ...options.headers, authorization: `Bearer ${secret}` } });
    };
    return Object.assign(inject, { secret, tokenId: row.id });
  };

  return {
    ...testDb,
    config,
    app,
    admin,
    anonymous: withCredentials(null),
    asRole,
    asUser,
    asToken,
  };
}
