import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTestApp } from '../helpers/app.ts';
import { cliHarness } from '../helpers/cli.ts';

test('API: an MSP user assigned to 2 of 3 clients sees 2 in the portfolio and cannot reach the third', async (t) => {
  const ctx = await buildTestApp(t);
  const post = (url: string, payload: unknown) =>
    ctx.app.inject({ method: 'POST', url, payload: payload as object });
  assert.equal((await post('/api/v1/workspaces', { slug: 'msp', kind: 'msp' })).statusCode, 201);
  for (const slug of ['c1', 'c2', 'c3']) {
    assert.equal((await post('/api/v1/workspaces', { slug, parent: 'msp' })).statusCode, 201);
  }
  const user = await ctx.asRole('compliance_manager', 'msp', { clients: ['c1', 'c2'] });

  const portfolio = await user({ method: 'GET', url: '/api/v1/workspaces/msp/portfolio?readiness=false' });
  assert.equal(portfolio.statusCode, 200, portfolio.body);
  assert.deepEqual(
    portfolio.json().clients.map((c: { client: string }) => c.client),
    ['c1', 'c2'],
  );
  // The admin sees all three.
  const all = await ctx.app.inject({
    method: 'GET',
    url: '/api/v1/workspaces/msp/portfolio?readiness=false',
  });
  assert.equal(all.json().clients.length, 3);

  for (const request of [
    { method: 'GET', url: '/api/v1/workspaces/c3/controls' },
    { method: 'GET', url: '/api/v1/workspaces/c3/findings' },
    { method: 'POST', url: '/api/v1/workspaces/c3/client-report', payload: {} },
    { method: 'POST', url: '/api/v1/workspaces/c3/exports', payload: { period: '2026-01-01..2026-03-31' } },
    { method: 'GET', url: '/api/v1/workspaces/c3/portability/export' },
  ] as const) {
    const res = await user(request);
    assert.ok([403, 404].includes(res.statusCode), `${request.method} ${request.url}: ${res.statusCode}`);
    assert.doesNotMatch(res.body, /c3-secret/);
  }
  // The reached clients work.
  const report = await user({
    method: 'POST',
    url: '/api/v1/workspaces/c1/client-report',
    payload: { colour: '#123456' },
  });
  assert.equal(report.statusCode, 200, report.body);
  assert.match(report.headers['content-type'] as string, /text\/html/);
  assert.match(report.body, /#123456/);
  const bad = await user({
    method: 'POST',
    url: '/api/v1/workspaces/c1/client-report',
    payload: { colour: 'red' },
  });
  assert.equal(bad.statusCode, 400);
});

test('CLI: --as narrows the portfolio, the client report and the client export to what the person reaches', async (t) => {
  const assay = await cliHarness(t);
  const dir = mkdtempSync(join(tmpdir(), 'assay-msp-iso-'));
  assert.equal((await assay('tenant', 'create', 'msp', '--kind', 'msp', '--name', 'Acme MSP')).code, 0);
  for (const slug of ['c1', 'c2', 'c3'])
    assert.equal((await assay('tenant', 'create', slug, '--parent', 'msp')).code, 0);
  const added = await assay(
    'member',
    'add',
    'pat@msp.example',
    '--tenant',
    'msp',
    '--role',
    'compliance_manager',
    '--clients',
    'c1,c2',
  );
  assert.equal(added.code, 0, added.stderr);

  const mine = await assay(
    '--json',
    'portfolio',
    '--tenant',
    'msp',
    '--as',
    'pat@msp.example',
    '--no-readiness',
  );
  assert.equal(mine.code, 0, mine.stderr);
  assert.deepEqual(
    mine.json().clients.map((c: { client: string }) => c.client),
    ['c1', 'c2'],
  );
  const operator = await assay('--json', 'portfolio', '--tenant', 'msp', '--no-readiness');
  assert.equal(operator.json().clients.length, 3);

  const out3 = join(dir, 'c3.html');
  const denied = await assay(
    '--json',
    'report',
    'client',
    '--tenant',
    'c3',
    '--out',
    out3,
    '--as',
    'pat@msp.example',
  );
  assert.equal(denied.code, 2);
  assert.equal(denied.json().error.code, 'workspace_not_found');
  assert.ok(!existsSync(out3));
  const zip3 = join(dir, 'c3.zip');
  const deniedExport = await assay(
    '--json',
    'tenant',
    'export',
    'c3',
    '--out',
    zip3,
    '--as',
    'pat@msp.example',
  );
  assert.equal(deniedExport.code, 2);
  assert.ok(!existsSync(zip3));

  // A report with branding, then a second one that reports the change since the first.
  const logo = join(dir, 'logo.svg');
  writeFileSync(logo, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
  const out1 = join(dir, 'c1.html');
  const first = await assay(
    '--json',
    'report',
    'client',
    '--tenant',
    'c1',
    '--out',
    out1,
    '--as',
    'pat@msp.example',
    '--colour',
    '#aa3300',
    '--logo',
    logo,
  );
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.json().previousReportAt, null);
  const html = readFileSync(out1, 'utf8');
  assert.match(html, /Acme MSP/);
  assert.match(html, /#aa3300/);
  assert.match(html, /data:image\/svg\+xml;base64,/);
  assert.match(html, /This is the first report/);
  const override = await assay('template', 'list', '--tenant', 'msp');
  assert.equal(override.code, 0);
  const second = await assay('--json', 'report', 'client', '--tenant', 'c1', '--out', out1);
  assert.ok(second.json().previousReportAt);
  assert.match(readFileSync(out1, 'utf8'), /Since the report of/);
  const badColour = await assay(
    '--json',
    'report',
    'client',
    '--tenant',
    'c1',
    '--out',
    out1,
    '--colour',
    'blue',
  );
  assert.equal(badColour.code, 2);
  assert.match(badColour.json().error.message, /colour "blue"/);
});
