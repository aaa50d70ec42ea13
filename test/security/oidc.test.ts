/**
 * Single sign-on end to end against a real OpenID provider (oidc-provider on 127.0.0.1): the
 * browser's round trip is played with plain HTTP requests and a cookie jar.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { sql } from 'kysely';
import Provider from 'oidc-provider';
import { buildTestApp } from '../helpers/app.ts';
import { cookieValue } from './helpers.ts';

const host = 'assay.example';
const redirectUri = `http://${host}/api/v1/auth/oidc/callback`;
const clientSecret = 'idp-client-secret-0f3a9c1d7e';

interface Account {
  email: string;
  email_verified: boolean;
  name?: string;
}

/** An OpenID provider whose login page signs in whichever account the test chose. */
async function startProvider(t: TestContext, accounts: Record<string, Account>) {
  let provider: {
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(
      req: IncomingMessage,
      res: ServerResponse,
    ): Promise<{
      prompt: { name: string; details: { missingOIDCScope?: string[]; missingOIDCClaims?: string[] } };
      params: { client_id: string };
      session?: { accountId: string };
    }>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: object,
      options: object,
    ): Promise<void>;
    Grant: new (init: {
      accountId: string;
      clientId: string;
    }) => {
      addOIDCScope(scope: string): void;
      addOIDCClaims(claims: string[]): void;
      save(): Promise<string>;
    };
  };
  const next = { accountId: '', amr: ['pwd'] };
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      void interact(req, res).catch((error) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    provider.callback()(req, res);
  });
  async function interact(req: IncomingMessage, res: ServerResponse) {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: next.accountId, amr: next.amr } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const grant = new provider.Grant({
      accountId: details.session!.accountId,
      clientId: details.params.client_id,
    });
    if (details.prompt.details.missingOIDCScope)
      grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
    if (details.prompt.details.missingOIDCClaims)
      grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
    await provider.interactionFinished(
      req,
      res,
      { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true },
    );
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'assay',
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: ['oidc-test-cookie-key'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: async (_ctx: unknown, id: string) =>
      accounts[id] ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) } : undefined,
  });
  return {
    issuer,
    /** The account (and authentication methods) the provider's login page will sign in next. */
    as(accountId: string, amr: string[] = ['pwd']) {
      next.accountId = accountId;
      next.amr = amr;
    },
  };
}

/** A browser's trip: Assay → provider (login, consent) → back to Assay's callback. */
async function ssoSignIn(ctx: Awaited<ReturnType<typeof buildTestApp>>, workspace: string) {
  const start = await ctx.app.inject({
    method: 'GET',
    url: `/api/v1/auth/oidc/${workspace}/start`,
    headers: { host },
    anonymous: true,
  } as never);
  assert.equal(start.statusCode, 302, start.body);
  const stateCookie = cookieValue(start, 'assay_oidc');
  assert.ok(stateCookie);
  const jar = new Map<string, string>();
  let location = String(start.headers.location);
  for (let hop = 0; hop < 12 && !location.startsWith(redirectUri); hop++) {
    const res = await fetch(location, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    const next = res.headers.get('location');
    assert.ok(next, `provider stopped at ${location} with ${res.status}: ${await res.text()}`);
    location = new URL(next, location).href;
  }
  const callback = new URL(location);
  const finish = (cookie: string | undefined) =>
    ctx.app.inject({
      method: 'GET',
      url: `${callback.pathname}${callback.search}`,
      headers: { host, ...(cookie ? { cookie: `assay_oidc=${cookie}` } : {}) },
    });
  return { callbackPath: `${callback.pathname}${callback.search}`, stateCookie, finish };
}

async function sessionOf(
  ctx: Awaited<ReturnType<typeof buildTestApp>>,
  response: Parameters<typeof cookieValue>[0],
) {
  const token = cookieValue(response, 'assay_session');
  assert.ok(token, 'a session cookie was set');
  const cookie = `assay_session=${token}`;
  return {
    cookie,
    get: (url: string) => ctx.app.inject({ method: 'GET', url, headers: { cookie } }),
  };
}

test('OIDC single sign-on against a real provider: members, first sign-in, scoping, refusals', async (t) => {
  const idp = await startProvider(t, {
    alice: { email: 'alice@acme.example', email_verified: true, name: 'Alice' },
    newbie: { email: 'newbie@acme.example', email_verified: true },
    unverified: { email: 'unverified@acme.example', email_verified: false },
    impostor: { email: 'root@assay.example', email_verified: true },
  });
  const ctx = await buildTestApp(t);
  for (const slug of ['acme', 'other']) {
    await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug } });
    await ctx.app.inject({
      method: 'PUT',
      url: `/api/v1/workspaces/${slug}/scope`,
      payload: { categories: [] },
    });
  }
  // Alice is a control owner in acme and an owner in other; a platform admin exists elsewhere.
  await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/members',
    payload: { email: 'alice@acme.example', role: 'control_owner' },
  });
  await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/other/members',
    payload: { email: 'alice@acme.example', role: 'compliance_manager' },
  });
  await sql`insert into users (email, platform_admin) values ('root@assay.example', true)`.execute(
    ctx.database.db,
  );

  const configured = await ctx.app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/sso',
    payload: { issuer: idp.issuer, clientId: 'assay', clientSecret, jitRole: 'employee' },
  });
  assert.equal(configured.statusCode, 200, configured.body);
  assert.equal(configured.json().clientSecretSet, true);
  assert.ok(!configured.body.includes(clientSecret));
  const stored = await sql<{ client_secret: string }>`select client_secret from oidc_connections`.execute(
    ctx.database.db,
  );
  assert.ok(!stored.rows[0]!.client_secret.includes(clientSecret), 'the client secret is sealed at rest');

  // 1. An existing member signs in; the session reaches acme only.
  idp.as('alice');
  let trip = await ssoSignIn(ctx, 'acme');
  const done = await trip.finish(trip.stateCookie);
  assert.equal(done.statusCode, 302, done.body);
  assert.equal(done.headers.location, '/');
  const alice = await sessionOf(ctx, done);
  const me = (await alice.get('/api/v1/auth/session')).json();
  assert.equal(me.user.email, 'alice@acme.example');
  assert.equal(me.session.ssoWorkspace, 'acme');
  assert.equal((await alice.get('/api/v1/workspaces/acme/controls')).statusCode, 200);
  assert.equal(
    (await alice.get('/api/v1/workspaces/other/controls')).statusCode,
    403,
    "acme's identity provider does not vouch for other workspaces",
  );
  // The code is single use: replaying the callback fails.
  const replay = await trip.finish(trip.stateCookie);
  assert.equal(replay.statusCode, 401);

  // 2. A callback without the state cookie (another browser, or a forged link) is refused.
  idp.as('alice');
  trip = await ssoSignIn(ctx, 'acme');
  const noState = await trip.finish(undefined);
  assert.equal(noState.statusCode, 401);
  assert.match(noState.json().message, /did not start the sign-in/);
  const tamperedState = await trip.finish(`${trip.stateCookie.slice(0, -2)}xx`);
  assert.equal(tamperedState.statusCode, 401);

  // 3. Someone new with a verified email joins acme with the workspace's first-sign-in role.
  idp.as('newbie');
  trip = await ssoSignIn(ctx, 'acme');
  const joined = await trip.finish(trip.stateCookie);
  assert.equal(joined.statusCode, 302, joined.body);
  const newbie = await sessionOf(ctx, joined);
  assert.equal((await newbie.get('/api/v1/workspaces/acme')).statusCode, 200);
  assert.equal(
    (await newbie.get('/api/v1/workspaces/acme/controls')).statusCode,
    403,
    'employees do not read controls',
  );
  const members = (await ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/members' })).json()
    .members;
  assert.deepEqual(
    members.map((m: { email: string; role: string }) => `${m.email}:${m.role}`),
    ['alice@acme.example:control_owner', 'newbie@acme.example:employee'],
  );

  // 4. An unverified email, and a verified email of someone who is not a member here, get nothing.
  for (const account of ['unverified', 'impostor']) {
    idp.as(account);
    trip = await ssoSignIn(ctx, 'acme');
    const refused = await trip.finish(trip.stateCookie);
    assert.equal(refused.statusCode, 401, account);
    assert.equal(cookieValue(refused, 'assay_session'), undefined);
  }
  const links = await sql<{
    n: number;
  }>`select count(*)::int as n from user_identities ui join users u on u.id = ui.user_id
    where u.email = 'root@assay.example'`.execute(ctx.database.db);
  assert.equal(links.rows[0]!.n, 0, "the platform admin's account was not linked to acme's provider");

  // 5. Once removed from acme, Alice's linked identity no longer signs her in there.
  const removed = await ctx.app.inject({
    method: 'DELETE',
    url: '/api/v1/workspaces/acme/members/alice%40acme.example',
  });
  assert.equal(removed.statusCode, 204);
  idp.as('alice');
  trip = await ssoSignIn(ctx, 'acme');
  assert.equal((await trip.finish(trip.stateCookie)).statusCode, 401);

  // 6. Every SSO sign-in, good or bad, is in the audit trail.
  const events = (
    await sql<{ action: string; details: { method?: string; reason?: string } }>`
      select action, details from audit_trail where action like 'auth.login%' order by id`.execute(
      ctx.database.db,
    )
  ).rows.map((r) => `${r.action}:${r.details.reason ?? r.details.method}`);
  assert.deepEqual(events, [
    'auth.login_succeeded:oidc',
    'auth.login_failed:provider_rejected',
    'auth.login_failed:missing_state',
    'auth.login_failed:missing_state',
    'auth.login_succeeded:oidc',
    'auth.login_failed:no_account',
    'auth.login_failed:no_account',
    'auth.login_failed:no_account',
  ]);
});

test('OIDC: a platform admin signing in through a workspace provider gets that workspace only; provider MFA counts', async (t) => {
  const idp = await startProvider(t, { ops: { email: 'ops@acme.example', email_verified: true } });
  const ctx = await buildTestApp(t);
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  await sql`insert into users (email, platform_admin) values ('ops@acme.example', true)`.execute(
    ctx.database.db,
  );
  await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/members',
    payload: { email: 'ops@acme.example', role: 'admin' },
  });
  await ctx.app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/sso',
    payload: { issuer: idp.issuer, clientId: 'assay', clientSecret },
  });

  // Password-only at the provider: the admin role waits for a second factor.
  idp.as('ops', ['pwd']);
  let trip = await ssoSignIn(ctx, 'acme');
  let ops = await sessionOf(ctx, await trip.finish(trip.stateCookie));
  const withheld = await ops.get('/api/v1/workspaces/acme/members');
  assert.equal(withheld.statusCode, 403);
  assert.equal(withheld.json().code, 'mfa_required');

  // The provider reports multi-factor authentication: the admin role applies — in acme only.
  idp.as('ops', ['pwd', 'otp']);
  trip = await ssoSignIn(ctx, 'acme');
  ops = await sessionOf(ctx, await trip.finish(trip.stateCookie));
  assert.equal((await ops.get('/api/v1/workspaces/acme/members')).statusCode, 200);
  const create = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/workspaces',
    payload: { slug: 'minted' },
    headers: { cookie: ops.cookie, 'x-csrf-token': 'irrelevant' },
  });
  assert.equal(create.statusCode, 403);
  const session = (await ops.get('/api/v1/auth/session')).json();
  assert.equal(session.session.mfa, true);
  assert.equal(session.session.ssoWorkspace, 'acme');
});
