import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliHarness } from '../../../test/helpers/cli.ts';

test('assay registers: vendors, risks, policies, incidents, training, changes, continuity and CSV round trip', async (t) => {
  const assay = await cliHarness(t);
  const dir = mkdtempSync(join(tmpdir(), 'assay-registers-'));
  const ok = async (...args: string[]) => {
    const r = await assay(...args);
    assert.equal(r.code, 0, `assay ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  await ok('tenant', 'create', 'acme');
  await ok('scope', 'set', '--tenant', 'acme', '--categories', 'security,availability');

  await ok(
    'vendors',
    'add',
    'Cloudly',
    '--criticality',
    'high',
    '--data-accessed',
    'customer data,logs',
    '--tenant',
    'acme',
  );
  const report = await ok(
    'vendors',
    'report',
    'Cloudly',
    '--tenant',
    'acme',
    '--kind',
    'soc2_type2',
    '--period-start',
    '2025-10-01',
    '--period-end',
    '2026-09-30',
    '--auditor',
    'Moss LLP',
    '--opinion',
    'qualified',
    '--cuec',
    'CUEC-1|Review access quarterly|AC-03',
    '--cuec',
    'CUEC-2|Protect keys',
    '--json',
  );
  assert.equal(report.json().cuecs.length, 2);
  const vendors = (await ok('vendors', 'list', '--tenant', 'acme', '--json')).json().vendors;
  assert.deepEqual(
    vendors.map((v: { name: string; dataAccessed: string[] }) => [v.name, v.dataAccessed]),
    [['Cloudly', ['customer data', 'logs']]],
  );
  // Recording the report evaluated the vendor monitors: a qualified opinion and an unmapped CUEC.
  const findings = (await ok('findings', 'list', '--tenant', 'acme', '--status', 'open', '--json')).json()
    .findings;
  assert.deepEqual(findings.map((f: { checkId: string }) => f.checkId).sort(), [
    'vendor.cuec_unmapped',
    'vendor.opinion_qualified',
  ]);

  await ok(
    'risks',
    'add',
    'R-001',
    '--title',
    'Account takeover',
    '--inherent-likelihood',
    '4',
    '--inherent-impact',
    '5',
    '--treatment',
    'mitigate',
    '--controls',
    'AC-02',
    '--tenant',
    'acme',
  );
  const risk = (await ok('risks', 'show', 'r-001', '--tenant', 'acme', '--json')).json();
  assert.equal(risk.risk.inherent.rating, 'critical');
  assert.match(
    (await ok('risks', 'matrix', '--tenant', 'acme')).stdout,
    /5×5: medium from 5, high from 10, critical from 17/,
  );

  const body = join(dir, 'aup.md');
  writeFileSync(body, '# Acceptable use\n\nBe careful.\n');
  await ok('policies', 'add', 'Acceptable Use', '--file', body, '--tenant', 'acme');
  await ok(
    'policies',
    'approve',
    'Acceptable Use',
    '1',
    '--approver',
    'ceo@acme.example',
    '--tenant',
    'acme',
  );
  await ok('policies', 'publish', 'Acceptable Use', '1', '--tenant', 'acme');
  await ok('policies', 'acknowledge', 'Acceptable Use', '--email', 'ana@acme.example', '--tenant', 'acme');
  const acks = (
    await ok('policies', 'acknowledgements', 'Acceptable Use', '1', '--tenant', 'acme', '--json')
  ).json();
  assert.deepEqual(
    acks.acknowledgements.map((a: { email: string }) => a.email),
    ['ana@acme.example'],
  );

  await ok(
    'incidents',
    'add',
    'INC-1',
    '--title',
    'Phishing',
    '--severity',
    'low',
    '--timeline',
    '2026-01-01T10:00:00Z Reported',
    '--tenant',
    'acme',
  );
  await ok('incidents', 'plan', '--title', 'IR plan v2', '--tenant', 'acme');
  await ok(
    'incidents',
    'exercises',
    'add',
    'Ransomware',
    '--scenario',
    'Build server encrypted',
    '--held-at',
    '2026-10-01T14:00:00Z',
    '--participants',
    'ana,ben',
    '--follow-up',
    'Shorter backups|ben|2026-12-31',
    '--tenant',
    'acme',
  );
  assert.match(
    (await ok('incidents', 'plan', '--tenant', 'acme')).stdout,
    /IR plan v2; last tested 2026-10-01/,
  );
  await ok(
    'training',
    'add-course',
    'SAT',
    '--title',
    'Security awareness',
    '--kind',
    'security_awareness',
    '--frequency',
    'annual',
    '--tenant',
    'acme',
  );
  await ok(
    'training',
    'complete',
    'SAT',
    'ana@acme.example',
    '--completed-at',
    '2026-10-02',
    '--tenant',
    'acme',
  );
  await ok(
    'changes',
    'add',
    'CHG-1',
    '--title',
    'Hotfix',
    '--author',
    'ana',
    '--approver',
    'ana',
    '--implemented-at',
    '2026-11-01T10:00:00Z',
    '--tenant',
    'acme',
  );
  assert.match(
    (await ok('changes', 'show', 'CHG-1', '--tenant', 'acme')).stdout,
    /segregation of duties: approved by its own author/,
  );
  await ok(
    'continuity',
    'add',
    'backup_restore',
    'Billing DB',
    '--performed-at',
    '2026-11-01T10:00:00Z',
    '--performed-by',
    'ben',
    '--result',
    'success',
    '--tenant',
    'acme',
  );

  // Export registers to files and import them into a second workspace (every kind round-trips in
  // registers.test.ts; here the command plumbing).
  await ok('tenant', 'create', 'copy');
  await ok('scope', 'set', '--tenant', 'copy', '--categories', 'security,availability');
  const kinds = (await ok('registers', 'kinds', '--json')).json().kinds.map((k: { kind: string }) => k.kind);
  assert.equal(kinds.length, 13);
  for (const kind of ['vendors', 'policies', 'changes']) {
    const file = join(dir, `${kind}.csv`);
    await ok('registers', 'export', kind, file, '--tenant', 'acme');
    await ok('registers', 'import', kind, file, '--tenant', 'copy');
    const copy = await ok('registers', 'export', kind, '--tenant', 'copy');
    assert.equal(copy.stdout, readFileSync(file, 'utf8'), `${kind} round trip`);
  }

  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'ticket,title,author,emergency\nCHG-9,Fix,ana,perhaps\n');
  const rejected = await assay('registers', 'import', 'changes', bad, '--tenant', 'acme');
  assert.equal(rejected.code, 2);
  assert.match(rejected.stderr, /line 2, emergency: must be true or false/);
  const json = await assay('registers', 'import', 'changes', bad, '--tenant', 'acme', '--json');
  assert.equal(json.json().error.code, 'import_rejected');
  assert.equal((await assay('vendors', 'add', 'X', '--criticality', 'huge', '--tenant', 'acme')).code, 2);
});
