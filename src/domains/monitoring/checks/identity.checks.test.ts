/**
 * Every check in identity.checks.ts, each over facts imported through the real import path in the
 * vendors' formats: subjects that must pass, subjects that must fail (event in → finding out,
 * matched by check id and subject), and the fix that closes the finding.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type CheckBench,
  cloudTrail,
  credentialReport,
  oktaEvent,
  oktaLog,
  oktaUser,
  openCheckBench,
  roster,
  trailRecord,
} from './check-testing.ts';

let bench: CheckBench;
before(async () => {
  bench = await openCheckBench();
});
after(() => bench.close());

const alice = oktaUser('alice@acme.test');
const bob = oktaUser('bob@acme.test');
const carol = oktaUser('carol@acme.test');
const dave = oktaUser('dave@acme.test');

test('identity.leaver_access_removed: a leaver with an active account past the deadline fails until it is deactivated', async () => {
  const check = 'identity.leaver_access_removed';
  const ws = await bench.workspace();
  await ws.import(
    'hr-roster',
    roster(
      { id: 'E1', name: 'Alice', email: 'alice@acme.test' },
      { id: 'E2', name: 'Bob', email: 'bob@acme.test', end: '2026-10-10' },
      { id: 'E3', name: 'Carol', email: 'carol@acme.test', end: '2026-10-10' },
      { id: 'E4', name: 'Dave', email: 'dave@acme.test', end: '2026-10-19' },
    ),
    '2026-10-01T00:00:00Z',
  );
  await ws.import(
    'okta-system-log',
    oktaLog(
      ...[alice, bob, carol, dave].map((u) =>
        oktaEvent({ type: 'user.lifecycle.create', at: '2026-01-05T00:00:00Z', target: u }),
      ),
      oktaEvent({ type: 'user.lifecycle.deactivate', at: '2026-10-10T18:00:00Z', target: carol }),
    ),
  );
  await ws.run(check, '2026-10-20T00:00:00Z');
  await ws.expectFails(check, 'bob@acme.test', /still has active accounts in okta/);
  await ws.expectPasses(check, 'carol@acme.test', /all 1 accounts disabled/);
  // Dave left yesterday: his deadline has not passed yet.
  await ws.expectPasses(check, 'dave@acme.test', /not yet passed/);
  await ws.expectNotJudged(check, 'alice@acme.test');

  await ws.import(
    'okta-system-log',
    oktaLog(oktaEvent({ type: 'user.lifecycle.deactivate', at: '2026-10-21T09:00:00Z', target: bob })),
  );
  const run = await ws.run(check, '2026-10-22T00:00:00Z');
  await ws.expectClosed(check, 'bob@acme.test');
  assert.equal(run.findingsClosed, 1);
  // Dave's deadline has passed now, and his account is still active.
  await ws.expectFails(check, 'dave@acme.test');
});

test('identity.leaver_login_after_termination: a sign-in after the last day fails; it closes once outside the window', async () => {
  const check = 'identity.leaver_login_after_termination';
  const ws = await bench.workspace();
  await ws.import(
    'hr-roster',
    roster(
      { id: 'E2', name: 'Bob', email: 'bob@acme.test', end: '2026-10-10' },
      { id: 'E3', name: 'Carol', email: 'carol@acme.test', end: '2026-10-10' },
    ),
  );
  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({ type: 'user.session.start', at: '2026-10-09T09:00:00Z', target: carol }),
      oktaEvent({ type: 'user.session.start', at: '2026-10-15T09:00:00Z', target: bob }),
    ),
  );
  await ws.run(check, '2026-10-20T00:00:00Z');
  await ws.expectFails(check, 'bob@acme.test', /1 sign-ins after leaving, the latest 2026-10-15/);
  await ws.expectPasses(check, 'carol@acme.test');

  await ws.run(check, '2027-01-20T00:00:00Z');
  await ws.expectClosed(check, 'bob@acme.test');
});

test('identity.orphaned_accounts: an account with no person fails until HR lists them', async () => {
  const check = 'identity.orphaned_accounts';
  const ws = await bench.workspace();
  await ws.import('hr-roster', roster({ id: 'E1', name: 'Alice', email: 'alice@acme.test' }));
  const temp = oktaUser('temp.helpdesk@acme.test');
  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({ type: 'user.lifecycle.create', at: '2026-09-01T00:00:00Z', target: alice }),
      oktaEvent({ type: 'user.lifecycle.create', at: '2026-09-01T00:00:00Z', target: temp }),
    ),
  );
  await ws.run(check, '2026-10-01T00:00:00Z');
  await ws.expectFails(check, 'temp.helpdesk@acme.test', /no person in HR/);
  await ws.expectPasses(check, 'alice@acme.test', /belongs to alice@acme.test/);

  await ws.import(
    'hr-roster',
    roster(
      { id: 'E1', name: 'Alice', email: 'alice@acme.test' },
      { id: 'E9', name: 'Temp Helpdesk', email: 'temp.helpdesk@acme.test' },
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectClosed(check, 'temp.helpdesk@acme.test');
  await ws.expectPasses(check, 'temp.helpdesk@acme.test');
});

test('identity.service_account_owner: a key-only IAM user fails until declared with an owner', async () => {
  const check = 'identity.service_account_owner';
  const ws = await bench.workspace();
  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'svc-deploy', keys: [{ active: true, rotated: '2026-09-01T00:00:00+00:00' }] },
      { user: 'svc-backup', keys: [{ active: true, rotated: '2026-09-01T00:00:00+00:00' }] },
      { user: 'alice@acme.test', password: true, mfa: true },
    ),
    '2026-10-01T00:00:00Z',
  );
  await ws.declareNonHuman('svc-backup', 'ops@acme.test');
  await ws.run(check, '2026-10-01T00:00:00Z');
  await ws.expectFails(check, 'svc-deploy', /no owner declared/);
  await ws.expectPasses(check, 'svc-backup', /owned by ops@acme.test/);
  await ws.expectNotJudged(check, 'alice@acme.test');

  await ws.declareNonHuman('svc-deploy', 'platform@acme.test');
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectClosed(check, 'svc-deploy');
  await ws.expectPasses(check, 'svc-deploy', /owned by platform@acme.test/);
});

test('identity.mfa_enabled: a console password without MFA fails until a later report shows MFA', async () => {
  const check = 'identity.mfa_enabled';
  const ws = await bench.workspace();
  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'alice@acme.test', password: true, mfa: false },
      { user: 'bob@acme.test', password: true, mfa: true },
    ),
    '2026-10-01T00:00:00Z',
  );
  await ws.run(check, '2026-10-01T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /password but has no MFA/);
  await ws.expectPasses(check, 'bob@acme.test');

  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'alice@acme.test', password: true, mfa: true },
      { user: 'bob@acme.test', password: true, mfa: true },
    ),
    '2026-10-02T00:00:00Z',
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test('identity.login_without_mfa: a password-only sign-in fails; it closes once outside the window', async () => {
  const check = 'identity.login_without_mfa';
  const ws = await bench.workspace();
  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({ type: 'user.session.start', at: '2026-10-01T09:00:00Z', target: alice, mfa: false }),
      oktaEvent({ type: 'user.session.start', at: '2026-10-01T09:00:00Z', target: bob, mfa: true }),
    ),
  );
  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      trailRecord({
        name: 'ConsoleLogin',
        at: '2026-10-02T09:00:00Z',
        user: 'carol@acme.test',
        source: 'signin.amazonaws.com',
        response: { ConsoleLogin: 'Success' },
        additional: { MFAUsed: 'No' },
      }),
    ),
  );
  await ws.run(check, '2026-10-05T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /1 sign-ins without MFA/);
  await ws.expectFails(check, 'carol@acme.test', /ConsoleLogin/);
  await ws.expectPasses(check, 'bob@acme.test', /all with MFA/);

  await ws.run(check, '2026-11-15T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test('identity.dormant_accounts: a console password unused for 90 days fails until it is used', async () => {
  const check = 'identity.dormant_accounts';
  const ws = await bench.workspace();
  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'alice@acme.test', password: true, mfa: true, passwordLastUsed: '2026-05-01T00:00:00+00:00' },
      { user: 'bob@acme.test', password: true, mfa: true, passwordLastUsed: '2026-09-20T00:00:00+00:00' },
    ),
    '2026-10-01T00:00:00Z',
  );
  await ws.run(check, '2026-10-01T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /unused for 153 days/);
  await ws.expectPasses(check, 'bob@acme.test', /last used 2026-09-20/);

  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'alice@acme.test', password: true, mfa: true, passwordLastUsed: '2026-10-02T08:00:00+00:00' },
      { user: 'bob@acme.test', password: true, mfa: true, passwordLastUsed: '2026-09-20T00:00:00+00:00' },
    ),
    '2026-10-03T00:00:00Z',
  );
  await ws.run(check, '2026-10-03T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test('identity.access_key_age: a key older than 90 days fails until it is rotated', async () => {
  const check = 'identity.access_key_age';
  const ws = await bench.workspace();
  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'alice@acme.test', keys: [{ active: true, rotated: '2026-01-01T00:00:00+00:00' }] },
      { user: 'bob@acme.test', keys: [{ active: true, rotated: '2026-09-01T00:00:00+00:00' }] },
    ),
    '2026-10-01T00:00:00Z',
  );
  await ws.run(check, '2026-10-01T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /last rotated 273 days ago/);
  await ws.expectPasses(check, 'bob@acme.test');

  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'alice@acme.test', keys: [{ active: true, rotated: '2026-10-02T00:00:00+00:00' }] },
      { user: 'bob@acme.test', keys: [{ active: true, rotated: '2026-09-01T00:00:00+00:00' }] },
    ),
    '2026-10-03T00:00:00Z',
  );
  await ws.run(check, '2026-10-03T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test('identity.unused_access_keys: an active key unused for 90 days fails until it is deactivated', async () => {
  const check = 'identity.unused_access_keys';
  const ws = await bench.workspace();
  const report = (aliceActive: boolean) =>
    credentialReport(
      {
        user: 'alice@acme.test',
        keys: [
          {
            active: aliceActive,
            rotated: '2026-01-01T00:00:00+00:00',
            lastUsed: '2026-05-01T00:00:00+00:00',
          },
        ],
      },
      {
        user: 'bob@acme.test',
        keys: [{ active: true, rotated: '2026-01-01T00:00:00+00:00', lastUsed: '2026-09-25T00:00:00+00:00' }],
      },
    );
  await ws.import('aws-iam-credential-report', report(true), '2026-10-01T00:00:00Z');
  await ws.run(check, '2026-10-01T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /1 active access keys unused/);
  await ws.expectPasses(check, 'bob@acme.test');

  await ws.import('aws-iam-credential-report', report(false), '2026-10-02T00:00:00Z');
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test('identity.root_account_use: root passes while unused, fails on a console login, closes when it ages out', async () => {
  const check = 'identity.root_account_use';
  const ws = await bench.workspace();
  await ws.import(
    'aws-iam-credential-report',
    credentialReport({ user: '<root_account>', mfa: true, passwordLastUsed: '2025-01-01T00:00:00+00:00' }),
    '2026-09-01T00:00:00Z',
  );
  await ws.run(check, '2026-09-10T00:00:00Z');
  await ws.expectPasses(check, 'root', /unused in the last 90 days/);

  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      trailRecord({
        name: 'ConsoleLogin',
        at: '2026-09-15T10:00:00Z',
        user: 'root',
        source: 'signin.amazonaws.com',
        response: { ConsoleLogin: 'Success' },
        additional: { MFAUsed: 'Yes' },
      }),
    ),
  );
  await ws.run(check, '2026-10-01T00:00:00Z');
  await ws.expectFails(check, 'root', /root user ConsoleLogin at 2026-09-15/);

  await ws.run(check, '2027-01-01T00:00:00Z');
  await ws.expectClosed(check, 'root');
});

test('identity.root_account_mfa: root without MFA fails until a report shows MFA again', async () => {
  const check = 'identity.root_account_mfa';
  const ws = await bench.workspace();
  await ws.import(
    'aws-iam-credential-report',
    credentialReport({ user: '<root_account>', mfa: true }),
    '2026-09-01T00:00:00Z',
  );
  await ws.run(check, '2026-09-01T00:00:00Z');
  await ws.expectPasses(check, 'root', /MFA on, no access keys/);

  await ws.import(
    'aws-iam-credential-report',
    credentialReport({
      user: '<root_account>',
      mfa: false,
      keys: [{ active: true, rotated: '2026-09-01T00:00:00+00:00' }],
    }),
    '2026-09-02T00:00:00Z',
  );
  await ws.run(check, '2026-09-02T00:00:00Z');
  await ws.expectFails(check, 'root', /no MFA device and active access keys/);

  await ws.import(
    'aws-iam-credential-report',
    credentialReport({ user: '<root_account>', mfa: true }),
    '2026-09-03T00:00:00Z',
  );
  await ws.run(check, '2026-09-03T00:00:00Z');
  await ws.expectClosed(check, 'root');
});

test('identity.privilege_without_request: a privileged grant fails until it is revoked; plain groups are not judged', async () => {
  const check = 'identity.privilege_without_request';
  const ws = await bench.workspace();
  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({
        type: 'user.account.privilege.grant',
        at: '2026-09-01T00:00:00Z',
        target: alice,
        debugData: { privilegeGranted: 'Super administrator' },
      }),
      {
        ...oktaEvent({ type: 'group.user_membership.add', at: '2026-09-01T00:00:00Z', target: bob }),
        target: [
          { id: bob.id, type: 'User', alternateId: bob.login, displayName: 'Bob' },
          { id: '00gEng', type: 'UserGroup', displayName: 'Engineering' },
        ],
      },
    ),
  );
  await ws.run(check, '2026-09-02T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /Super administrator \(okta, granted 2026-09-01\)/);
  await ws.expectNotJudged(check, 'bob@acme.test');

  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({
        type: 'user.account.privilege.revoke',
        at: '2026-09-03T00:00:00Z',
        target: alice,
        debugData: { privilegeRevoked: 'Super administrator' },
      }),
    ),
  );
  await ws.run(check, '2026-09-04T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test('identity.privileged_without_mfa: an administrator without MFA fails until MFA is enrolled', async () => {
  const check = 'identity.privileged_without_mfa';
  const ws = await bench.workspace();
  const attach = (user: string) =>
    trailRecord({
      name: 'AttachUserPolicy',
      at: '2026-09-01T00:00:00Z',
      user: 'it.admin',
      request: { userName: user, policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
    });
  await ws.import('aws-cloudtrail', cloudTrail(attach('alice@acme.test'), attach('bob@acme.test')));
  const report = (aliceMfa: boolean) =>
    credentialReport(
      { user: 'alice@acme.test', password: true, mfa: aliceMfa },
      { user: 'bob@acme.test', password: true, mfa: true },
      { user: 'carol@acme.test', password: true, mfa: false },
    );
  await ws.import('aws-iam-credential-report', report(false), '2026-09-02T00:00:00Z');
  await ws.run(check, '2026-09-02T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /privileged access without MFA/);
  await ws.expectPasses(check, 'bob@acme.test');
  // Carol has no MFA either, but no privileged access: another check's business.
  await ws.expectNotJudged(check, 'carol@acme.test');

  await ws.import('aws-iam-credential-report', report(true), '2026-09-03T00:00:00Z');
  await ws.run(check, '2026-09-03T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test('identity.failed_login_burst: ten failures within an hour fail; they close once outside the window', async () => {
  const check = 'identity.failed_login_burst';
  const ws = await bench.workspace();
  const failures = Array.from({ length: 10 }, (_, i) =>
    oktaEvent({
      type: 'user.session.start',
      at: `2026-10-01T09:${String(i * 5).padStart(2, '0')}:00Z`,
      target: alice,
      result: 'FAILURE',
    }),
  );
  await ws.import(
    'okta-system-log',
    oktaLog(
      ...failures,
      oktaEvent({ type: 'user.session.start', at: '2026-10-01T09:00:00Z', target: bob, result: 'FAILURE' }),
      oktaEvent({ type: 'user.session.start', at: '2026-10-01T12:00:00Z', target: bob, result: 'FAILURE' }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /10 failed sign-ins within one hour/);
  await ws.expectPasses(check, 'bob@acme.test', /2 failed sign-ins, no burst/);

  await ws.run(check, '2026-10-20T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});
