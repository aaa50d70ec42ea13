/** `assay serve` serves the built web app: its files, index.html for app paths, and never the app for API paths. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import type { App } from '../../src/http/app.ts';
import { registerWebApp } from '../../src/http/web-app.ts';
import { buildTestApp } from '../helpers/app.ts';

function builtApp(): string {
  const root = mkdtempSync(join(tmpdir(), 'assay-web-dist-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  return root;
}

test('app files, index.html for app routes, 404 for missing assets and for paths outside the build', async (t) => {
  const app = Fastify();
  t.after(() => app.close());
  registerWebApp(app as unknown as App, builtApp());
  const index = await app.inject('/w/acme/controls/AC-01');
  assert.equal(index.statusCode, 200);
  assert.match(index.headers['content-type'] as string, /text\/html/);
  assert.match(index.body, /id="root"/);
  const asset = await app.inject('/assets/index-abc.js');
  assert.equal(asset.statusCode, 200);
  assert.match(asset.headers['content-type'] as string, /javascript/);
  assert.match(asset.headers['cache-control'] as string, /immutable/);
  assert.equal((await app.inject('/assets/missing.js')).statusCode, 404);
  const outside = await app.inject('/..%2f..%2f..%2fetc%2fpasswd');
  assert.equal(outside.statusCode, 200);
  assert.match(outside.body, /id="root"/, 'a path outside the build is just an app route');
});

test('API, SCIM, webhook, OpenAPI and health paths keep their JSON answers; the page is served under the CSP', async (t) => {
  const { app } = await buildTestApp(t);
  const unknownApi = await app.inject('/api/v1/no-such-thing');
  assert.equal(unknownApi.statusCode, 404);
  assert.equal(unknownApi.json().code, 'route_not_found');
  assert.equal((await app.inject('/healthz')).json().status, 'ok');
  assert.equal((await app.inject('/openapi.json')).statusCode, 200);
  assert.equal((await app.inject('/webhooks/nothing')).statusCode, 404);
  assert.notEqual((await app.inject('/scim/v2/x/Users')).headers['content-type'], 'text/html; charset=utf-8');
  const page = await app.inject('/portfolio/bluepeak');
  assert.match(page.headers['content-security-policy'] as string, /default-src 'self'/);
  assert.ok(page.statusCode === 200 || page.statusCode === 404, 'index.html when built, a 404 when not');
});
