/**
 * Per-workspace check settings: keys and types are validated against the check's own settings,
 * the engine evaluates with them, a disabled check is not evaluated, and reset returns to the
 * defaults.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isAssayError } from '../../errors.ts';
import {
  type CheckBench,
  cloudTrail,
  githubEvent,
  githubLog,
  oktaEvent,
  oktaLog,
  oktaUser,
  openCheckBench,
  roster,
  tester,
  trailRecord,
} from './checks/check-testing.ts';
import { configureCheck, listWorkspaceChecks } from './checks.service.ts';

let bench: CheckBench;
before(async () => {
  bench = await openCheckBench();
});
after(() => bench.close());

const leaver = 'identity.leaver_access_removed';

async function rejects(promise: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(promise, (e) => isAssayError(e) && e.code === code && message.test(e.message));
}

test('settings are validated against the check: unknown checks, unknown keys and wrong types are refused', async () => {
  const ws = await bench.workspace();
  const configure = (check: string, set: Record<string, unknown>) =>
    configureCheck(ws.database, tester, ws.slug, check, { set });
  await rejects(configure('identity.nope', {}), 'check_not_found', /"identity.nope" does not exist/);
  await rejects(
    configure(leaver, { deadline: 48 }),
    'validation_failed',
    /^settings.deadline: .* has no setting "deadline" \(it has deadlineHours\)/,
  );
  await rejects(
    configure(leaver, { deadlineHours: 'soon' }),
    'validation_failed',
    /^settings.deadlineHours: .* expects a number/,
  );
  await rejects(configure(leaver, { deadlineHours: -1 }), 'validation_failed', /expects a number ≥ 0/);
  await rejects(
    configure('github.repository_public', { allowedPublic: 3 }),
    'validation_failed',
    /expects a string/,
  );
  await rejects(configure('identity.mfa_enabled', { anything: 1 }), 'validation_failed', /it has none/);

  const set = await configure(leaver, { deadlineHours: '48' });
  assert.equal(set.settings.deadlineHours, 48, 'a CLI string is stored as the number the check expects');
  assert.equal(set.defaults.deadlineHours, 24);
  const listed = (await listWorkspaceChecks(ws.database, ws.slug)).find((c) => c.id === leaver);
  assert.equal(listed?.settings.deadlineHours, 48);
  assert.deepEqual(listed?.controls, ['AC-04']);
});

test('the engine evaluates with the workspace settings; disabled checks are skipped; reset restores defaults', async () => {
  const ws = await bench.workspace();
  await ws.import('hr-roster', roster({ id: 'E2', name: 'Bob', email: 'bob@acme.test', end: '2026-10-10' }));
  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({
        type: 'user.lifecycle.create',
        at: '2026-01-01T00:00:00Z',
        target: oktaUser('bob@acme.test'),
      }),
    ),
  );
  // Bob's access had to end 24 hours after his last day (2026-10-12T00:00Z); with 72 hours, not yet.
  await configureCheck(ws.database, tester, ws.slug, leaver, { set: { deadlineHours: 72 } });
  await ws.run(leaver, '2026-10-12T12:00:00Z');
  await ws.expectPasses(leaver, 'bob@acme.test', /deadline 2026-10-14T00:00:00.000Z not yet passed/);

  const disabled = await configureCheck(ws.database, tester, ws.slug, leaver, { enabled: false });
  assert.equal(disabled.enabled, false);
  assert.equal(disabled.settings.deadlineHours, 72, 'disabling keeps the settings');
  const skipped = await ws.run(leaver, '2026-10-20T00:00:00Z');
  assert.equal(skipped.checks, 0);
  assert.equal(skipped.results, 0);

  await configureCheck(ws.database, tester, ws.slug, leaver, { enabled: true, reset: true });
  await ws.run(leaver, '2026-10-12T12:00:00Z');
  await ws.expectFails(leaver, 'bob@acme.test', /deadline 2026-10-12T00:00:00.000Z/);
  const audit = await ws.database.inWorkspace(ws.id, (trx) =>
    trx
      .selectFrom('audit_trail')
      .select('action')
      .where('workspace_id', '=', ws.id)
      .where('action', '=', 'check.configured')
      .execute(),
  );
  assert.equal(audit.length, 3);
});

test('string settings change what a check judges: administration ports and public repositories', async () => {
  const ws = await bench.workspace();
  const check = 'cloud.security_group_open_admin_ports';
  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      trailRecord({
        name: 'AuthorizeSecurityGroupIngress',
        at: '2026-10-01T00:00:00Z',
        user: 'dev',
        source: 'ec2.amazonaws.com',
        request: { groupId: 'sg-db', ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIp: '0.0.0.0/0' },
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectPasses(check, 'security group sg-db (aws-iam:111122223333)');
  await configureCheck(ws.database, tester, ws.slug, check, { set: { adminPorts: '22,3389,5432' } });
  await ws.run(check, '2026-10-02T01:00:00Z');
  await ws.expectFails(check, 'security group sg-db (aws-iam:111122223333)', /port 5432/);

  const visibility = 'github.repository_public';
  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'repo.create',
        at: '2026-10-01T00:00:00Z',
        actor: 'dev',
        repo: 'acme/sdk',
        visibility: 'public',
      }),
    ),
  );
  await ws.run(visibility, '2026-10-02T00:00:00Z');
  await ws.expectFails(visibility, 'acme/sdk');
  await configureCheck(ws.database, tester, ws.slug, visibility, {
    set: { allowedPublic: 'acme/sdk, acme/docs' },
  });
  await ws.run(visibility, '2026-10-02T01:00:00Z');
  await ws.expectPasses(visibility, 'acme/sdk', /public on purpose/);
  await ws.expectClosed(visibility, 'acme/sdk');
});
