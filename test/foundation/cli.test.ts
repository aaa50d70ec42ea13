import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliHarness } from '../helpers/cli.ts';

test('CLI: tenant create → scope set → coverage (the quick-start path)', async (t) => {
  const assay = await cliHarness(t);
  const created = await assay('tenant', 'create', 'acme', '--json');
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.json().slug, 'acme');

  const scoped = await assay(
    'scope',
    'set',
    '--tenant',
    'acme',
    '--categories',
    'security,availability,confidentiality',
  );
  assert.equal(scoped.code, 0, scoped.stderr);
  assert.match(scoped.stdout, /38 criteria in scope/);

  const coverage = await assay('coverage', '--tenant', 'acme', '--json');
  assert.equal(coverage.code, 0, coverage.stderr);
  const report = coverage.json();
  const ids: string[] = report.criteria.map((c: { criterion: string }) => c.criterion);
  assert.equal(ids.filter((id) => id.startsWith('CC')).length, 33);
  assert.equal(ids.filter((id) => id.startsWith('A1.')).length, 3);
  assert.equal(ids.filter((id) => id.startsWith('C1.')).length, 2);
  assert.equal(ids.length, 38);
  for (const entry of report.criteria) assert.ok(entry.controls.length >= 1, `${entry.criterion} uncovered`);

  const listed = await assay('controls', 'list', '--tenant', 'acme', '--json');
  assert.equal(listed.code, 0);
  const first = listed.json().controls[0];
  const assigned = await assay(
    'controls',
    'assign',
    first.templateId,
    '--tenant',
    'acme',
    '--owner',
    'lead@acme.example',
    '--json',
  );
  assert.equal(assigned.code, 0, assigned.stderr);
  assert.equal(assigned.json().controls[0].owner, 'lead@acme.example');

  const human = await assay('coverage', '--tenant', 'acme');
  assert.match(human.stdout, /CRITERION\s+CONTROLS\s+OWNED/);
  assert.match(human.stdout, /gaps: 0 criteria uncovered/);
});

test('CLI: MSP and client workspaces', async (t) => {
  const assay = await cliHarness(t);
  assert.equal((await assay('tenant', 'create', 'bluepeak', '--kind', 'msp')).code, 0);
  assert.equal((await assay('tenant', 'create', 'acme', '--parent', 'bluepeak')).code, 0);
  assert.equal((await assay('tenant', 'create', 'zenith', '--parent', 'bluepeak')).code, 0);
  const list = await assay('tenant', 'list', '--parent', 'bluepeak', '--json');
  assert.deepEqual(
    list.json().workspaces.map((w: { slug: string }) => w.slug),
    ['acme', 'zenith'],
  );
});

test('CLI: bad input exits 2 naming the problem, and writes nothing', async (t) => {
  const assay = await cliHarness(t);
  assert.equal((await assay('tenant', 'create', 'acme')).code, 0);

  const unknownCategory = await assay(
    'scope',
    'set',
    '--tenant',
    'acme',
    '--categories',
    'security,uptime',
    '--json',
  );
  assert.equal(unknownCategory.code, 2);
  assert.equal(unknownCategory.json().error.code, 'unknown_category');
  assert.match(unknownCategory.stderr, /unknown category "uptime"/);

  const unknownTenant = await assay('coverage', '--tenant', 'ghost');
  assert.equal(unknownTenant.code, 2);
  assert.match(unknownTenant.stderr, /workspace "ghost" does not exist/);

  const missingFlag = await assay('scope', 'set', '--categories', 'security');
  assert.equal(missingFlag.code, 2);
  assert.match(missingFlag.stderr, /--tenant/);

  const unknownFlag = await assay('controls', 'list', '--tenant', 'acme', '--colour', 'red', '--json');
  assert.equal(unknownFlag.code, 2);
  assert.equal(unknownFlag.json().error.code, 'bad_usage');

  const badSlug = await assay('tenant', 'create', 'Bad Slug');
  assert.equal(badSlug.code, 2);
  assert.match(badSlug.stderr, /slug "Bad Slug"/);

  const badKind = await assay('tenant', 'create', 'x1', '--kind', 'reseller');
  assert.equal(badKind.code, 2);

  const unknownCommand = await assay('frobnicate');
  assert.equal(unknownCommand.code, 2);

  // Nothing from the failed commands was written.
  const coverage = await assay('coverage', '--tenant', 'acme', '--json');
  assert.deepEqual(coverage.json().categories, ['security']);
  const tenants = await assay('tenant', 'list', '--json');
  assert.deepEqual(
    tenants.json().workspaces.map((w: { slug: string }) => w.slug),
    ['acme'],
  );
});

test('CLI: commands scoped to one workspace never show another', async (t) => {
  const assay = await cliHarness(t);
  for (const slug of ['alpha', 'bravo']) {
    await assay('tenant', 'create', slug);
    await assay('scope', 'set', '--tenant', slug, '--categories', 'security');
    await assay('scope', 'system', 'add', '--tenant', slug, '--name', `${slug}-app`, '--kind', 'application');
  }
  const bravoControl = (await assay('controls', 'list', '--tenant', 'bravo', '--json')).json().controls[0];
  const cross = await assay('controls', 'show', bravoControl.id, '--tenant', 'alpha');
  assert.equal(cross.code, 2);
  assert.match(cross.stderr, /does not exist in "alpha"/);
  const crossAssign = await assay(
    'controls',
    'assign',
    bravoControl.id,
    '--tenant',
    'alpha',
    '--owner',
    'x@y.z',
  );
  assert.equal(crossAssign.code, 2);
  const scope = (await assay('scope', 'show', '--tenant', 'alpha', '--json')).json();
  assert.deepEqual(
    scope.systems.map((s: { name: string }) => s.name),
    ['alpha-app'],
  );
  const alphaIds = new Set(
    (await assay('controls', 'list', '--tenant', 'alpha', '--json'))
      .json()
      .controls.map((c: { id: string }) => c.id),
  );
  assert.ok(!alphaIds.has(bravoControl.id));
});
