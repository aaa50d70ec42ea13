/**
 * Every check in change.checks.ts over GitHub audit-log events and webhook deliveries (and a
 * CloudTrail record for the setting another check owns): passing and failing subjects, the
 * finding a change opens, and the change that closes it.
 */
import { after, before, test } from 'node:test';
import {
  type CheckBench,
  cloudTrail,
  githubEvent,
  githubLog,
  googleActivity,
  googleReport,
  openCheckBench,
  trailRecord,
} from './check-testing.ts';

let bench: CheckBench;
before(async () => {
  bench = await openCheckBench();
});
after(() => bench.close());

test('change.direct_push_protected_branch: a protection override fails; it closes once outside the window', async () => {
  const check = 'change.direct_push_protected_branch';
  const ws = await bench.workspace();
  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'protected_branch.policy_override',
        at: '2026-10-01T10:00:00Z',
        actor: 'mallory',
        repo: 'acme/api',
        branch: 'refs/heads/main',
      }),
      githubEvent({
        action: 'git.push',
        at: '2026-10-01T11:00:00Z',
        actor: 'alice',
        repo: 'acme/web',
        branch: 'main',
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'acme/api', /1 changes bypassed protection, the latest by mallory on main/);
  await ws.expectPasses(check, 'acme/web', /1 changes, none bypassed/);

  await ws.run(check, '2027-01-15T00:00:00Z');
  await ws.expectClosed(check, 'acme/api');
});

test('change.branch_protection_weakened: protection removed fails until it is restored', async () => {
  const check = 'change.branch_protection_weakened';
  const ws = await bench.workspace();
  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'protected_branch.create',
        at: '2026-09-01T00:00:00Z',
        actor: 'ops',
        repo: 'acme/infra',
        branch: 'main',
      }),
      githubEvent({
        action: 'protected_branch.destroy',
        at: '2026-10-01T00:00:00Z',
        actor: 'ops',
        repo: 'acme/infra',
        branch: 'main',
      }),
      githubEvent({
        action: 'protected_branch.create',
        at: '2026-09-01T00:00:00Z',
        actor: 'ops',
        repo: 'acme/web',
        branch: 'main',
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'acme/infra', /protection removed from main by ops/);
  await ws.expectPasses(check, 'acme/web', /protection in place/);

  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'protected_branch.create',
        at: '2026-10-03T00:00:00Z',
        actor: 'ops',
        repo: 'acme/infra',
        branch: 'main',
      }),
    ),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'acme/infra');
});

function pullRequestClosed(repo: string, number: number, mergedBy: string, at: string) {
  return {
    action: 'closed',
    number,
    pull_request: {
      number,
      merged: true,
      merged_at: at,
      user: { login: mergedBy },
      merged_by: { login: mergedBy },
      base: { ref: 'main' },
    },
    repository: { full_name: repo, private: true },
    organization: { login: repo.split('/')[0] },
    sender: { login: mergedBy, id: 1, type: 'User' },
  };
}

function reviewSubmitted(repo: string, number: number, reviewer: string, state: string, at: string) {
  return {
    action: 'submitted',
    review: { state, submitted_at: at, user: { login: reviewer } },
    pull_request: { number, base: { ref: 'main' } },
    repository: { full_name: repo, private: true },
    organization: { login: repo.split('/')[0] },
    sender: { login: reviewer, id: 2, type: 'User' },
  };
}

test('change.independent_approval: a merge approved only by its author fails; it closes once outside the window', async () => {
  const check = 'change.independent_approval';
  const ws = await bench.workspace();
  const at = '2026-10-01T10:00:00Z';
  await ws.deliverWebhook(
    'pull_request_review',
    reviewSubmitted('acme/api', 1, 'bob', 'approved', '2026-10-01T09:00:00Z'),
    at,
  );
  await ws.deliverWebhook('pull_request', pullRequestClosed('acme/api', 1, 'alice', at), at);
  await ws.deliverWebhook(
    'pull_request_review',
    reviewSubmitted('acme/web', 7, 'alice', 'approved', '2026-10-01T09:00:00Z'),
    at,
  );
  await ws.deliverWebhook('pull_request', pullRequestClosed('acme/web', 7, 'alice', at), at);
  // An approval after the merge does not count.
  await ws.deliverWebhook(
    'pull_request_review',
    reviewSubmitted('acme/web', 7, 'bob', 'approved', '2026-10-01T11:00:00Z'),
    '2026-10-01T11:00:00Z',
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectPasses(check, 'acme/api', /1 merges, all independently approved/);
  await ws.expectFails(check, 'acme/web', /1 of 1 merged pull requests had no independent approval \(#7\)/);

  await ws.run(check, '2027-01-15T00:00:00Z');
  await ws.expectClosed(check, 'acme/web');
});

test('identity.org_mfa_requirement: switching off the two-factor requirement fails until it is switched on', async () => {
  const check = 'identity.org_mfa_requirement';
  const ws = await bench.workspace();
  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'org.disable_two_factor_requirement',
        at: '2026-10-01T00:00:00Z',
        actor: 'ops',
        org: 'acme',
      }),
      githubEvent({
        action: 'org.enable_two_factor_requirement',
        at: '2026-10-01T00:00:00Z',
        actor: 'ops',
        org: 'beta',
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'github:acme', /two_factor_requirement disabled by ops/);
  await ws.expectPasses(check, 'github:beta');

  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'org.enable_two_factor_requirement',
        at: '2026-10-03T00:00:00Z',
        actor: 'ops',
        org: 'acme',
      }),
    ),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'github:acme');
});

test('monitoring.security_setting_disabled: secret scanning switched off fails until switched on; trails have their own check', async () => {
  const check = 'monitoring.security_setting_disabled';
  const ws = await bench.workspace();
  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'secret_scanning.disable',
        at: '2026-10-01T00:00:00Z',
        actor: 'dev',
        repo: 'acme/api',
      }),
      githubEvent({ action: 'org.saml_enabled', at: '2026-10-01T00:00:00Z', actor: 'ops', org: 'acme' }),
    ),
  );
  await ws.import(
    'google-workspace-reports',
    googleReport(
      googleActivity({
        application: 'admin',
        name: 'ENFORCE_STRONG_AUTHENTICATION',
        at: '2026-10-01T00:00:00Z',
        actor: 'admin@acme.test',
        parameters: [{ name: 'NEW_VALUE', value: 'false' }],
      }),
    ),
  );
  await ws.import(
    'aws-cloudtrail',
    cloudTrail(
      trailRecord({
        name: 'StopLogging',
        at: '2026-10-01T00:00:00Z',
        user: 'ops',
        source: 'cloudtrail.amazonaws.com',
        request: { name: 'main' },
      }),
    ),
  );
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectFails(check, 'acme/api#secret_scanning', /secret_scanning switched off by dev/);
  await ws.expectFails(check, 'google-workspace#two_step_verification_enforced');
  await ws.expectPasses(check, 'github:acme#saml');
  await ws.expectNotJudged(check, 'aws-iam:111122223333#cloudtrail_logging');

  await ws.import(
    'github-audit-log',
    githubLog(
      githubEvent({
        action: 'secret_scanning.enable',
        at: '2026-10-03T00:00:00Z',
        actor: 'dev',
        repo: 'acme/api',
      }),
    ),
  );
  await ws.run(check, '2026-10-04T00:00:00Z');
  await ws.expectClosed(check, 'acme/api#secret_scanning');
});
