/**
 * Every check in directory.checks.ts over Okta, CloudTrail, Google Workspace, credential-report
 * and HR facts imported through the real import path: passing and failing subjects, the finding
 * an event opens, and the change that closes it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type CheckBench,
  cloudTrail,
  credentialReport,
  googleActivity,
  googleReport,
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

test('identity.mfa_factor_removed: a removed factor is at risk for 24 hours, then fails until one is enrolled', async () => {
  const check = 'identity.mfa_factor_removed';
  const ws = await bench.workspace();
  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({ type: 'user.mfa.factor.deactivate', at: '2026-10-01T00:00:00Z', target: alice }),
      oktaEvent({ type: 'user.mfa.factor.reset_all', at: '2026-10-01T00:00:00Z', target: bob }),
      oktaEvent({ type: 'user.mfa.factor.activate', at: '2026-10-01T02:00:00Z', actor: bob, target: bob }),
    ),
  );
  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      trailRecord({
        name: 'DeactivateMFADevice',
        at: '2026-10-01T00:00:00Z',
        user: 'it.admin',
        request: { userName: 'carol@acme.test', serialNumber: 'arn:aws:iam::111122223333:mfa/carol' },
      }),
    ),
  );
  // Within the grace period: failing results, the control at risk, no finding yet.
  const early = await ws.run(check, '2026-10-01T12:00:00Z');
  assert.equal((await ws.result(check, 'alice@acme.test'))?.status, 'fail');
  assert.equal((await ws.findings(check, 'alice@acme.test')).length, 0);
  assert.equal(early.findingsOpened, 0);

  await ws.run(check, '2026-10-03T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /\(user\.mfa\.factor\.deactivate\) by it\.admin/);
  await ws.expectFails(check, 'carol@acme.test', /DeactivateMFADevice/);
  await ws.expectPasses(check, 'bob@acme.test', /enrolled 2026-10-01T02:00/);

  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({
        type: 'user.mfa.factor.activate',
        at: '2026-10-04T00:00:00Z',
        actor: alice,
        target: alice,
      }),
    ),
  );
  // A later credential report showing MFA settles Carol's account too.
  await ws.import(
    'aws-iam-credential-report',
    credentialReport({ user: 'carol@acme.test', password: true, mfa: true }),
    '2026-10-04T06:00:00Z',
  );
  await ws.run(check, '2026-10-05T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
  await ws.expectClosed(check, 'carol@acme.test');
  await ws.expectPasses(check, 'carol@acme.test', /shown again by the aws-iam-credential-report snapshot/);
});

test('identity.two_step_verification_disabled: a user switching 2SV off fails until they enrol again', async () => {
  const check = 'identity.two_step_verification_disabled';
  const ws = await bench.workspace();
  const event = (actor: string, name: string, at: string) =>
    googleActivity({ application: 'user_accounts', name, at, actor });
  await ws.import(
    'google-workspace-reports',
    googleReport(
      event('alice@acme.test', '2sv_enroll', '2026-09-01T00:00:00Z'),
      event('alice@acme.test', '2sv_disable', '2026-10-01T00:00:00Z'),
      event('bob@acme.test', '2sv_enroll', '2026-09-01T00:00:00Z'),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /switched off at 2026-10-01/);
  await ws.expectPasses(check, 'bob@acme.test');
  // Okta factors are the other check's business.
  await ws.import(
    'okta-system-log',
    oktaLog(oktaEvent({ type: 'user.mfa.factor.deactivate', at: '2026-10-01T00:00:00Z', target: carol })),
  );
  await ws.run(check, '2026-10-02T01:00:00Z');
  await ws.expectNotJudged(check, 'carol@acme.test');

  await ws.import(
    'google-workspace-reports',
    googleReport(event('alice@acme.test', '2sv_enroll', '2026-10-03T00:00:00Z')),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test('identity.deactivated_account_signin: a sign-in while deactivated fails; reactivated accounts pass', async () => {
  const check = 'identity.deactivated_account_signin';
  const ws = await bench.workspace();
  await ws.import(
    'okta-system-log',
    oktaLog(
      ...[alice, bob, carol].map((u) =>
        oktaEvent({ type: 'user.lifecycle.deactivate', at: '2026-10-01T00:00:00Z', target: u }),
      ),
      oktaEvent({ type: 'user.lifecycle.reactivate', at: '2026-10-03T00:00:00Z', target: carol }),
      oktaEvent({ type: 'user.session.start', at: '2026-10-05T00:00:00Z', target: alice }),
      oktaEvent({ type: 'user.session.start', at: '2026-10-05T00:00:00Z', target: carol }),
      oktaEvent({ type: 'user.session.start', at: '2026-10-05T00:00:00Z', target: bob, result: 'FAILURE' }),
    ),
  );
  await ws.run(check, '2026-10-06T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /1 sign-ins while the account was deprovisioned/);
  await ws.expectPasses(check, 'bob@acme.test', /no sign-in while deactivated/);
  await ws.expectPasses(check, 'carol@acme.test');

  await ws.run(check, '2027-02-01T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test('identity.privileged_signin_without_mfa: an administrator signing in with a password alone fails until the role is removed', async () => {
  const check = 'identity.privileged_signin_without_mfa';
  const ws = await bench.workspace();
  const grant = (u: typeof alice) =>
    oktaEvent({
      type: 'user.account.privilege.grant',
      at: '2026-09-01T00:00:00Z',
      target: u,
      debugData: { privilegeGranted: 'Organization administrator' },
    });
  await ws.import(
    'okta-system-log',
    oktaLog(
      grant(alice),
      grant(bob),
      oktaEvent({ type: 'user.session.start', at: '2026-10-01T09:00:00Z', target: alice, mfa: false }),
      oktaEvent({ type: 'user.session.start', at: '2026-10-01T09:00:00Z', target: bob, mfa: true }),
      // Carol signed in with a password alone but holds no administrator role.
      oktaEvent({ type: 'user.session.start', at: '2026-10-01T09:00:00Z', target: carol, mfa: false }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(
    check,
    'alice@acme.test',
    /holds Organization administrator and signed in 1 times with a password alone/,
  );
  await ws.expectPasses(check, 'bob@acme.test', /all with MFA/);
  await ws.expectNotJudged(check, 'carol@acme.test');

  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({
        type: 'user.account.privilege.revoke',
        at: '2026-10-03T00:00:00Z',
        target: alice,
        debugData: { privilegeRevoked: 'Organization administrator' },
      }),
    ),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
  await ws.expectPasses(check, 'alice@acme.test', /no privileged access held/);
});

test('identity.account_created_without_employment: accounts for people HR does not employ fail until HR or the directory is fixed', async () => {
  const check = 'identity.account_created_without_employment';
  const ws = await bench.workspace();
  await ws.import(
    'hr-roster',
    roster(
      { id: 'E1', name: 'Alice', email: 'alice@acme.test', start: '2026-09-01' },
      { id: 'E2', name: 'Bob', email: 'bob@acme.test', start: '2024-01-01', end: '2026-08-01' },
      { id: 'E3', name: 'Carol', email: 'carol@acme.test', start: '2027-03-01' },
    ),
    '2026-08-15T00:00:00Z',
  );
  const temp = oktaUser('temp@acme.test');
  const svc = oktaUser('svc-sync@acme.test');
  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({ type: 'user.lifecycle.create', at: '2026-08-25T00:00:00Z', target: alice }),
      oktaEvent({ type: 'user.lifecycle.create', at: '2026-09-10T00:00:00Z', target: bob }),
      oktaEvent({ type: 'user.lifecycle.create', at: '2026-10-01T00:00:00Z', target: carol }),
      oktaEvent({ type: 'user.lifecycle.create', at: '2026-10-01T00:00:00Z', target: temp }),
      oktaEvent({ type: 'user.lifecycle.create', at: '2026-10-01T00:00:00Z', target: svc }),
    ),
  );
  await ws.declareNonHuman('svc-sync@acme.test', 'it@acme.test');
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectPasses(check, 'alice@acme.test', /employed then/);
  await ws.expectFails(check, 'bob@acme.test', /after bob@acme.test left \(2026-08-01\)/);
  await ws.expectFails(check, 'carol@acme.test', /more than 30 days before carol@acme.test started/);
  await ws.expectFails(check, 'temp@acme.test', /for someone HR does not list/);
  await ws.expectNotJudged(check, 'svc-sync@acme.test');

  // HR adds the temp, Bob's account is deactivated, Carol's start date moves forward.
  await ws.import(
    'hr-roster',
    roster(
      { id: 'E1', name: 'Alice', email: 'alice@acme.test', start: '2026-09-01' },
      { id: 'E2', name: 'Bob', email: 'bob@acme.test', start: '2024-01-01', end: '2026-08-01' },
      { id: 'E3', name: 'Carol', email: 'carol@acme.test', start: '2026-10-15' },
      { id: 'E4', name: 'Temp', email: 'temp@acme.test', start: '2026-09-15' },
    ),
    '2026-10-03T00:00:00Z',
  );
  await ws.import(
    'okta-system-log',
    oktaLog(oktaEvent({ type: 'user.lifecycle.deactivate', at: '2026-10-03T00:00:00Z', target: bob })),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  for (const who of ['bob@acme.test', 'carol@acme.test', 'temp@acme.test']) await ws.expectClosed(check, who);
  await ws.expectPasses(check, 'bob@acme.test', /since removed/);
});

test('identity.multiple_active_access_keys: two active keys fail until one is deactivated', async () => {
  const check = 'identity.multiple_active_access_keys';
  const ws = await bench.workspace();
  const key = (active: boolean) => ({ active, rotated: '2026-09-01T00:00:00+00:00' });
  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'alice@acme.test', keys: [key(true), key(true)] },
      { user: 'bob@acme.test', keys: [key(true), key(false)] },
    ),
    '2026-10-01T00:00:00Z',
  );
  await ws.run(check, '2026-10-01T00:00:00Z');
  await ws.expectFails(check, 'alice@acme.test', /2 active access keys \(at most 1 allowed\)/);
  await ws.expectPasses(check, 'bob@acme.test');

  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      { user: 'alice@acme.test', keys: [key(false), key(true)] },
      { user: 'bob@acme.test', keys: [key(true), key(false)] },
    ),
    '2026-10-02T00:00:00Z',
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test("identity.leaver_access_key_used: a leaver's key or API calls after leaving fail; they close once outside the window", async () => {
  const check = 'identity.leaver_access_key_used';
  const ws = await bench.workspace();
  await ws.import(
    'hr-roster',
    roster(
      { id: 'E2', name: 'Bob', email: 'bob@acme.test', end: '2026-09-30' },
      { id: 'E3', name: 'Carol', email: 'carol@acme.test', end: '2026-09-30' },
      { id: 'E4', name: 'Dave', email: 'dave@acme.test', end: '2026-09-30' },
      { id: 'E1', name: 'Alice', email: 'alice@acme.test' },
    ),
  );
  await ws.import(
    'aws-iam-credential-report',
    credentialReport(
      {
        user: 'bob@acme.test',
        keys: [{ active: true, rotated: '2026-01-01T00:00:00+00:00', lastUsed: '2026-10-05T00:00:00+00:00' }],
      },
      {
        user: 'carol@acme.test',
        keys: [
          { active: false, rotated: '2026-01-01T00:00:00+00:00', lastUsed: '2026-09-20T00:00:00+00:00' },
        ],
      },
      { user: 'dave@acme.test' },
      {
        user: 'alice@acme.test',
        keys: [{ active: true, rotated: '2026-01-01T00:00:00+00:00', lastUsed: '2026-10-05T00:00:00+00:00' }],
      },
    ),
    '2026-10-06T00:00:00Z',
  );
  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      trailRecord({
        name: 'PutObject',
        at: '2026-10-04T00:00:00Z',
        user: 'dave@acme.test',
        source: 's3.amazonaws.com',
        request: { bucketName: 'acme-data' },
      }),
    ),
  );
  await ws.run(check, '2026-10-06T00:00:00Z');
  await ws.expectFails(check, 'bob@acme.test', /access key used 2026-10-05/);
  await ws.expectFails(check, 'dave@acme.test', /1 API calls, the latest PutObject/);
  await ws.expectPasses(check, 'carol@acme.test', /no use after leaving/);
  await ws.expectNotJudged(check, 'alice@acme.test');

  await ws.run(check, '2027-02-01T00:00:00Z');
  await ws.expectClosed(check, 'bob@acme.test');
  await ws.expectClosed(check, 'dave@acme.test');
});

test('identity.root_access_key_created: a root access key fails until it is deleted; keys for IAM users are not judged', async () => {
  const check = 'identity.root_access_key_created';
  const ws = await bench.workspace();
  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      trailRecord({
        name: 'CreateAccessKey',
        at: '2026-10-01T00:00:00Z',
        user: 'root',
        response: { accessKey: { accessKeyId: 'AKIAROOTKEY', status: 'Active', userName: 'root' } },
      }),
      trailRecord({
        name: 'CreateAccessKey',
        at: '2026-10-01T00:00:00Z',
        user: 'it.admin',
        request: { userName: 'bob@acme.test' },
        response: { accessKey: { accessKeyId: 'AKIABOBKEY', status: 'Active', userName: 'bob@acme.test' } },
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'root', /root access key AKIAROOTKEY created/);
  await ws.expectNotJudged(check, 'bob@acme.test');
  await ws.expectNotJudged(check, 'it.admin');

  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      trailRecord({
        name: 'DeleteAccessKey',
        at: '2026-10-03T00:00:00Z',
        user: 'root',
        request: { accessKeyId: 'AKIAROOTKEY' },
      }),
    ),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'root');
  await ws.expectPasses(check, 'root', /root access key deleted/);
});
