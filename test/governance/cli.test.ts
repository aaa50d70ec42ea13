/**
 * The governance commands through the CLI: --json documents, and bad input refused with exit 2
 * naming the field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliHarness } from '../helpers/cli.ts';
import { sharedPath } from '../helpers/shared.ts';

test('assay reviews and assay jml: JSON output, and bad input named with exit code 2', async (t) => {
  const assay = await cliHarness(t);
  assert.equal((await assay('tenant', 'create', 'acme')).code, 0);

  const noReviewer = await assay(
    '--json',
    'reviews',
    'launch',
    '--tenant',
    'acme',
    '--name',
    'Q4',
    '--fallback-reviewer',
    'it',
  );
  assert.equal(noReviewer.code, 2);
  assert.match(noReviewer.json().error.message, /^fallbackReviewer:/);

  const empty = await assay(
    'reviews',
    'launch',
    '--tenant',
    'acme',
    '--name',
    'Q4',
    '--fallback-reviewer',
    'it@acme.test',
  );
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /scope: nothing in scope/);

  const badDue = await assay(
    'reviews',
    'launch',
    '--tenant',
    'acme',
    '--name',
    'Q4',
    '--fallback-reviewer',
    'it@acme.test',
    '--due-in-days',
    'soon',
  );
  assert.equal(badDue.code, 2);
  assert.match(badDue.stderr, /dueInDays/);

  const unknown = await assay('reviews', 'show', 'nope', '--tenant', 'acme');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /campaign "nope" does not exist/);

  const list = await assay('--json', 'reviews', 'list', '--tenant', 'acme');
  assert.equal(list.code, 0);
  assert.deepEqual(list.json(), { campaigns: [] });

  const evaluate = await assay('--json', 'jml', 'evaluate', '--tenant', 'acme');
  assert.equal(evaluate.code, 0);
  assert.equal(evaluate.json().tasksOpened, 0);

  const tasks = await assay('--json', 'jml', 'tasks', '--tenant', 'acme', '--status', 'open');
  assert.deepEqual(tasks.json(), { tasks: [] });
  const badStatus = await assay('jml', 'tasks', '--tenant', 'acme', '--status', 'later');
  assert.equal(badStatus.code, 2);
  assert.match(badStatus.stderr, /--status/);
});

test('assay jml onboarding|approve|movers|settings and assay reviews recurrence: JSON, bad input named, nothing written', async (t) => {
  const assay = await cliHarness(t);
  assert.equal((await assay('tenant', 'create', 'acme')).code, 0);

  const settings = await assay('--json', 'jml', 'settings', '--tenant', 'acme');
  assert.equal(settings.code, 0, settings.stderr);
  assert.equal(settings.json().acknowledgementDays, 30);
  assert.equal(settings.json().accessRequestDays, 7);
  const badSetting = await assay('jml', 'settings', '--tenant', 'acme', '--set', 'trainingDays=soon');
  assert.equal(badSetting.code, 2);
  assert.match(badSetting.stderr, /trainingDays/);
  const unknownSetting = await assay('jml', 'settings', '--tenant', 'acme', '--set', 'graceDays=3');
  assert.equal(unknownSetting.code, 2);
  assert.match(unknownSetting.stderr, /graceDays: unknown setting/);
  assert.equal((await assay('--json', 'jml', 'settings', '--tenant', 'acme')).json().trainingDays, 30);
  const changed = await assay('--json', 'jml', 'settings', '--tenant', 'acme', '--set', 'trainingDays=14');
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal(changed.json().trainingDays, 14);

  const onboarding = await assay('--json', 'jml', 'onboarding', '--tenant', 'acme');
  assert.deepEqual(onboarding.json(), { joiners: [] });
  const badStatus = await assay('jml', 'onboarding', '--tenant', 'acme', '--status', 'late');
  assert.equal(badStatus.code, 2);
  assert.match(badStatus.stderr, /status/);
  const movers = await assay('--json', 'jml', 'movers', '--tenant', 'acme');
  assert.deepEqual(movers.json(), { movers: [] });

  const badTask = await assay(
    'jml',
    'approve',
    'nope',
    '--tenant',
    'acme',
    '--approver',
    'lead@acme.test',
    '--justification',
    'tools',
  );
  assert.equal(badTask.code, 2);
  assert.match(badTask.stderr, /task/);
  const missing = await assay(
    'jml',
    'approve',
    '6f1c2a9e-0000-4000-8000-000000000001',
    '--tenant',
    'acme',
    '--approver',
    'lead@acme.test',
    '--justification',
    'tools',
  );
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /does not exist/);

  const badRecurrence = await assay(
    'reviews',
    'launch',
    '--tenant',
    'acme',
    '--name',
    'Q4',
    '--fallback-reviewer',
    'it@acme.test',
    '--recurrence',
    'weekly',
  );
  assert.equal(badRecurrence.code, 2);
  assert.match(badRecurrence.stderr, /recurrence/);
  const stop = await assay('reviews', 'recurrence', 'nope', '--tenant', 'acme', '--set', 'none');
  assert.equal(stop.code, 2);
  assert.match(stop.stderr, /campaign "nope" does not exist/);
  assert.deepEqual((await assay('--json', 'reviews', 'list', '--tenant', 'acme')).json(), { campaigns: [] });

  // A real credential report's first accounts give the campaign something to review.
  const report = readFileSync(
    sharedPath('samples/iam_credential_report/c7n_account_credential_report.csv'),
    'utf8',
  )
    .split('\n')
    .slice(0, 3)
    .join('\n');
  const file = join(mkdtempSync(join(tmpdir(), 'assay-gov-')), 'report.csv');
  writeFileSync(file, `${report}\n`);
  const imported = await assay('import', 'aws-iam-credential-report', file, '--tenant', 'acme');
  assert.equal(imported.code, 0, imported.stderr);
  const recurring = await assay(
    '--json',
    'reviews',
    'launch',
    '--tenant',
    'acme',
    '--name',
    'AWS access',
    '--fallback-reviewer',
    'it@acme.test',
    '--recurrence',
  );
  assert.equal(recurring.code, 0, recurring.stderr);
  assert.equal(recurring.json().recurrence, 'quarterly', 'quarterly by default');
  const stopped = await assay(
    '--json',
    'reviews',
    'recurrence',
    recurring.json().id,
    '--tenant',
    'acme',
    '--set',
    'none',
  );
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(stopped.json().nextLaunchAt, null);

  // Settings belong to their workspace.
  assert.equal((await assay('tenant', 'create', 'globex')).code, 0);
  assert.equal((await assay('--json', 'jml', 'settings', '--tenant', 'globex')).json().trainingDays, 30);
});
