/**
 * The monitoring CLI end to end (in-process, real database): checks configure and add-custom,
 * findings show, tasks list, exceptions create/list/revoke, controls timeline and
 * policy-statements — JSON output and the exit codes of the CLI contract (2 for bad input).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliHarness } from '../../../test/helpers/cli.ts';
import { credentialReport, roster } from '../../domains/monitoring/checks/check-testing.ts';

test('monitoring commands: configure, custom checks, findings, tasks, exceptions, timelines, policy statements', async (t) => {
  const assay = await cliHarness(t);
  const ok = async (...args: string[]) => {
    const result = await assay(...args);
    assert.equal(result.code, 0, `assay ${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  const dir = mkdtempSync(join(tmpdir(), 'assay-monitoring-cli-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const T = ['--tenant', 'acme'];
  await ok('tenant', 'create', 'acme');
  await ok('scope', 'set', ...T, '--categories', 'security');
  await ok(
    'import',
    'hr-roster',
    file('roster.csv', roster({ id: 'E1', name: 'Alice', email: 'alice@acme.test' })),
    ...T,
  );
  await ok(
    'import',
    'aws-iam-credential-report',
    file(
      'report.csv',
      credentialReport({
        user: 'alice@acme.test',
        password: true,
        mfa: false,
        passwordLastUsed: '2026-09-30T00:00:00+00:00',
      }),
    ),
    ...T,
  );

  // Settings: validated against the check's own, exit 2 on bad input.
  const configured = (
    await ok('checks', 'configure', 'identity.dormant_accounts', ...T, '--set', 'dormantDays=30', '--json')
  ).json();
  assert.equal(configured.settings.dormantDays, 30);
  const badKey = await assay('checks', 'configure', 'identity.dormant_accounts', ...T, '--set', 'days=30');
  assert.equal(badKey.code, 2);
  assert.match(badKey.stderr, /has no setting "days"/);
  assert.equal(
    (await assay('checks', 'configure', 'identity.dormant_accounts', ...T, '--set', 'dormantDays')).code,
    2,
  );
  assert.equal((await assay('checks', 'configure', 'identity.nope', ...T, '--disable')).code, 2);
  const disabled = (
    await ok('checks', 'configure', 'identity.unused_access_keys', ...T, '--disable', '--json')
  ).json();
  assert.equal(disabled.enabled, false);

  // Custom check: a parse error names the column and exits 2.
  const custom = [
    '--id',
    'passwords-need-mfa',
    '--title',
    'Passwords come with MFA',
    '--kind',
    'identity',
    '--severity',
    'high',
    '--criteria',
    'CC6.1',
    '--controls',
    'AC-02',
  ];
  const broken = await assay(
    'checks',
    'add-custom',
    ...T,
    ...custom,
    '--expression',
    'identity.mfaEnabled ==',
  );
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /expression: column 23: /);
  await ok(
    'checks',
    'add-custom',
    ...T,
    ...custom,
    '--expression',
    'identity.passwordEnabled != true || identity.mfaEnabled == true',
  );
  const listed = (await ok('checks', 'list', ...T, '--json')).json().checks as {
    id: string;
    enabled: boolean;
  }[];
  assert.ok(listed.some((c) => c.id === 'custom.passwords-need-mfa'));
  assert.equal(listed.find((c) => c.id === 'identity.unused_access_keys')?.enabled, false);

  await ok('checks', 'run', ...T, '--as-of', '2026-10-01T00:00:00Z');
  const findings = (await ok('findings', 'list', ...T, '--status', 'open', '--json')).json().findings as {
    id: string;
    checkId: string;
  }[];
  assert.deepEqual(findings.map((f) => f.checkId).sort(), [
    'custom.passwords-need-mfa',
    'identity.mfa_enabled',
  ]);
  const mfa = findings.find((f) => f.checkId === 'identity.mfa_enabled')!;

  const shown = (await ok('findings', 'show', mfa.id, ...T, '--json')).json();
  assert.equal(shown.finding.subject.name, 'alice@acme.test');
  assert.equal(shown.results[0].status, 'fail');
  assert.equal(shown.tasks.length, 1);
  assert.match((await ok('findings', 'show', mfa.id, ...T)).stdout, /identity.mfa_enabled \(high, open\)/);
  assert.equal((await assay('findings', 'show', 'nope', ...T)).code, 2);

  const tasks = (await ok('tasks', 'list', ...T, '--status', 'open', '--json')).json().tasks;
  assert.equal(tasks.length, 2);

  // Exceptions.
  const expires = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
  const created = (
    await ok(
      'exceptions',
      'create',
      ...T,
      '--finding',
      mfa.id,
      '--justification',
      'Device on order, VPN-only access meanwhile',
      '--approver',
      'ciso@acme.test',
      '--expires',
      expires,
      '--requested-by',
      'sam@acme.test',
      '--json',
    )
  ).json();
  assert.equal(created.suppressedFinding.status, 'suppressed');
  const self = await assay(
    'exceptions',
    'create',
    ...T,
    '--check',
    'identity.mfa_enabled',
    '--subject',
    'identity:x',
    '--justification',
    'a long enough reason',
    '--approver',
    'sam@acme.test',
    '--expires',
    expires,
    '--requested-by',
    'sam@acme.test',
  );
  assert.equal(self.code, 2);
  assert.match(self.stderr, /also the requester/);
  assert.equal(
    (
      await assay(
        'exceptions',
        'create',
        ...T,
        '--justification',
        'x',
        '--approver',
        'a',
        '--expires',
        expires,
      )
    ).code,
    2,
  );
  const active = (await ok('exceptions', 'list', ...T, '--status', 'active', '--json')).json().exceptions;
  assert.deepEqual(
    active.map((e: { id: string }) => e.id),
    [created.exception.id],
  );
  const revoked = (
    await ok('exceptions', 'revoke', created.exception.id, ...T, '--reason', 'device arrived', '--json')
  ).json();
  assert.equal(revoked.exception.status, 'revoked');
  assert.equal(revoked.reopenedFinding.status, 'open');
  assert.equal((await assay('exceptions', 'revoke', created.exception.id, ...T)).code, 2);

  // Timeline and policy statements.
  const timeline = (await ok('controls', 'timeline', 'AC-02', ...T, '--json')).json();
  // (Imports evaluate the checks they trigger at once, so the timeline may start before --as-of runs.)
  assert.equal(timeline.intervals.at(-1).status, 'failing');
  assert.equal(timeline.intervals.at(-1).to, null);
  assert.match((await ok('controls', 'timeline', 'AC-02', ...T)).stdout, /AC-02 — .*failing/s);
  const statement = (
    await ok(
      'policy-statements',
      'add',
      ...T,
      '--statement',
      'MFA is required for all remote access',
      '--json',
    )
  ).json();
  assert.equal(statement.practice.status, 'not_linked');
  const linked = (
    await ok('policy-statements', 'link', statement.id, ...T, '--checks', 'identity.mfa_enabled', '--json')
  ).json();
  assert.equal(linked.practice.status, 'contradicted');
  assert.match(
    (await ok('policy-statements', 'show', statement.id, ...T)).stdout,
    /contradicted by 1 open findings/,
  );
  assert.equal((await ok('policy-statements', 'list', ...T, '--json')).json().statements.length, 1);
  assert.equal(
    (await assay('policy-statements', 'link', statement.id, ...T, '--checks', 'identity.nope')).code,
    2,
  );
});
