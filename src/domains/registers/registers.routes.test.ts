import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../../../test/helpers/app.ts';

test('registers API: vendors, policies with self-acknowledgement, CSV export and import, access by role', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  assert.equal(
    (await app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { slug: 'acme' } })).statusCode,
    201,
  );
  await app.inject({
    method: 'PUT',
    url: '/api/v1/workspaces/acme/scope',
    payload: { categories: ['availability'] },
  });
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: object) =>
    app.inject({ method, url: `/api/v1/workspaces/acme${url}`, ...(payload ? { payload } : {}) });

  const created = await api('POST', '/vendors', {
    name: 'Cloudly',
    criticality: 'high',
    dataAccessed: ['customer data'],
  });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json().vendor.assurance.state, 'none');
  assert.ok(created.json().reviewTask?.dueAt);
  const doc = await api('POST', '/vendors/Cloudly/documents', {
    kind: 'soc2_type2',
    periodStart: '2025-10-01',
    periodEnd: '2026-09-30',
    auditor: 'Moss LLP',
    opinion: 'unqualified',
    cuecs: [{ reference: 'CUEC-1', description: 'Review access', control: null }],
  });
  assert.equal(doc.statusCode, 201, doc.body);
  assert.equal(doc.json().equivalentToReport, true);
  const mapped = await api('PUT', `/vendors/Cloudly/documents/${doc.json().id}/cuecs/CUEC-1`, {
    control: 'AC-03',
  });
  assert.equal(mapped.json().cuecs[0].control, 'AC-03');
  const vendor = (await api('GET', '/vendors/cloudly')).json();
  assert.equal(vendor.vendor.assurance.state, 'current');
  assert.equal(vendor.documents.length, 1);
  const bad = await api('POST', '/vendors', { name: 'X', criticality: 'extreme' });
  assert.equal(bad.statusCode, 400);
  assert.equal((await api('GET', '/vendors/nobody')).statusCode, 404);

  const policy = await api('POST', '/policies', {
    title: 'Code of Conduct',
    body: '# Be kind',
    controls: ['GOV-01'],
  });
  assert.equal(policy.statusCode, 201, policy.body);
  assert.equal(
    (await api('POST', '/policies/Code of Conduct/versions/1/approval', { approver: 'ceo@acme.example' }))
      .statusCode,
    200,
  );
  const published = await api('POST', '/policies/Code of Conduct/versions/1/publication', {});
  assert.equal(published.statusCode, 200, published.body);
  assert.equal(published.json().campaigns.length, 1);

  // An employee acknowledges for themselves, and may not read the registers.
  const employee = await ctx.asRole('employee', 'acme', { email: 'eve@acme.example' });
  const ack = await employee({
    method: 'POST',
    url: '/api/v1/workspaces/acme/policies/Code of Conduct/acknowledge',
    payload: { email: 'someone-else@acme.example' },
  });
  assert.equal(ack.statusCode, 201, ack.body);
  assert.deepEqual(
    [ack.json().email, ack.json().source, ack.json().version],
    ['eve@acme.example', 'self', 1],
  );
  assert.equal((await employee({ method: 'GET', url: '/api/v1/workspaces/acme/vendors' })).statusCode, 403);
  const acks = (await api('GET', '/policies/Code of Conduct/versions/1/acknowledgements')).json();
  assert.deepEqual(
    acks.acknowledgements.map((a: { email: string }) => a.email),
    ['eve@acme.example'],
  );

  // An auditor reads but does not write.
  const auditor = await ctx.asRole('auditor', 'acme');
  assert.equal((await auditor({ method: 'GET', url: '/api/v1/workspaces/acme/policies' })).statusCode, 200);
  assert.equal(
    (await auditor({ method: 'POST', url: '/api/v1/workspaces/acme/risks', payload: {} })).statusCode,
    403,
  );

  const csv = await api('GET', '/registers/vendors/export');
  assert.equal(csv.statusCode, 200);
  assert.match(csv.headers['content-type'] as string, /^text\/csv/);
  assert.match(csv.body, /^name,service,data_accessed,criticality/);
  const imported = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/registers/risks/import?fileName=risks.csv',
    headers: { 'content-type': 'text/csv' },
    payload:
      'reference,title,inherent_likelihood,inherent_impact,treatment\nR-1,Outage,3,4,mitigate\nR-2,Fraud,2,5,accept\n',
  });
  assert.equal(imported.statusCode, 200, imported.body);
  assert.deepEqual(imported.json(), {
    kind: 'risks',
    workspace: 'acme',
    rows: 2,
    created: 2,
    updated: 0,
    unchanged: 0,
  });
  const rejected = await app.inject({
    method: 'POST',
    url: '/api/v1/workspaces/acme/registers/risks/import',
    headers: { 'content-type': 'text/csv' },
    payload: 'reference,title,inherent_likelihood,inherent_impact,treatment\nR-3,Outage,9,4,mitigate\n',
  });
  assert.equal(rejected.statusCode, 400);
  assert.equal(rejected.json().code, 'import_rejected');
  assert.deepEqual(rejected.json().details.errors, [
    { line: 2, field: 'inherent_likelihood', message: "must be from 1 to 5 on this workspace's scale" },
  ]);
  const risks = (await api('GET', '/risks')).json();
  assert.deepEqual(
    risks.risks.map((r: { reference: string }) => r.reference),
    ['R-1', 'R-2'],
  );
  assert.equal(risks.risks[0].inherent.rating, 'high');

  const doc2 = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  for (const path of [
    '/vendors',
    '/risks',
    '/policies',
    '/incidents',
    '/training/assignments',
    '/changes',
    '/continuity-tests',
    '/registers/{kind}/import',
  ]) {
    assert.ok(doc2.paths[`/api/v1/workspaces/{workspace}${path}`], `${path} is documented`);
  }
});
