/** Security headers, refusing before reading, strict bodies, and answers that never show internals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { installAccessControl, routeTable } from '../../src/http/access.ts';
import { buildTestApp } from '../helpers/app.ts';

test('security headers on every answer; HSTS only over https', async (t) => {
  const { app, anonymous } = await buildTestApp(t);
  for (const res of [
    await anonymous({ method: 'GET', url: '/healthz' }),
    await anonymous({ method: 'GET', url: '/api/v1/workspaces' }),
    await anonymous({ method: 'GET', url: '/no/such/route' }),
    await app.inject({ method: 'GET', url: '/api/v1/workspaces' }),
  ]) {
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
    assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['strict-transport-security'], undefined);
  }
  const api = await app.inject({ method: 'GET', url: '/api/v1/workspaces' });
  assert.equal(api.headers['cache-control'], 'no-store');
  const https = await anonymous({
    method: 'GET',
    url: '/healthz',
    headers: { 'x-forwarded-proto': 'https' },
  });
  assert.equal(https.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
});

test('unauthenticated callers are refused before the body is read; oversized bodies get 413', async (t) => {
  const { app, anonymous } = await buildTestApp(t);
  const big = JSON.stringify({ slug: 'x', name: 'y'.repeat(11 * 1024 * 1024) });
  const refused = await anonymous({
    method: 'POST',
    url: '/api/v1/workspaces',
    payload: big,
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(refused.statusCode, 401);
  const tooLarge = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces',
    payload: big,
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(tooLarge.statusCode, 413);
  assert.equal(tooLarge.json().code, 'payload_too_large');
  // Strict bodies: no coercion, no unknown fields, no silently dropped fields.
  for (const payload of [{ slug: 123 }, { slug: 'ok-slug', admin: true }, { slug: ['ok-slug'] }]) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
  }
});

test('a server error says "internal error" and nothing else: no stack, no SQL', async (t) => {
  const { app, database } = await buildTestApp(t);
  await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  await database.withRawConnection((c) => c.exec('drop table controls cascade'));
  const res = await app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/controls' });
  assert.equal(res.statusCode, 500);
  assert.deepEqual(res.json(), { code: 'internal', message: 'internal error' });
  assert.doesNotMatch(res.body, /controls|relation|select|\.ts:/);
});

test('a route without an access rule refuses everyone, platform admins included', async (t) => {
  const { database } = await buildTestApp(t);
  // A server with the access hook, and a route registered the way a forgetful module would.
  const bare = Fastify();
  t.after(() => bare.close());
  installAccessControl(bare as never, database);
  bare.get('/forgotten', async () => ({ secret: 'data' }));
  bare.get('/declared', { config: { access: 'public' } }, async () => ({ ok: true }));
  bare.setErrorHandler((error: Error & { code?: string }, _request, reply) => {
    reply.status(error.code === 'forbidden' ? 403 : 500).send({ code: error.code, message: error.message });
  });
  const forgotten = await bare.inject({ method: 'GET', url: '/forgotten' });
  assert.equal(forgotten.statusCode, 403);
  assert.match(forgotten.json().message, /GET \/forgotten declares no access rule/);
  assert.equal((await bare.inject({ method: 'GET', url: '/declared' })).statusCode, 200);
  assert.deepEqual(
    routeTable(bare).map((r) => `${r.method} ${r.url} ${JSON.stringify(r.access)}`),
    [
      'GET /forgotten undefined',
      'HEAD /forgotten undefined',
      'GET /declared "public"',
      'HEAD /declared "public"',
    ],
  );
});
