import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { sessionLifetime } from '../../src/domains/accounts/sessions.service.ts';
import { throttleLimits } from '../../src/domains/accounts/throttle.service.ts';
import { totpCode } from '../../src/domains/accounts/totp.ts';
import { buildTestApp } from '../helpers/app.ts';
import { cookieValue, personWithPassword, setCookies, strongPassword } from './helpers.ts';

type TestApp = Awaited<ReturnType<typeof buildTestApp>>;

async function login(ctx: TestApp, email: string, password: string, headers: Record<string, string> = {}) {
  return ctx.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
    anonymous: Object.keys(headers).length === 0,
    headers,
  } as never);
}

function session(response: { headers: Record<string, unknown> } & Parameters<typeof cookieValue>[0]) {
  const token = cookieValue(response, 'assay_session');
  const csrf = cookieValue(response, 'assay_csrf');
  assert.ok(token && csrf, 'sign-in sets the session and CSRF cookies');
  return { cookie: `assay_session=${token}`, csrf, token };
}

async function signInEvents(ctx: TestApp) {
  return (
    await sql<{ action: string; actor_id: string; details: Record<string, unknown> }>`
      select action, actor_id, details from audit_trail where action like 'auth.%' order by id`.execute(
      ctx.database.db,
    )
  ).rows;
}

test('password sign-in: secure HTTP-only SameSite cookies, hashed session at rest, every attempt audited', async (t) => {
  const ctx = await buildTestApp(t);
  const user = await personWithPassword(ctx.database, 'sam@acme.example');

  const wrong = await login(ctx, 'sam@acme.example', 'not-the-password-at-all');
  assert.equal(wrong.statusCode, 401);
  assert.equal(wrong.json().code, 'invalid_credentials');
  const unknown = await login(ctx, 'nobody@acme.example', strongPassword);
  assert.equal(unknown.statusCode, 401);
  assert.equal(unknown.json().message, wrong.json().message, 'unknown email and wrong password look alike');

  const ok = await login(ctx, 'SAM@acme.example ', strongPassword);
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(ok.json().status, 'signed_in');
  assert.equal(ok.json().user.email, 'sam@acme.example');
  const cookies = setCookies(ok);
  assert.match(cookies.get('assay_session')!, /; Secure/);
  assert.match(cookies.get('assay_session')!, /; HttpOnly/);
  assert.match(cookies.get('assay_session')!, /; SameSite=Strict/);
  assert.match(
    cookies.get('assay_session')!,
    new RegExp(`Max-Age=${sessionLifetime.absoluteSeconds - 1}|Max-Age=${sessionLifetime.absoluteSeconds}`),
  );
  assert.doesNotMatch(cookies.get('assay_csrf')!, /HttpOnly/, 'the web app reads the CSRF cookie');
  const { cookie, token, csrf } = session(ok);
  assert.equal(ok.json().csrfToken, csrf);

  const me = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } });
  assert.equal(me.statusCode, 200, me.body);
  assert.equal(me.json().user.id, user.id);
  assert.equal(me.json().session.mfa, false);

  // Only hashes are stored.
  const stored = await sql<{
    token_hash: string;
    csrf_hash: string;
  }>`select token_hash, csrf_hash from sessions where user_id = ${user.id}`.execute(ctx.database.db);
  assert.equal(stored.rows.length, 1);
  assert.ok(!JSON.stringify(stored.rows).includes(token));
  assert.ok(!JSON.stringify(stored.rows).includes(csrf));
  const hash = await sql<{
    password_hash: string;
  }>`select password_hash from users where id = ${user.id}`.execute(ctx.database.db);
  assert.match(hash.rows[0]!.password_hash, /^\$scrypt\$ln=17,r=8,p=1\$/);

  const events = await signInEvents(ctx);
  assert.deepEqual(
    events.map((e) => [e.action, e.details.reason ?? null]),
    [
      ['auth.login_failed', 'wrong_password'],
      ['auth.login_failed', 'unknown_account'],
      ['auth.login_succeeded', null],
    ],
  );
  assert.equal(events[0]!.actor_id, user.id);
  assert.equal(events[2]!.actor_id, user.id);
  assert.ok(events.every((e) => typeof e.details.ip === 'string'));
  assert.ok(!JSON.stringify(events).includes(strongPassword), 'passwords never reach the audit trail');

  // Sign-out ends the session for good.
  const out = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/auth/logout',
    headers: { cookie, 'x-csrf-token': csrf },
  });
  assert.equal(out.statusCode, 204);
  const after = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } });
  assert.equal(after.statusCode, 401);
});

test('session fixation: a session the browser brings to sign-in is revoked and never becomes signed in', async (t) => {
  const ctx = await buildTestApp(t);
  await personWithPassword(ctx.database, 'mallory@evil.example');
  await personWithPassword(ctx.database, 'victim@acme.example');
  // The attacker signs in and plants their session cookie in the victim's browser.
  const planted = session(await login(ctx, 'mallory@evil.example', strongPassword));
  // A made-up value planted the same way.
  const invented = 'a'.repeat(43);
  for (const cookieToken of [planted.token, invented]) {
    const victim = await login(ctx, 'victim@acme.example', strongPassword, {
      cookie: `assay_session=${cookieToken}`,
    });
    assert.equal(victim.statusCode, 200, victim.body);
    const issued = session(victim);
    assert.notEqual(issued.token, cookieToken, 'a fresh session id at sign-in');
    const asPlanted = await ctx.app.inject({
      method: 'GET',
      url: '/api/v1/auth/session',
      headers: { cookie: `assay_session=${cookieToken}` },
    });
    assert.equal(
      asPlanted.statusCode,
      401,
      'the planted token is not a session of the victim (nor of anyone)',
    );
    const asIssued = await ctx.app.inject({
      method: 'GET',
      url: '/api/v1/auth/session',
      headers: { cookie: issued.cookie },
    });
    assert.equal(asIssued.json().user.email, 'victim@acme.example');
  }
});

test('CSRF: cookie-authenticated writes need the session’s own token in x-csrf-token; bearer tokens do not', async (t) => {
  const ctx = await buildTestApp(t);
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'other' } });
  const manager = await ctx.asRole('compliance_manager', 'acme');
  const other = await ctx.asRole('compliance_manager', 'other');
  const { credentials } = manager;
  const put = (headers: Record<string, string>) =>
    ctx.app.inject({
      method: 'PUT',
      url: '/api/v1/workspaces/acme/scope',
      payload: { categories: ['availability'] },
      headers: { cookie: `assay_session=${credentials.sessionToken}`, ...headers },
    });
  const missing = await put({});
  assert.equal(missing.statusCode, 403);
  assert.equal(missing.json().code, 'csrf_failed');
  const forged = await put({ 'x-csrf-token': 'guessed-value' });
  assert.equal(forged.json().code, 'csrf_failed');
  // Double-submitting a value the attacker planted as a cookie does not help: the token is bound
  // to the session on the server.
  const doubleSubmit = await put({
    'x-csrf-token': 'attacker',
    cookie: `assay_session=${credentials.sessionToken}; assay_csrf=attacker`,
  });
  assert.equal(doubleSubmit.json().code, 'csrf_failed');
  const someoneElses = await put({ 'x-csrf-token': other.credentials.csrfToken });
  assert.equal(someoneElses.json().code, 'csrf_failed');
  const good = await put({ 'x-csrf-token': credentials.csrfToken });
  assert.equal(good.statusCode, 200, good.body);
  // Reads need no CSRF token.
  const read = await ctx.app.inject({
    method: 'GET',
    url: '/api/v1/workspaces/acme/scope',
    headers: { cookie: `assay_session=${credentials.sessionToken}` },
  });
  assert.equal(read.statusCode, 200);
  // Nothing was changed by the refused writes: one scope change by the manager in the trail.
  const changes = await sql<{ n: number }>`select count(*)::int as n from audit_trail
    where action = 'scope.set' and actor_id = ${credentials.userId}`.execute(ctx.database.db);
  assert.equal(changes.rows[0]!.n, 1);
  // A bearer token is not sent by browsers on their own, so it needs no CSRF token.
  const token = await ctx.asToken('acme', ['scope:write']);
  const byToken = await token({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/scope',
    payload: { categories: [] },
  });
  assert.equal(byToken.statusCode, 200, byToken.body);
});

test('brute force: the account locks after 5 failures (even the right password is refused), per-address throttling, audited', async (t) => {
  const ctx = await buildTestApp(t);
  await personWithPassword(ctx.database, 'target@acme.example');
  const limit = throttleLimits.account.maxFailures;
  for (let i = 0; i < limit; i++) {
    const res = await login(ctx, 'target@acme.example', `wrong-guess-number-${i}`);
    assert.equal(res.statusCode, 401, `attempt ${i + 1}`);
  }
  const locked = await login(ctx, 'target@acme.example', strongPassword);
  assert.equal(locked.statusCode, 429);
  assert.equal(locked.json().code, 'too_many_attempts');
  assert.ok(Number(locked.headers['retry-after']) > 0);
  // Unknown accounts lock the same way: a lockout reveals nothing.
  for (let i = 0; i < limit; i++) await login(ctx, 'ghost@acme.example', `wrong-guess-number-${i}`);
  assert.equal((await login(ctx, 'ghost@acme.example', 'anything-at-all-1')).statusCode, 429);
  const events = await signInEvents(ctx);
  assert.ok(events.some((e) => e.action === 'auth.login_failed' && e.details.reason === 'throttled'));
  assert.ok(events.some((e) => e.details.accountLocked === true));

  // Spraying many accounts from one address: blocked once the address's budget is spent.
  await personWithPassword(ctx.database, 'other@acme.example');
  const spray = (i: number) =>
    ctx.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: `user${i}@acme.example`, password: 'wrong-guess-number-1' },
      anonymous: true,
      remoteAddress: '203.0.113.9',
    } as never);
  let blockedAt = -1;
  for (let i = 0; i < throttleLimits.ip.maxFailures + 1; i++) {
    const res = await spray(i);
    if (res.statusCode === 429) {
      blockedAt = i;
      break;
    }
  }
  assert.equal(blockedAt, throttleLimits.ip.maxFailures);
  const fromThere = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: 'other@acme.example', password: strongPassword },
    anonymous: true,
    remoteAddress: '203.0.113.9',
  } as never);
  assert.equal(fromThere.statusCode, 429);
  const elsewhere = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: 'other@acme.example', password: strongPassword },
    anonymous: true,
    remoteAddress: '198.51.100.7',
  } as never);
  assert.equal(elsewhere.statusCode, 200);
});

test('TOTP: enrolment, second-factor sign-in, no replay, single-use recovery codes; owners need it', async (t) => {
  const ctx = await buildTestApp(t);
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  const user = await personWithPassword(ctx.database, 'owner@acme.example');
  await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/members',
    payload: { email: 'owner@acme.example', role: 'owner' },
  });

  // Without a second factor the owner role is withheld.
  const first = await login(ctx, 'owner@acme.example', strongPassword);
  assert.equal(first.json().status, 'mfa_enrollment_required');
  let s = session(first);
  const blocked = await ctx.app.inject({
    method: 'GET',
    url: '/api/v1/workspaces/acme/controls',
    headers: { cookie: s.cookie },
  });
  assert.equal(blocked.statusCode, 403);
  assert.equal(blocked.json().code, 'mfa_required');

  const enrol = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/auth/totp/enroll',
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  assert.equal(enrol.statusCode, 200, enrol.body);
  const { secret, otpauthUri } = enrol.json();
  assert.match(otpauthUri, /^otpauth:\/\/totp\/Assay:owner%40acme\.example\?/);
  const storedSecret = await sql<{
    totp_pending_secret: string;
  }>`select totp_pending_secret from users where id = ${user.id}`.execute(ctx.database.db);
  assert.ok(!storedSecret.rows[0]!.totp_pending_secret.includes(secret), 'the seed is stored sealed');

  const badConfirm = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/auth/totp/confirm',
    payload: { code: '000000' },
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  assert.equal(badConfirm.statusCode, 401);
  const confirm = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/auth/totp/confirm',
    payload: { code: totpCode(secret) },
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  assert.equal(confirm.statusCode, 200, confirm.body);
  const recoveryCodes: string[] = confirm.json().recoveryCodes;
  assert.equal(recoveryCodes.length, 10);
  const elevated = session(confirm);
  assert.notEqual(elevated.token, s.token, 'privileges rose: the session id changed');
  assert.equal(
    (await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: s.cookie } }))
      .statusCode,
    401,
  );
  const nowAllowed = await ctx.app.inject({
    method: 'GET',
    url: '/api/v1/workspaces/acme/controls',
    headers: { cookie: elevated.cookie },
  });
  assert.equal(nowAllowed.statusCode, 200, nowAllowed.body);

  // Next sign-in: password, then a code.
  const step1 = await login(ctx, 'owner@acme.example', strongPassword);
  assert.equal(step1.json().status, 'mfa_required');
  s = session(step1);
  const pendingUse = await ctx.app.inject({
    method: 'GET',
    url: '/api/v1/workspaces/acme/controls',
    headers: { cookie: s.cookie },
  });
  assert.equal(pendingUse.statusCode, 401, 'a half-finished sign-in is not a session');
  const second = (body: object, c = s) =>
    ctx.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login/totp',
      payload: body,
      headers: { cookie: c.cookie, 'x-csrf-token': c.csrf },
    });
  const noCsrf = await ctx.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login/totp',
    payload: { code: '123456' },
    headers: { cookie: s.cookie },
  });
  assert.equal(noCsrf.json().code, 'csrf_failed');
  // The code accepted at enrolment cannot be used again (its time step is marked used).
  const enrolled = await sql<{
    step: number;
  }>`select totp_last_step as step from users where id = ${user.id}`.execute(ctx.database.db);
  const replay = await second({ code: totpCode(secret, Number(enrolled.rows[0]!.step) * 30_000) });
  assert.equal(replay.statusCode, 401);
  // A code of a step not yet used is accepted (whatever the clock did since enrolment).
  const now = Date.now();
  await sql`update users set totp_last_step = ${Math.floor(now / 30_000) - 1} where id = ${user.id}`.execute(
    ctx.database.db,
  );
  const done = await second({ code: totpCode(secret, now) });
  assert.equal(done.statusCode, 200, done.body);
  assert.equal(done.json().status, 'signed_in');
  const full = session(done);
  assert.notEqual(full.token, s.token);
  const me = (
    await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: full.cookie } })
  ).json();
  assert.equal(me.session.mfa, true);
  assert.equal(me.user.mfaEnabled, true);

  // A recovery code works once.
  s = session(await login(ctx, 'owner@acme.example', strongPassword));
  const recovered = await second({ recoveryCode: recoveryCodes[0]!.toUpperCase() });
  assert.equal(recovered.statusCode, 200, recovered.body);
  s = session(await login(ctx, 'owner@acme.example', strongPassword));
  const reused = await second({ recoveryCode: recoveryCodes[0]! });
  assert.equal(reused.statusCode, 401);
  const stored = await sql<{
    code_hash: string;
  }>`select code_hash from user_recovery_codes where user_id = ${user.id}`.execute(ctx.database.db);
  assert.equal(stored.rows.length, 10);
  assert.ok(
    !JSON.stringify(stored.rows).includes(recoveryCodes[1]!.replace(/-/g, '')),
    'recovery codes stored hashed',
  );

  const events = (await signInEvents(ctx)).map((e) => `${e.action}:${e.details.method}`);
  assert.ok(events.includes('auth.login_succeeded:password+totp'));
  assert.ok(events.includes('auth.login_succeeded:password+recovery_code'));
  assert.ok(events.includes('auth.login_failed:recovery_code'));
});

test('a workspace can require a second factor of every member', async (t) => {
  const ctx = await buildTestApp(t);
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  const reviewer = await ctx.asRole('reviewer', 'acme', { mfa: false });
  assert.equal((await reviewer({ method: 'GET', url: '/api/v1/workspaces/acme/controls' })).statusCode, 200);
  const policy = await ctx.app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/security-policy',
    payload: { requireMfa: true },
  });
  assert.equal(policy.statusCode, 200, policy.body);
  const now = await reviewer({ method: 'GET', url: '/api/v1/workspaces/acme/controls' });
  assert.equal(now.statusCode, 403);
  assert.equal(now.json().code, 'mfa_required');
});
