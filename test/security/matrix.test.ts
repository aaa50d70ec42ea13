/**
 * The authorisation matrix: every route the application registers (collected by the onRoute
 * hook, so a route added tomorrow is in it) × every kind of caller, each answer checked against
 * the route's declared rule. A route without a rule fails here and refuses everyone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  isPlatformPermission,
  isReadPermission,
  type Permission,
  type Role,
  rolePermissions,
  roles,
  type WorkspacePermission,
  workspacePermissions,
} from '../../src/domains/access/permissions.ts';
import { type AccessRule, routeTable } from '../../src/http/access.ts';
import { buildTestApp, type Inject } from '../helpers/app.ts';

type Outcome = 'allow' | 'deny';

const accessCodes = new Set(['unauthenticated', 'forbidden', 'csrf_failed', 'mfa_required']);

/** Refused by the access layer (not by the route's own checks: SCIM and webhooks answer 401 themselves). */
function refusedByAccess(res: LightMyRequestResponse): boolean {
  if (res.statusCode !== 401 && res.statusCode !== 403) return false;
  try {
    return accessCodes.has(res.json().code);
  } catch {
    return false;
  }
}

const placeholderId = '00000000-0000-4000-8000-000000000000';

function concreteUrl(url: string, workspace: string): string {
  return url
    .replace(/:workspace\b/g, workspace)
    .replace(/:[A-Za-z_]+/g, placeholderId)
    .replace(/\*$/, 'x');
}

interface Caller {
  name: string;
  /** The caller's credential; `fresh` gives a new session (for the route that ends it). */
  inject: Inject;
  fresh: () => Promise<Inject>;
  expect: (rule: AccessRule | undefined) => Outcome;
}

const allow = (yes: boolean): Outcome => (yes ? 'allow' : 'deny');

test('every route declares an access rule', async (t) => {
  const { app } = await buildTestApp(t);
  const missing = routeTable(app)
    .filter((r) => r.access === undefined)
    .map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(missing, [], `routes without config.access (they refuse everyone): ${missing.join(', ')}`);
  // Platform permissions are only meaningful without a workspace; workspace permissions need one.
  for (const r of routeTable(app)) {
    if (typeof r.access !== 'object') continue;
    const hasWorkspace = /:workspace\b/.test(r.url);
    assert.equal(
      hasWorkspace,
      !isPlatformPermission(r.access.permission),
      `${r.method} ${r.url}: ${r.access.permission} ${hasWorkspace ? 'is a platform permission on a workspace route' : 'needs a :workspace path parameter'}`,
    );
  }
});

test('authorisation matrix: every route × every role, session and token', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  for (const [slug, extra] of [
    ['bluepeak', { kind: 'msp' }],
    ['acme', { parent: 'bluepeak' }],
    ['zenith', { parent: 'bluepeak' }],
    ['other', {}],
  ] as const) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug, ...extra } });
    assert.equal(res.statusCode, 201, res.body);
  }
  await app.inject({ method: 'PUT', url: '/api/v1/workspaces/acme/scope', payload: { categories: [] } });

  const credential = async (make: () => Promise<Inject>) => ({ inject: await make(), fresh: make });
  const memberOf = async (
    role: Role,
    workspace: string,
    options: { mfa?: boolean; clients?: string[] } = {},
  ) => {
    const first = await ctx.asRole(role, workspace, options);
    return credential(() =>
      ctx.asUser(first.credentials.userId, first.credentials.email, { mfa: options.mfa ?? true }),
    );
  };
  const byPermission =
    (granted: (p: WorkspacePermission) => boolean, kind: 'user' | 'token', mfa = true) =>
    (rule: AccessRule | undefined): Outcome => {
      if (rule === undefined) return 'deny';
      if (rule === 'public' || rule === 'authenticated') return 'allow';
      if (rule === 'session') return allow(kind === 'user');
      if (rule === 'mfa-session') return allow(kind === 'user' && mfa);
      if (isPlatformPermission(rule.permission)) return 'deny';
      return allow(granted(rule.permission as WorkspacePermission));
    };
  const tokenCache = new Map<string, Inject>();
  const tokenFor = async (workspace: string, permissions: WorkspacePermission[]) => {
    const key = `${workspace}:${permissions.join(',')}`;
    let inject = tokenCache.get(key);
    if (!inject) {
      inject = await ctx.asToken(workspace, permissions);
      tokenCache.set(key, inject);
    }
    return inject;
  };

  const callers: Caller[] = [
    {
      name: 'anonymous',
      ...(await credential(async () => ctx.anonymous)),
      expect: (rule) => allow(rule === 'public'),
    },
    {
      name: 'platform admin',
      ...(await credential(() => ctx.asUser(ctx.admin.userId, ctx.admin.email))),
      expect: (rule) => allow(rule !== undefined),
    },
    {
      name: 'platform admin without a second factor',
      ...(await credential(() => ctx.asUser(ctx.admin.userId, ctx.admin.email, { mfa: false }))),
      expect: (rule) => allow(rule === 'public' || rule === 'authenticated' || rule === 'session'),
    },
  ];
  for (const role of roles) {
    callers.push({
      name: role,
      ...(await memberOf(role, 'acme')),
      expect: byPermission((p) => rolePermissions[role].includes(p), 'user'),
    });
  }
  callers.push(
    {
      name: 'owner without a second factor',
      ...(await memberOf('owner', 'acme', { mfa: false })),
      expect: byPermission(() => false, 'user', false),
    },
    {
      name: 'MSP compliance_manager reaching acme',
      ...(await memberOf('compliance_manager', 'bluepeak', { clients: ['acme'] })),
      expect: byPermission((p) => rolePermissions.compliance_manager.includes(p), 'user'),
    },
    {
      name: 'MSP admin reaching only zenith',
      ...(await memberOf('admin', 'bluepeak', { clients: ['zenith'] })),
      expect: byPermission(() => false, 'user'),
    },
    {
      name: 'owner of another workspace',
      ...(await memberOf('owner', 'other')),
      expect: byPermission(() => false, 'user'),
    },
    {
      name: 'token of another workspace with every permission',
      ...(await credential(() => tokenFor('other', [...workspacePermissions]))),
      expect: byPermission(() => false, 'token'),
    },
  );

  const mismatches: string[] = [];
  const errors: string[] = [];
  let requests = 0;
  const routes = routeTable(app).filter((r) => r.method !== 'HEAD');
  for (const route of routes) {
    const url = concreteUrl(route.url, 'acme');
    const send = async (inject: Inject) => {
      requests++;
      const unsafe = route.method !== 'GET';
      return inject({ method: route.method as 'GET', url, ...(unsafe ? { payload: {} } : {}) });
    };
    const check = (name: string, expected: Outcome, res: LightMyRequestResponse) => {
      const actual: Outcome = refusedByAccess(res) ? 'deny' : 'allow';
      if (actual !== expected) {
        mismatches.push(
          `${route.method} ${route.url} as ${name}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 120)}`,
        );
      }
      if (res.statusCode >= 500) errors.push(`${route.method} ${route.url} as ${name}: ${res.statusCode}`);
    };
    // Signing out ends the session it is sent with: that route gets fresh ones.
    const endsSession = route.url === '/api/v1/auth/logout';
    for (const caller of callers) {
      const inject = endsSession ? await caller.fresh() : caller.inject;
      check(caller.name, caller.expect(route.access), await send(inject));
    }
    // Tokens: one holding exactly the route's permission is let in; one holding every other
    // permission is not.
    const rule = route.access;
    if (typeof rule === 'object' && !isPlatformPermission(rule.permission)) {
      const permission = rule.permission as WorkspacePermission;
      check(`token with ${permission}`, 'allow', await send(await tokenFor('acme', [permission])));
      const others = workspacePermissions.filter((p) => p !== permission);
      check(`token with all but ${permission}`, 'deny', await send(await tokenFor('acme', others)));
    } else {
      const expected = byPermission(() => true, 'token')(rule);
      check(
        'token with every permission',
        expected,
        await send(await tokenFor('acme', [...workspacePermissions])),
      );
    }
  }
  assert.ok(routes.length >= 30, `the route table is complete (${routes.length} routes)`);
  assert.ok(requests > routes.length * callers.length);
  assert.deepEqual(mismatches, []);
  assert.deepEqual(errors, [], 'no request in the matrix fails with a server error');
});

test('role table: deny by default, auditors only read, and spot checks written out by hand', async () => {
  for (const role of roles) {
    for (const p of rolePermissions[role]) assert.ok(workspacePermissions.includes(p), `${role}: ${p}`);
  }
  for (const p of rolePermissions.auditor) assert.ok(isReadPermission(p), `auditor holds ${p}`);
  assert.deepEqual([...rolePermissions.employee].sort(), ['policies:acknowledge', 'workspace:read']);
  const holders = (p: Permission) =>
    roles.filter((r) => (rolePermissions[r] as readonly Permission[]).includes(p));
  assert.deepEqual(holders('scope:write'), ['owner', 'admin', 'compliance_manager']);
  assert.deepEqual(holders('controls:write'), ['owner', 'admin', 'compliance_manager']);
  assert.deepEqual(holders('members:manage'), ['owner', 'admin']);
  assert.deepEqual(holders('tokens:manage'), ['owner', 'admin']);
  assert.deepEqual(holders('security:manage'), ['owner', 'admin']);
  assert.deepEqual(holders('connectors:manage'), ['owner', 'admin']);
  assert.deepEqual(holders('evidence:write'), ['owner', 'admin', 'compliance_manager', 'control_owner']);
  assert.deepEqual(holders('controls:read'), [
    'owner',
    'admin',
    'compliance_manager',
    'control_owner',
    'reviewer',
    'auditor',
  ]);
  assert.deepEqual(holders('workspaces:create'), [], 'creating workspaces is for platform admins only');
});

test('an auditor is refused every change and loses access when the membership expires', async (t) => {
  const ctx = await buildTestApp(t);
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  await ctx.app.inject({ method: 'PUT', url: '/api/v1/workspaces/acme/scope', payload: { categories: [] } });
  const auditor = await ctx.asRole('auditor', 'acme');
  assert.equal((await auditor({ method: 'GET', url: '/api/v1/workspaces/acme/controls' })).statusCode, 200);
  const changes = routeTable(ctx.app).filter(
    (r) =>
      r.method !== 'GET' &&
      r.method !== 'HEAD' &&
      typeof r.access === 'object' &&
      !isReadPermission(r.access.permission),
  );
  assert.ok(changes.length > 10);
  for (const route of changes) {
    const res = await auditor({
      method: route.method as 'POST',
      url: concreteUrl(route.url, 'acme'),
      payload: {},
    });
    assert.equal(res.statusCode, 403, `${route.method} ${route.url}`);
  }
  // The membership lapses: nothing is readable any more.
  await ctx.database.db
    .updateTable('memberships')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .where('role', '=', 'auditor')
    .execute();
  const lapsed = await auditor({ method: 'GET', url: '/api/v1/workspaces/acme/controls' });
  assert.equal(lapsed.statusCode, 403);
});
