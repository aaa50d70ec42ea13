/**
 * The findings, tasks and exceptions API over a real evaluation: filters, a finding's detail with
 * its result history and tasks, exceptions created (suppressing the finding), listed and revoked
 * (reopening it), bad input as 400/404/409, and the permission each route requires.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../../../test/helpers/app.ts';
import { CheckWorkspace, credentialReport } from '../monitoring/checks/check-testing.ts';
import { createWorkspace } from '../workspaces/workspaces.service.ts';

test('findings, tasks and exceptions over the API', async (t) => {
  const { app, database, admin, asRole } = await buildTestApp(t);
  const row = await createWorkspace(database, { type: 'cli', id: 'test' }, { slug: 'acme' });
  const ws = new CheckWorkspace(database, 'acme', row.id);
  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'alice@acme.test', password: true, mfa: false, passwordLastUsed: '2026-09-30T00:00:00+00:00' },
      { user: 'bob@acme.test', password: true, mfa: true, passwordLastUsed: '2026-09-30T00:00:00+00:00' },
    ),
    '2026-10-01T00:00:00Z',
  );
  await ws.run(['identity.mfa_enabled', 'identity.dormant_accounts'], '2026-10-01T00:00:00Z');
  const get = (url: string) => app.inject({ method: 'GET', url: `/api/v1/workspaces/acme${url}` });
  const post = (url: string, payload: object) =>
    app.inject({ method: 'POST', url: `/api/v1/workspaces/acme${url}`, payload });

  // Lists and filters.
  const open = await get('/findings?status=open');
  assert.equal(open.statusCode, 200);
  assert.equal(open.json().findings.length, 1);
  const finding = open.json().findings[0];
  assert.equal(finding.checkId, 'identity.mfa_enabled');
  assert.equal(finding.subject.name, 'alice@acme.test');
  assert.deepEqual(finding.criteria, ['CC6.1', 'CC6.6']);
  assert.equal((await get('/findings?check=identity.dormant_accounts')).json().findings.length, 0);
  assert.equal((await get('/findings?severity=high')).json().findings.length, 1);
  const badFilter = await get('/findings?severity=urgent');
  assert.equal(badFilter.statusCode, 400);
  assert.match(badFilter.json().message, /^severity "urgent"/);

  // One finding with its history and tasks.
  await ws.run('identity.mfa_enabled', '2026-10-02T00:00:00Z');
  const detail = await get(`/findings/${finding.id}`);
  assert.equal(detail.statusCode, 200);
  assert.deepEqual(
    detail.json().results.map((r: { asOf: string; status: string }) => [r.asOf, r.status]),
    [
      ['2026-10-02T00:00:00.000Z', 'fail'],
      ['2026-10-01T00:00:00.000Z', 'fail'],
    ],
  );
  assert.ok(detail.json().results[0].evidenceId, 'each result is ledger evidence');
  assert.equal(detail.json().tasks.length, 1);
  assert.equal(detail.json().tasks[0].status, 'open');
  assert.equal(detail.json().exception, null);
  assert.equal((await get('/findings/00000000-0000-4000-8000-000000000000')).statusCode, 404);
  assert.equal((await get('/findings/not-an-id')).json().code, 'finding_not_found');

  const tasks = await get('/tasks?status=open');
  assert.equal(tasks.json().tasks.length, 1);
  assert.equal(tasks.json().tasks[0].findingId, finding.id);
  assert.equal((await get('/tasks?status=later')).statusCode, 400);

  // Exceptions: the caller cannot approve their own request.
  const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const request = {
    finding: finding.id,
    justification: 'Hardware key on order; compensating VPN restriction in place',
    approver: 'ciso@acme.test',
    expiresAt,
  };
  const selfApproved = await post('/exceptions', { ...request, approver: admin.email });
  assert.equal(selfApproved.statusCode, 400);
  assert.match(selfApproved.json().message, /also the requester/);
  const created = await post('/exceptions', request);
  assert.equal(created.statusCode, 201);
  assert.equal(created.json().exception.status, 'active');
  assert.equal(created.json().exception.requestedBy, admin.email);
  assert.ok(created.json().exception.evidenceId);
  assert.equal(created.json().suppressedFinding.status, 'suppressed');
  assert.equal((await post('/exceptions', request)).statusCode, 409);
  assert.equal((await get('/findings?status=suppressed')).json().findings.length, 1);
  assert.equal((await get('/tasks?status=open')).json().tasks.length, 0);
  const listed = await get('/exceptions?status=active');
  assert.deepEqual(
    listed.json().exceptions.map((e: { id: string }) => e.id),
    [created.json().exception.id],
  );
  assert.equal((await get(`/findings/${finding.id}`)).json().exception.id, created.json().exception.id);

  const exceptionId = created.json().exception.id;
  const revoked = await post(`/exceptions/${exceptionId}/revoke`, { reason: 'key arrived' });
  assert.equal(revoked.statusCode, 200);
  assert.equal(revoked.json().exception.status, 'revoked');
  assert.equal(revoked.json().reopenedFinding.status, 'open');
  assert.equal((await post(`/exceptions/${exceptionId}/revoke`, {})).statusCode, 400);
  assert.equal((await post('/exceptions/00000000-0000-4000-8000-000000000000/revoke', {})).statusCode, 404);

  // Permissions: a reviewer reads findings but may not decide exceptions.
  const reviewer = await asRole('reviewer', 'acme');
  assert.equal((await reviewer({ method: 'GET', url: '/api/v1/workspaces/acme/findings' })).statusCode, 200);
  const denied = await reviewer({
    method: 'POST',
    url: '/api/v1/workspaces/acme/exceptions',
    payload: { ...request, approver: 'someone@acme.test' },
  });
  assert.equal(denied.statusCode, 403);
  const stranger = await asRole(
    'compliance_manager',
    (await createWorkspace(database, { type: 'cli', id: 't' }, { slug: 'other' })).slug,
  );
  assert.equal(
    (await stranger({ method: 'GET', url: `/api/v1/workspaces/acme/findings/${finding.id}` })).statusCode,
    403,
  );
});
