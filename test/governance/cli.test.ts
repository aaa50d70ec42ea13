/**
 * The governance commands through the CLI: --json documents, and bad input refused with exit 2
 * naming the field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliHarness } from '../helpers/cli.ts';

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
