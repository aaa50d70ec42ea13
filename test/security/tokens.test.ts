/** API tokens through the API: scope, expiry, revocation, last use, and no way to escalate. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createApiToken } from '../../src/domains/accounts/tokens.service.ts';
import { AssayError } from '../../src/errors.ts';
import { buildTestApp } from '../helpers/app.ts';

test('a token made through the API: secret shown once and stored hashed, scoped, listed with last use, revocable', async (t) => {
  const ctx = await buildTestApp(t);
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  await ctx.app.inject({ method: 'PUT', url: '/api/v1/workspaces/acme/scope', payload: { categories: [] } });
  const owner = await ctx.asRole('owner', 'acme');

  const created = await owner({
    method: 'POST',
    url: '/api/v1/workspaces/acme/tokens',
    payload: { name: 'evidence bot', permissions: ['controls:read', 'evidence:write'], expiresInDays: 30 },
  });
  assert.equal(created.statusCode, 201, created.body);
  const { secret, token } = created.json();
  assert.match(secret, /^assay_tk_[A-Za-z0-9_-]{43}$/);
  assert.equal(token.status, 'active');
  assert.equal(token.lastUsedAt, null);
  assert.equal(token.createdBy, `user:${owner.credentials.userId}`);
  const stored = await sql<{ secret_hash: string }>`select secret_hash from api_tokens`.execute(
    ctx.database.db,
  );
  assert.ok(!JSON.stringify(stored.rows).includes(secret.slice(9)), 'only the hash is stored');

  const bearer = { authorization: `Bearer ${secret}` };
  const read = await ctx.app.inject({
    method: 'GET',
    url: '/api/v1/workspaces/acme/controls',
    headers: bearer,
  });
  assert.equal(read.statusCode, 200);
  const controlId = read.json().controls[0].id;
  // Outside its permissions: refused, and nothing changes.
  for (const [method, url, payload] of [
    ['PATCH', `/api/v1/workspaces/acme/controls/${controlId}`, { owner: 'bot@acme.example' }],
    ['GET', '/api/v1/workspaces/acme/members', undefined],
    ['GET', '/api/v1/workspaces/acme/tokens', undefined],
    ['PUT', '/api/v1/workspaces/acme/scope', { categories: ['privacy'] }],
    ['GET', '/api/v1/auth/session', undefined],
  ] as const) {
    const res = await ctx.app.inject({ method, url, headers: bearer, ...(payload ? { payload } : {}) });
    assert.equal(res.statusCode, 403, `${method} ${url}`);
  }
  const listed = (await owner({ method: 'GET', url: '/api/v1/workspaces/acme/tokens' })).json().tokens;
  assert.equal(listed.length, 1);
  assert.ok(listed[0].lastUsedAt !== null, 'last use is shown');
  assert.ok(!JSON.stringify(listed).includes(secret));
  const trail = (await owner({ method: 'GET', url: '/api/v1/workspaces/acme/audit-trail' })).json().entries;
  const createdEntry = trail.find((e: { action: string }) => e.action === 'token.created');
  assert.deepEqual(createdEntry.actor, { type: 'user', id: owner.credentials.userId });
  assert.ok(!JSON.stringify(trail).includes(secret));

  // Changes made with a token are attributed to the token.
  const writer = await ctx.asToken('acme', ['controls:write']);
  await writer({
    method: 'PATCH',
    url: `/api/v1/workspaces/acme/controls/${controlId}`,
    payload: { owner: 'x@acme.example' },
  });
  const byToken = (await owner({ method: 'GET', url: '/api/v1/workspaces/acme/audit-trail' })).json()
    .entries[0];
  assert.equal(byToken.action, 'control.owner_assigned');
  assert.deepEqual(byToken.actor, { type: 'token', id: writer.tokenId });

  const revoked = await owner({ method: 'DELETE', url: `/api/v1/workspaces/acme/tokens/${token.id}` });
  assert.equal(revoked.statusCode, 200);
  assert.equal(revoked.json().status, 'revoked');
  const after = await ctx.app.inject({
    method: 'GET',
    url: '/api/v1/workspaces/acme/controls',
    headers: bearer,
  });
  assert.equal(after.statusCode, 401);
  assert.match(after.json().message, /revoked/);
});

test('expired, unknown, malformed and tampered tokens are refused with 401', async (t) => {
  const ctx = await buildTestApp(t);
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  const token = await ctx.asToken('acme', ['workspace:read']);
  assert.equal((await token({ method: 'GET', url: '/api/v1/workspaces/acme' })).statusCode, 200);
  const send = (authorization: string) =>
    ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/acme', headers: { authorization } });
  for (const header of [
    `Bearer ${token.secret.slice(0, -1)}${token.secret.endsWith('A') ? 'B' : 'A'}`,
    'Bearer assay_tk_made-up',
    'Bearer not-an-assay-token',
    `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    'Bearer',
    `bearer  ${token.secret} extra`,
  ]) {
    const res = await send(header);
    assert.equal(res.statusCode, 401, header);
    assert.equal(res.json().code, 'unauthenticated');
  }
  await sql`update api_tokens set expires_at = now() - interval '1 second' where id = ${token.tokenId}`.execute(
    ctx.database.db,
  );
  const expired = await token({ method: 'GET', url: '/api/v1/workspaces/acme' });
  assert.equal(expired.statusCode, 401);
  assert.match(expired.json().message, /expired/);
  const listed = (await ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/tokens' })).json()
    .tokens;
  assert.equal(listed[0].status, 'expired');
});

test('no escalation: tokens cannot mint tokens, grants stay within the creator’s rights, lifetimes are bounded', async (t) => {
  const ctx = await buildTestApp(t);
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  const manager = await ctx.asToken('acme', ['tokens:manage', 'tokens:read']);
  const minted = await manager({
    method: 'POST',
    url: '/api/v1/workspaces/acme/tokens',
    payload: { name: 'child', permissions: ['tokens:read'] },
  });
  assert.equal(minted.statusCode, 403);
  assert.match(minted.json().message, /cannot create API tokens/);
  await assert.rejects(
    createApiToken(
      ctx.database,
      { actor: { type: 'user', id: 'u' }, userId: null, grantable: new Set(['controls:read']) },
      'acme',
      { name: 'wider', permissions: ['controls:read', 'members:manage'] },
    ),
    (e: unknown) => e instanceof AssayError && e.code === 'forbidden' && /members:manage/.test(e.message),
  );
  for (const payload of [
    { name: 'x', permissions: ['root'] },
    { name: 'x', permissions: [] },
    { name: 'x', permissions: ['controls:read'], expiresInDays: 400 },
    { name: 'x', permissions: ['workspaces:create'] },
  ]) {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces/acme/tokens', payload });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
  }
});

test('removing a member revokes the tokens they created; the last owner cannot be removed; only owners grant owner', async (t) => {
  const ctx = await buildTestApp(t);
  await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  const owner = await ctx.asRole('owner', 'acme');
  const admin = await ctx.asRole('admin', 'acme');
  const made = await admin({
    method: 'POST',
    url: '/api/v1/workspaces/acme/tokens',
    payload: { name: 'admin script', permissions: ['workspace:read'] },
  });
  assert.equal(made.statusCode, 201, made.body);
  const bearer = { authorization: `Bearer ${made.json().secret}` };
  assert.equal(
    (await ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/acme', headers: bearer })).statusCode,
    200,
  );

  const grantOwner = await admin({
    method: 'POST',
    url: '/api/v1/workspaces/acme/members',
    payload: { email: 'friend@acme.example', role: 'owner' },
  });
  assert.equal(grantOwner.statusCode, 403);
  const demoteOwner = await admin({
    method: 'POST',
    url: '/api/v1/workspaces/acme/members',
    payload: { email: owner.credentials.email, role: 'employee' },
  });
  assert.equal(demoteOwner.statusCode, 403);
  const removeOwner = await admin({
    method: 'DELETE',
    url: `/api/v1/workspaces/acme/members/${encodeURIComponent(owner.credentials.email)}`,
  });
  assert.equal(removeOwner.statusCode, 403);
  const lastOwner = await owner({
    method: 'DELETE',
    url: `/api/v1/workspaces/acme/members/${encodeURIComponent(owner.credentials.email)}`,
  });
  assert.equal(lastOwner.statusCode, 409);
  assert.equal(lastOwner.json().code, 'last_owner');

  const removed = await owner({
    method: 'DELETE',
    url: `/api/v1/workspaces/acme/members/${encodeURIComponent(admin.credentials.email)}`,
  });
  assert.equal(removed.statusCode, 204);
  assert.equal(
    (await ctx.app.inject({ method: 'GET', url: '/api/v1/workspaces/acme', headers: bearer })).statusCode,
    401,
  );
  assert.equal((await admin({ method: 'GET', url: '/api/v1/workspaces/acme' })).statusCode, 403);
});
