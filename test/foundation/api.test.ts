import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCatalog } from '../../src/domains/catalog/catalog.loader.ts';
import { buildTestApp } from '../helpers/app.ts';

const expectedCriteria = (prefixes: string[]) =>
  loadCatalog()
    .criteria.filter((c) => prefixes.some((p) => c.id.startsWith(p)))
    .map((c) => c.id);

test('health and OpenAPI', async (t) => {
  const { app } = await buildTestApp(t);
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(health.statusCode, 200);
  assert.equal(health.json().status, 'ok');
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  assert.equal(doc.openapi, '3.0.3');
  assert.ok(doc.paths['/api/v1/workspaces/{workspace}/coverage'], 'coverage route documented');
  assert.ok(doc.paths['/api/v1/workspaces'].post.requestBody, 'request body schema documented');
});

test('workspaces: create, MSP with clients, and every kind of bad input', async (t) => {
  const { app } = await buildTestApp(t);
  const post = (payload: unknown) =>
    app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: payload as object });

  const msp = await post({ slug: 'bluepeak', name: 'BluePeak MSP', kind: 'msp' });
  assert.equal(msp.statusCode, 201);
  assert.equal(msp.json().kind, 'msp');
  const client = await post({ slug: 'acme', parent: 'bluepeak' });
  assert.equal(client.statusCode, 201);
  assert.equal(client.json().parentId, msp.json().id);
  assert.equal(client.json().catalogVersion, loadCatalog().version);

  const listed = await app.inject({ method: 'GET', url: '/api/v1/workspaces?parent=bluepeak' });
  assert.deepEqual(
    listed.json().workspaces.map((w: { slug: string }) => w.slug),
    ['acme'],
  );

  const duplicate = await post({ slug: 'acme' });
  assert.equal(duplicate.statusCode, 409);
  assert.equal(duplicate.json().code, 'workspace_exists');

  const badSlug = await post({ slug: 'Not A Slug' });
  assert.equal(badSlug.statusCode, 400);
  assert.equal(badSlug.json().code, 'validation_failed');
  assert.match(badSlug.json().message, /slug/);

  const unknownParent = await post({ slug: 'orphan', parent: 'nobody' });
  assert.equal(unknownParent.statusCode, 404);
  assert.equal(unknownParent.json().code, 'parent_workspace_not_found');

  const notMsp = await post({ slug: 'grandchild', parent: 'acme' });
  assert.equal(notMsp.statusCode, 409);
  assert.equal(notMsp.json().code, 'parent_not_msp');

  const extraField = await post({ slug: 'extra', colour: 'blue' });
  assert.equal(extraField.statusCode, 400);
  assert.match(extraField.json().message, /additional/i);

  const malformed = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces',
    headers: { 'content-type': 'application/json' },
    payload: '{"slug": "broken",',
  });
  assert.equal(malformed.statusCode, 400);
  assert.equal(malformed.json().code, 'invalid_json');

  const missing = await app.inject({ method: 'GET', url: '/api/v1/workspaces/nowhere' });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(Object.keys(missing.json()).sort(), ['code', 'message']);

  // Nothing half-written: only the two good workspaces exist.
  const all = await app.inject({ method: 'GET', url: '/api/v1/workspaces' });
  assert.deepEqual(
    all
      .json()
      .workspaces.map((w: { slug: string }) => w.slug)
      .sort(),
    ['acme', 'bluepeak'],
  );
});

test('scope → controls → coverage for security, availability and confidentiality', async (t) => {
  const { app } = await buildTestApp(t);
  await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  const scope = await app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/scope',
    payload: { categories: ['availability', 'confidentiality'] },
  });
  assert.equal(scope.statusCode, 200, scope.body);
  assert.deepEqual(scope.json().categories, ['security', 'availability', 'confidentiality']);
  assert.equal(scope.json().criteria, 38);

  const coverage = (await app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/coverage' })).json();
  const ids = coverage.criteria.map((c: { criterion: string }) => c.criterion);
  assert.deepEqual(ids, expectedCriteria(['CC', 'A1', 'C1']));
  assert.equal(ids.filter((id: string) => id.startsWith('CC')).length, 33);
  assert.equal(ids.filter((id: string) => id.startsWith('A1')).length, 3);
  assert.equal(ids.filter((id: string) => id.startsWith('C1')).length, 2);
  for (const entry of coverage.criteria) assert.ok(entry.controls.length > 0, `${entry.criterion} uncovered`);
  assert.deepEqual(coverage.gaps.uncovered, []);
  // Nobody owns anything yet: every covered criterion is an ownership gap.
  assert.equal(coverage.gaps.withoutOwner.length, 38);

  const controls = (await app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/controls' })).json()
    .controls;
  assert.ok(controls.length >= 20);
  for (const control of controls) {
    assert.ok(
      control.criteria.some((c: string) => ids.includes(c)),
      `${control.templateId} maps to no in-scope criterion`,
    );
  }

  // Assign owners by role; the gaps close.
  const roles = [...new Set(controls.map((c: { ownerRole: string }) => c.ownerRole))] as string[];
  for (const ownerRole of roles) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/workspaces/acme/controls/assign-owner',
      payload: { ownerRole, owner: `${ownerRole}@acme.example` },
    });
    assert.equal(res.statusCode, 200, res.body);
  }
  const after = (await app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/coverage' })).json();
  assert.deepEqual(after.gaps, { uncovered: [], withoutOwner: [], controlsWithoutOwner: [] });

  // Narrowing the scope sets controls aside instead of deleting them.
  const narrowed = (
    await app.inject({
      method: 'PUT',
      url: '/api/v1/workspaces/acme/scope',
      payload: { categories: ['security'] },
    })
  ).json();
  assert.equal(narrowed.criteria, 33);
  const narrowedCoverage = (
    await app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/coverage' })
  ).json();
  assert.equal(narrowedCoverage.criteria.length, 33);
});

test('scope: unknown category and unknown workspace are refused and nothing is written', async (t) => {
  const { app, database } = await buildTestApp(t);
  await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } });
  const securityControlCount = (
    await app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/controls' })
  ).json().controls.length;
  assert.ok(securityControlCount > 20, 'a new workspace starts with the Security controls');
  const bad = await app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/scope',
    payload: { categories: ['availability', 'uptime'] },
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().code, 'unknown_category');
  assert.match(bad.json().message, /"uptime"/);
  const counts = await database.withRawConnection((c) =>
    c.query<{ n: number; scope: string[] }>(
      'select (select count(*) from controls where active) as n, (select categories from workspace_scopes) as scope',
    ),
  );
  // Still only the Security scope every workspace starts with.
  assert.deepEqual(counts[0]!.scope, ['security']);
  assert.equal(Number(counts[0]!.n), securityControlCount);

  const wrongType = await app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/scope',
    payload: { categories: 'security' },
  });
  assert.equal(wrongType.statusCode, 400);
  assert.match(wrongType.json().message, /categories/);

  const missing = await app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/ghost/scope',
    payload: { categories: [] },
  });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().code, 'workspace_not_found');
});

test('systems in scope and the system-description draft', async (t) => {
  const { app } = await buildTestApp(t);
  await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces',
    payload: { slug: 'acme', name: 'Acme Analytics' },
  });
  await app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/scope',
    payload: { categories: ['availability'] },
  });
  const added = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/systems',
    payload: {
      name: 'payments-api',
      kind: 'application',
      environment: 'production',
      owner: 'cto@acme.example',
      dataClassification: 'restricted',
      description: 'Card payments',
    },
  });
  assert.equal(added.statusCode, 201, added.body);
  const dup = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/systems',
    payload: {
      name: 'payments-api',
      kind: 'application',
      environment: 'production',
      dataClassification: 'restricted',
    },
  });
  assert.equal(dup.statusCode, 400);
  const badKind = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/systems',
    payload: { name: 'x', kind: 'mainframe', environment: 'production', dataClassification: 'public' },
  });
  assert.equal(badKind.statusCode, 400);
  assert.match(badKind.json().message, /kind/);

  const draft = await app.inject({ method: 'GET', url: '/api/v1/workspaces/acme/system-description' });
  assert.equal(draft.statusCode, 200);
  assert.match(draft.headers['content-type'] as string, /text\/markdown/);
  assert.match(draft.body, /# System description — Acme Analytics/);
  assert.match(draft.body, /- Availability/);
  assert.match(
    draft.body,
    /\| payments-api \| production \| restricted \| cto@acme\.example \| Card payments \|/,
  );
});
