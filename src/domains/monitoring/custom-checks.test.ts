/**
 * Custom CEL checks: expressions are parsed and type-checked when added (errors name the column),
 * and the engine evaluates them with the built-ins over each subject kind — opening findings on
 * subjects that do not satisfy them and closing those findings when the facts change.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type AssayError, isAssayError } from '../../errors.ts';
import {
  type CheckBench,
  credentialReport,
  oktaEvent,
  oktaLog,
  oktaUser,
  openCheckBench,
  roster,
  tester,
} from './checks/check-testing.ts';
import { addCustomCheck, listWorkspaceChecks } from './checks.service.ts';
import { validateExpression } from './custom-checks.ts';

let bench: CheckBench;
before(async () => {
  bench = await openCheckBench();
});
after(() => bench.close());

function refusal(fn: () => unknown): AssayError {
  try {
    fn();
  } catch (error) {
    if (isAssayError(error)) return error;
    throw error;
  }
  assert.fail('expected the expression to be refused');
}

test('expressions are validated with the position of the error', () => {
  validateExpression('identity', 'identity.mfaEnabled == true || identity.nonHuman');
  validateExpression('identity', 'identity.lastLoginAt > now - duration("2160h")');
  validateExpression('person', 'person.status != "terminated" || person.activeAccounts == 0');
  validateExpression('event', 'event.action != "StopLogging"');

  const syntax = refusal(() => validateExpression('identity', 'identity.mfaEnabled =='));
  assert.equal(syntax.code, 'validation_failed');
  assert.match(syntax.message, /^expression: column 23: Unexpected token: EOF/);
  assert.equal(syntax.details?.position, 23);

  const unknown = refusal(() => validateExpression('identity', 'person.status == "active"'));
  assert.match(unknown.message, /^expression: column 1: Unknown variable: person/);

  const types = refusal(() => validateExpression('identity', '1 + "a" == 2'));
  assert.match(types.message, /no such overload: int \+ string/);

  const notBool = refusal(() => validateExpression('identity', '"yes"'));
  assert.match(notBool.message, /must yield a bool .* yields string/);

  assert.match(refusal(() => validateExpression('identity', '   ')).message, /1–4000 characters/);
});

test('adding a custom check validates its id, kind, severity, criteria and controls', async () => {
  const ws = await bench.workspace();
  const base = {
    id: 'mfa-everywhere',
    title: 'Every account has MFA',
    subjectKind: 'identity',
    expression: 'identity.mfaEnabled != false',
    severity: 'high',
    criteria: ['CC6.1'],
    controls: ['AC-02'],
  };
  const add = (input: Partial<typeof base>) =>
    addCustomCheck(ws.database, tester, ws.slug, { ...base, ...input });
  const code = async (input: Partial<typeof base>, expected: string, message: RegExp) =>
    assert.rejects(add(input), (e) => isAssayError(e) && e.code === expected && message.test(e.message));
  await code({ id: 'Bad Id!' }, 'validation_failed', /^id "Bad Id!"/);
  await code(
    { subjectKind: 'vendor' },
    'validation_failed',
    /^subjectKind "vendor": expected one of identity, person, event/,
  );
  await code({ severity: 'urgent' }, 'validation_failed', /^severity "urgent"/);
  await code({ criteria: ['CC99.9'] }, 'validation_failed', /^criteria: "CC99.9" is not a criterion/);
  await code({ criteria: [] }, 'validation_failed', /^criteria: name at least one/);
  await code({ controls: ['ZZ-01'] }, 'validation_failed', /^controls: "ZZ-01"/);
  await code({ expression: 'identity.mfaEnabled !=' }, 'validation_failed', /^expression: column/);

  const created = await add({});
  assert.equal(created.id, 'custom.mfa-everywhere');
  assert.equal(created.kind, 'custom');
  assert.deepEqual(created.controls, ['AC-02']);
  await code({}, 'custom_check_exists', /already exists/);
  const listed = await listWorkspaceChecks(ws.database, ws.slug);
  assert.ok(listed.some((c) => c.id === 'custom.mfa-everywhere' && c.expression === base.expression));
  // Another workspace does not see it.
  const other = await bench.workspace();
  assert.ok(!(await listWorkspaceChecks(other.database, other.slug)).some((c) => c.kind === 'custom'));
});

test('an identity check runs with the built-ins: fails, then closes when the facts change', async () => {
  const ws = await bench.workspace();
  await addCustomCheck(ws.database, tester, ws.slug, {
    id: 'no-password-without-mfa',
    title: 'Console passwords come with MFA',
    subjectKind: 'identity',
    expression: 'identity.passwordEnabled != true || identity.mfaEnabled == true',
    severity: 'high',
    criteria: ['CC6.1', 'CC6.6'],
    controls: ['AC-02'],
  });
  const report = (aliceMfa: boolean) =>
    credentialReport(
      { user: 'alice@acme.test', password: true, mfa: aliceMfa },
      { user: 'bob@acme.test', password: true, mfa: true },
      { user: 'svc-ci', keys: [{ active: true, rotated: '2026-09-01T00:00:00+00:00' }] },
    );
  await ws.import('aws-iam-credential-report', report(false), '2026-10-01T00:00:00Z');
  // A full run (no check named) includes the workspace's custom checks.
  const summary = await ws.runAll('2026-10-01T00:00:00Z');
  assert.ok(summary.checks > 30);
  const check = 'custom.no-password-without-mfa';
  const finding = await ws.expectFails(check, 'alice@acme.test', /does not satisfy/);
  await ws.expectPasses(check, 'bob@acme.test');
  await ws.expectPasses(check, 'svc-ci');
  const [row] = await ws.database.inWorkspace(ws.id, (trx) =>
    trx.selectFrom('findings').selectAll().where('id', '=', finding.id).execute(),
  );
  assert.deepEqual(row?.criteria, ['CC6.1', 'CC6.6']);
  assert.equal(row?.severity, 'high');

  await ws.import('aws-iam-credential-report', report(true), '2026-10-02T00:00:00Z');
  await ws.run(check, '2026-10-02T00:00:00Z');
  await ws.expectClosed(check, 'alice@acme.test');
});

test('a person check and an event check judge their subjects; missing fields are no data, not failures', async () => {
  const ws = await bench.workspace();
  await ws.import(
    'hr-roster',
    roster(
      { id: 'E1', name: 'Alice', email: 'alice@acme.test' },
      { id: 'E2', name: 'Bob', email: 'bob@acme.test', end: '2026-09-01' },
    ),
  );
  const alice = oktaUser('alice@acme.test');
  const bob = oktaUser('bob@acme.test');
  await ws.import(
    'okta-system-log',
    oktaLog(
      oktaEvent({ type: 'user.lifecycle.create', at: '2026-01-01T00:00:00Z', target: alice }),
      oktaEvent({ type: 'user.lifecycle.create', at: '2026-01-01T00:00:00Z', target: bob }),
      oktaEvent({ type: 'user.session.start', at: '2026-10-01T09:00:00Z', target: alice, mfa: true }),
      oktaEvent({ type: 'user.session.start', at: '2026-10-01T09:00:00Z', target: bob, mfa: false }),
    ),
  );
  await addCustomCheck(ws.database, tester, ws.slug, {
    id: 'leavers-have-no-active-accounts',
    title: 'Leavers have no active account',
    subjectKind: 'person',
    expression: 'person.status != "terminated" || person.activeAccounts == 0',
    severity: 'critical',
    criteria: ['CC6.2'],
  });
  await addCustomCheck(ws.database, tester, ws.slug, {
    id: 'sign-ins-use-mfa',
    title: 'Sign-ins use MFA',
    subjectKind: 'event',
    expression: 'event.classUid != 3002 || event.mfa != false',
    severity: 'high',
    criteria: ['CC6.1'],
  });
  await addCustomCheck(ws.database, tester, ws.slug, {
    id: 'needs-a-field',
    title: 'A field the subject lacks',
    subjectKind: 'person',
    expression: 'person.clearance == "secret"',
    severity: 'low',
    criteria: ['CC1.4'],
  });
  const ids = ['custom.leavers-have-no-active-accounts', 'custom.sign-ins-use-mfa', 'custom.needs-a-field'];
  await ws.run(ids, '2026-10-02T00:00:00Z');
  await ws.expectFails(ids[0]!, 'bob@acme.test');
  await ws.expectPasses(ids[0]!, 'alice@acme.test');
  await ws.expectFails(ids[1]!, 'bob@acme.test', /1 of 1 events do not satisfy/);
  await ws.expectPasses(ids[1]!, 'alice@acme.test', /events satisfy/);
  const unjudged = await ws.result(ids[2]!, 'alice@acme.test');
  assert.equal(unjudged?.status, 'no_data');
  assert.match(unjudged.detail, /cannot judge: No such key: clearance/);
  assert.equal((await ws.findings(ids[2]!, 'alice@acme.test')).length, 0);

  // Bob's account is deactivated and the sign-in ages out of the event window: both close.
  await ws.import(
    'okta-system-log',
    oktaLog(oktaEvent({ type: 'user.lifecycle.deactivate', at: '2026-10-03T00:00:00Z', target: bob })),
  );
  await ws.run(ids, '2026-11-15T00:00:00Z');
  await ws.expectClosed(ids[0]!, 'bob@acme.test');
  await ws.expectClosed(ids[1]!, 'bob@acme.test');
});

test('an unknown custom check id is refused by the engine', async () => {
  const ws = await bench.workspace();
  await assert.rejects(
    ws.run('custom.nope', '2026-10-01T00:00:00Z'),
    (e) => isAssayError(e) && e.code === 'validation_failed' && /unknown check "custom.nope"/.test(e.message),
  );
});
