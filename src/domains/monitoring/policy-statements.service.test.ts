/**
 * Policy vs practice and control timelines over real evaluations: a statement linked to the MFA
 * checks is contradicted by their open findings and matches once they close; a control's timeline
 * records each change of status as an interval.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isAssayError } from '../../errors.ts';
import { setScope } from '../scope/scope.service.ts';
import { type CheckBench, credentialReport, openCheckBench, tester } from './checks/check-testing.ts';
import {
  createPolicyStatement,
  getStatement,
  linkPolicyStatement,
  listStatements,
} from './policy-statements.service.ts';
import { controlTimeline } from './timeline.service.ts';

let bench: CheckBench;
before(async () => {
  bench = await openCheckBench();
});
after(() => bench.close());

const report = (aliceMfa: boolean) =>
  credentialReport(
    { user: 'alice@acme.test', password: true, mfa: aliceMfa },
    { user: 'bob@acme.test', password: true, mfa: true },
  );

test('a statement matches practice only when every linked check was evaluated and has no open finding', async () => {
  const ws = await bench.workspace();
  const statement = await createPolicyStatement(ws.database, tester, ws.slug, {
    statement: 'MFA is required for all remote access',
  });
  assert.equal(statement.practice.status, 'not_linked');
  assert.equal(statement.practice.matches, false);

  const id = statement.statement.id;
  const linked = await linkPolicyStatement(ws.database, tester, ws.slug, id, {
    checks: ['identity.mfa_enabled', 'identity.login_without_mfa'],
  });
  assert.deepEqual(linked.statement.check_ids, ['identity.mfa_enabled', 'identity.login_without_mfa']);
  assert.equal(linked.practice.status, 'not_evaluated');

  await ws.import('aws-iam-credential-report', report(false), '2026-10-01T00:00:00Z');
  await ws.run(['identity.mfa_enabled', 'identity.login_without_mfa'], '2026-10-01T00:00:00Z');
  const contradicted = await getStatement(ws.database, ws.slug, id);
  assert.equal(contradicted.practice.status, 'contradicted');
  assert.deepEqual(
    contradicted.practice.openFindings.map((f) => [f.check_id, (f.subject as { name: string }).name]),
    [['identity.mfa_enabled', 'alice@acme.test']],
  );

  // Alice enrols MFA; the sign-in check ran and found no sign-in without MFA: practice matches.
  await ws.import('aws-iam-credential-report', report(true), '2026-10-02T00:00:00Z');
  await ws.run('identity.mfa_enabled', '2026-10-02T00:00:00Z');
  const [listed] = await listStatements(ws.database, ws.slug);
  assert.equal(listed?.practice.status, 'matches');
  assert.equal(listed?.practice.matches, true);
  assert.deepEqual(listed?.practice.checks, [
    { id: 'identity.mfa_enabled', evaluated: true, openFindings: 0 },
    { id: 'identity.login_without_mfa', evaluated: true, openFindings: 0 },
  ]);
  await linkPolicyStatement(ws.database, tester, ws.slug, id, {
    checks: ['identity.login_without_mfa'],
    remove: true,
  });
  assert.deepEqual((await getStatement(ws.database, ws.slug, id)).statement.check_ids, [
    'identity.mfa_enabled',
  ]);

  const replaced = await linkPolicyStatement(ws.database, tester, ws.slug, id, {
    checks: ['identity.privileged_without_mfa'],
    replace: true,
  });
  assert.deepEqual(replaced.statement.check_ids, ['identity.privileged_without_mfa']);
});

test('statements refuse unknown checks, unknown ids and empty text', async () => {
  const ws = await bench.workspace();
  const rejects = (promise: Promise<unknown>, code: string, message: RegExp) =>
    assert.rejects(promise, (e) => isAssayError(e) && e.code === code && message.test(e.message));
  await rejects(
    createPolicyStatement(ws.database, tester, ws.slug, { statement: 'x', checks: ['identity.nope'] }),
    'check_not_found',
    /identity.nope/,
  );
  await rejects(
    createPolicyStatement(ws.database, tester, ws.slug, { statement: '  ' }),
    'validation_failed',
    /^statement/,
  );
  await rejects(
    createPolicyStatement(ws.database, tester, ws.slug, { statement: 'x', policyId: 'policy-1' }),
    'validation_failed',
    /^policyId/,
  );
  await rejects(
    getStatement(ws.database, ws.slug, '00000000-0000-4000-8000-000000000000'),
    'policy_statement_not_found',
    /does not exist/,
  );
  await rejects(
    linkPolicyStatement(ws.database, tester, ws.slug, 'nope', { checks: ['identity.mfa_enabled'] }),
    'policy_statement_not_found',
    /does not exist/,
  );
  // Another workspace cannot read the statement.
  const mine = await createPolicyStatement(ws.database, tester, ws.slug, {
    statement: 'Keys rotate every 90 days',
  });
  const other = await bench.workspace();
  await rejects(
    getStatement(other.database, other.slug, mine.statement.id),
    'policy_statement_not_found',
    /does not exist/,
  );
});

test("a control's timeline records passing, failing and passing again as intervals", async () => {
  const ws = await bench.workspace();
  await setScope(ws.database, tester, ws.slug, ['security']);
  await ws.import(
    'aws-iam-credential-report',
    credentialReport({ user: 'alice@acme.test', password: true, mfa: true }),
    '2026-10-01T00:00:00Z',
  );
  await ws.run('identity.mfa_enabled', '2026-10-01T00:00:00Z');
  await ws.import('aws-iam-credential-report', report(false), '2026-10-05T00:00:00Z');
  const failing = await ws.run('identity.mfa_enabled', '2026-10-05T00:00:00Z');
  assert.ok(failing.drift.some((d) => d.control === 'AC-02' && d.from === 'passing' && d.to === 'failing'));
  await ws.import('aws-iam-credential-report', report(true), '2026-10-09T00:00:00Z');
  await ws.run('identity.mfa_enabled', '2026-10-09T00:00:00Z');

  const timeline = await controlTimeline(ws.database, ws.slug, 'AC-02');
  assert.equal(timeline.control.templateId, 'AC-02');
  assert.equal(timeline.control.status, 'passing');
  assert.deepEqual(
    timeline.intervals.map((i) => [i.status, i.from, i.to]),
    [
      ['passing', '2026-10-01T00:00:00.000Z', '2026-10-05T00:00:00.000Z'],
      ['failing', '2026-10-05T00:00:00.000Z', '2026-10-09T00:00:00.000Z'],
      ['passing', '2026-10-09T00:00:00.000Z', null],
    ],
  );
  const window = await controlTimeline(ws.database, ws.slug, timeline.control.id, {
    from: '2026-10-03',
    to: '2026-10-06',
  });
  assert.deepEqual(
    window.intervals.map((i) => [i.status, i.from, i.to]),
    [
      ['passing', '2026-10-03T00:00:00.000Z', '2026-10-05T00:00:00.000Z'],
      ['failing', '2026-10-05T00:00:00.000Z', '2026-10-06T00:00:00.000Z'],
    ],
  );
  await assert.rejects(
    controlTimeline(ws.database, ws.slug, 'ZZ-99'),
    (e) => isAssayError(e) && e.code === 'control_not_found',
  );
  await assert.rejects(
    controlTimeline(ws.database, ws.slug, 'AC-02', { from: '2026-10-06', to: '2026-10-03' }),
    (e) => isAssayError(e) && e.code === 'validation_failed',
  );
});
