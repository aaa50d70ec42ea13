/**
 * The monitoring API: listing checks, running them (as of an instant, named checks), tuning a
 * check's settings, adding custom CEL checks (parse errors are 400 naming the column), a
 * control's timeline, and policy statements showing whether practice matches them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../../../test/helpers/app.ts';
import { setScope } from '../scope/scope.service.ts';
import { createWorkspace } from '../workspaces/workspaces.service.ts';
import { CheckWorkspace, credentialReport, tester } from './checks/check-testing.ts';

test('checks, runs, settings, custom checks, timelines and policy statements over the API', async (t) => {
  const { app, database, asRole } = await buildTestApp(t);
  const row = await createWorkspace(database, tester, { slug: 'acme' });
  await setScope(database, tester, 'acme', ['security']);
  const ws = new CheckWorkspace(database, 'acme', row.id);
  const report = (mfa: boolean) =>
    credentialReport({
      user: 'alice@acme.test',
      password: true,
      mfa,
      passwordLastUsed: '2026-09-30T00:00:00+00:00',
    });
  await ws.import('aws-iam-credential-report', report(false), '2026-10-01T00:00:00Z');
  const get = (url: string) => app.inject({ method: 'GET', url: `/api/v1/workspaces/acme${url}` });
  const send = (method: 'POST' | 'PUT', url: string, payload: object) =>
    app.inject({ method, url: `/api/v1/workspaces/acme${url}`, payload });

  const checks = (await get('/checks')).json().checks as {
    id: string;
    controls: string[];
    enabled: boolean;
  }[];
  assert.ok(checks.length >= 30);
  const mfa = checks.find((c) => c.id === 'identity.mfa_enabled');
  assert.deepEqual(mfa?.controls, ['AC-02']);
  assert.equal(mfa?.enabled, true);

  // Run named checks as of an instant.
  const run = await send('POST', '/checks/run', {
    asOf: '2026-10-01T00:00:00Z',
    checks: ['identity.mfa_enabled'],
  });
  assert.equal(run.statusCode, 200);
  assert.equal(run.json().asOf, '2026-10-01T00:00:00.000Z');
  assert.equal(run.json().checks, 1);
  assert.equal(run.json().findingsOpened, 1);
  assert.ok(
    run
      .json()
      .drift.some((d: { control: string; to: string }) => d.control === 'AC-02' && d.to === 'failing'),
  );
  const unknown = await send('POST', '/checks/run', { checks: ['identity.nope'] });
  assert.equal(unknown.statusCode, 400);
  assert.match(unknown.json().message, /unknown check "identity.nope"/);
  assert.equal((await send('POST', '/checks/run', { asOf: 'yesterday' })).statusCode, 400);

  // Settings.
  const tuned = await send('PUT', '/checks/identity.dormant_accounts/settings', {
    settings: { dormantDays: 30 },
  });
  assert.equal(tuned.statusCode, 200);
  assert.equal(tuned.json().settings.dormantDays, 30);
  const badKey = await send('PUT', '/checks/identity.dormant_accounts/settings', { settings: { days: 30 } });
  assert.equal(badKey.statusCode, 400);
  assert.match(badKey.json().message, /has no setting "days"/);
  assert.equal((await send('PUT', '/checks/identity.nope/settings', { enabled: false })).statusCode, 404);
  const off = await send('PUT', '/checks/identity.dormant_accounts/settings', { enabled: false });
  assert.equal(off.json().enabled, false);

  // Custom checks: a bad expression names the column.
  const custom = {
    id: 'passwords-need-mfa',
    title: 'Console passwords come with MFA',
    subjectKind: 'identity',
    expression: 'identity.passwordEnabled != true || identity.mfaEnabled == true',
    severity: 'high',
    criteria: ['CC6.1'],
    controls: ['AC-02'],
  };
  const broken = await send('POST', '/checks/custom', { ...custom, expression: 'identity.mfaEnabled == (' });
  assert.equal(broken.statusCode, 400);
  assert.equal(broken.json().code, 'validation_failed');
  assert.match(broken.json().message, /^expression: column \d+: /);
  const added = await send('POST', '/checks/custom', custom);
  assert.equal(added.statusCode, 201);
  assert.equal(added.json().id, 'custom.passwords-need-mfa');
  assert.equal((await send('POST', '/checks/custom', custom)).statusCode, 409);
  const customRun = await send('POST', '/checks/run', {
    asOf: '2026-10-01T01:00:00Z',
    checks: ['custom.passwords-need-mfa'],
  });
  assert.equal(customRun.json().findingsOpened, 1);
  const findings = (await get('/findings?check=custom.passwords-need-mfa')).json().findings;
  assert.equal(findings[0].subject.name, 'alice@acme.test');
  assert.deepEqual(findings[0].controlIds, ['AC-02']);

  // Policy statement linked to both: contradicted by their open findings.
  const statement = await send('POST', '/policy-statements', {
    statement: 'MFA is required for all remote access',
    checks: ['identity.mfa_enabled'],
  });
  assert.equal(statement.statusCode, 201);
  assert.equal(statement.json().practice.status, 'contradicted');
  const relinked = await send('PUT', `/policy-statements/${statement.json().id}/checks`, {
    checks: ['identity.mfa_enabled', 'custom.passwords-need-mfa'],
  });
  assert.equal(relinked.json().practice.openFindings.length, 2);
  assert.equal(
    (await send('PUT', `/policy-statements/${statement.json().id}/checks`, { checks: ['identity.nope'] }))
      .statusCode,
    404,
  );

  // Alice enrols MFA: both findings close, the statement matches, the control's timeline shows it.
  await ws.import('aws-iam-credential-report', report(true), '2026-10-03T00:00:00Z');
  await send('POST', '/checks/run', { asOf: '2026-10-03T00:00:00Z' });
  const [listed] = (await get('/policy-statements')).json().statements;
  assert.equal(listed.practice.status, 'matches');
  assert.equal((await get(`/policy-statements/${listed.id}`)).json().practice.matches, true);
  const timeline = await get('/controls/AC-02/timeline');
  assert.equal(timeline.statusCode, 200);
  assert.deepEqual(
    timeline.json().intervals.map((i: { status: string; from: string }) => [i.status, i.from]),
    [
      ['failing', '2026-10-01T00:00:00.000Z'],
      ['passing', '2026-10-03T00:00:00.000Z'],
    ],
  );
  assert.equal((await get('/controls/ZZ-99/timeline')).statusCode, 404);

  // The OpenAPI document describes the new routes; permissions are enforced.
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  for (const path of [
    'checks/run',
    'checks/custom',
    'controls/{control}/timeline',
    'policy-statements',
    'findings/{finding}',
    'exceptions',
  ]) {
    assert.ok(doc.paths[`/api/v1/workspaces/{workspace}/${path}`], `${path} documented`);
  }
  const reviewer = await asRole('reviewer', 'acme');
  assert.equal(
    (await reviewer({ method: 'POST', url: '/api/v1/workspaces/acme/checks/run', payload: {} })).statusCode,
    403,
  );
  assert.equal(
    (
      await reviewer({
        method: 'POST',
        url: '/api/v1/workspaces/acme/checks/custom',
        payload: { ...custom, id: 'x' },
      })
    ).statusCode,
    403,
  );
  assert.equal(
    (await reviewer({ method: 'GET', url: '/api/v1/workspaces/acme/controls/AC-02/timeline' })).statusCode,
    200,
  );
});
