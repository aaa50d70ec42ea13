/**
 * The auditor's view through the API: an auditor of FY2025 reads readiness, populations, the
 * period's evidence and requests, and downloads a package that verifies offline — for FY2025
 * only; every read is in the audit trail; anything else, and any change, is refused. An owner's
 * export streams the same kind of package.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliActor } from '../../src/cli/runtime.ts';
import { addMember } from '../../src/domains/accounts/memberships.service.ts';
import { verifyPackage } from '../../src/domains/audits/package/verify-package.ts';
import { createPeriod } from '../../src/domains/audits/periods.service.ts';
import { buildTestApp } from '../helpers/app.ts';
import { seedYear } from './fixtures.ts';

test('an auditor reads readiness, populations, evidence and the package of their period only, and is logged', async (t) => {
  const ctx = await buildTestApp(t);
  const seeded = await seedYear(ctx.database);
  await createPeriod(ctx.database, cliActor(), 'acme', {
    name: 'FY2026',
    reportType: 'type2',
    from: '2026-01-01',
    to: '2026-12-31',
  });
  const { user } = await addMember(ctx.database, { actor: cliActor(), mayManageOwners: false }, 'acme', {
    email: 'auditor@cpa.example',
    role: 'auditor',
    expiresAt: new Date(Date.now() + 30 * 86_400_000),
    auditPeriod: { start: '2025-01-01', end: '2025-12-31' },
  });
  const auditor = await ctx.asUser(user.id, user.email);
  const base = '/api/v1/workspaces/acme';

  const readiness = await auditor({ method: 'GET', url: `${base}/readiness?period=FY2025` });
  assert.equal(readiness.statusCode, 200, readiness.body);
  const report = readiness.json();
  assert.equal(report.period.from, '2025-01-01T00:00:00.000Z');
  assert.equal(
    report.controls.find((c: { templateId: string }) => c.templateId === 'AC-05').deviations.missing,
    1,
  );
  const window = await auditor({ method: 'GET', url: `${base}/readiness?period=2025-04-01..2025-06-30` });
  assert.equal(window.statusCode, 200, 'a window inside the period is fine');

  const populations = await auditor({
    method: 'GET',
    url: `${base}/populations?period=FY2025&control=AC-05`,
  });
  assert.equal(populations.statusCode, 200, populations.body);
  const occurrences = populations.json().populations[0].occurrences;
  assert.deepEqual(
    occurrences.map((o: { id: string; status: string }) => `${o.id} ${o.status}`),
    ['2025-Q1 operated', '2025-Q2 missing', '2025-Q3 operated', '2025-Q4 operated'],
  );

  const evidence = await auditor({ method: 'GET', url: `${base}/periods/FY2025/evidence?control=AC-05` });
  assert.equal(evidence.statusCode, 200, evidence.body);
  const ids = evidence
    .json()
    .items.map((i: { id: string }) => i.id)
    .sort();
  assert.deepEqual(ids, [...seeded.reviewEvidenceIds, seeded.fileEvidenceId].sort());

  const periods = await auditor({ method: 'GET', url: `${base}/periods` });
  assert.deepEqual(
    periods.json().periods.map((p: { name: string }) => p.name),
    ['FY2025'],
    'FY2026 is outside the auditor’s period',
  );

  // The owner exports (signing a checkpoint); the auditor downloads against it.
  const exported = await ctx.app.inject({
    method: 'POST',
    url: `${base}/exports`,
    payload: { period: 'FY2025' },
  });
  assert.equal(exported.statusCode, 200, exported.body.slice(0, 300));
  assert.equal(exported.headers['content-type'], 'application/zip');
  const dir = mkdtempSync(join(tmpdir(), 'assay-auditor-'));
  writeFileSync(join(dir, 'owner.zip'), exported.rawPayload);
  const ownerCheck = await verifyPackage(join(dir, 'owner.zip'));
  assert.equal(ownerCheck.ok, true, JSON.stringify(ownerCheck.failure));

  const download = await auditor({ method: 'GET', url: `${base}/exports/package?period=FY2025` });
  assert.equal(download.statusCode, 200, download.body.slice(0, 300));
  assert.match(String(download.headers['content-disposition']), /assay-acme-FY2025\.zip/);
  writeFileSync(join(dir, 'auditor.zip'), download.rawPayload);
  const auditorCheck = await verifyPackage(join(dir, 'auditor.zip'));
  assert.equal(auditorCheck.ok, true, JSON.stringify(auditorCheck.failure));
  assert.equal(auditorCheck.summary?.period.label, 'FY2025');

  // Outside the period: refused, whatever the route.
  for (const url of [
    `${base}/readiness?period=FY2026`,
    `${base}/readiness?period=2024-12-01..2025-12-31`,
    `${base}/populations?period=FY2026`,
    `${base}/periods/FY2026`,
    `${base}/periods/FY2026/evidence`,
    `${base}/periods/FY2026/requests`,
    `${base}/exports/package?period=2025-01-01..2026-01-31`,
  ]) {
    const res = await auditor({ method: 'GET', url });
    assert.equal(res.statusCode, 403, `${url}: ${res.body}`);
  }
  // Read-only: no export of their own (it signs a checkpoint), no period, no request list.
  for (const [url, payload] of [
    [`${base}/exports`, { period: 'FY2025' }],
    [`${base}/periods`, { name: 'X', type: 'type2', from: '2025-01-01', to: '2025-03-31' }],
    [`${base}/periods/FY2025/requests/fulfil`, {}],
  ] as const) {
    const res = await auditor({ method: 'POST', url, payload });
    assert.equal(res.statusCode, 403, `${url}: ${res.body}`);
  }

  // Every read was recorded, with the auditor and the period.
  const trail = await ctx.database.db
    .selectFrom('audit_trail')
    .select(['action', 'actor_id', 'details'])
    .where('workspace_id', '=', seeded.workspaceId)
    .where('action', 'like', 'auditor.%')
    .orderBy('id')
    .execute();
  const actions = trail.map((r) => r.action);
  for (const action of [
    'auditor.readiness_read',
    'auditor.populations_read',
    'auditor.evidence_read',
    'auditor.periods_read',
    'auditor.package_downloaded',
  ]) {
    assert.ok(actions.includes(action), `${action} recorded (${actions.join(', ')})`);
  }
  assert.ok(trail.every((r) => r.actor_id === user.id));
  const exportRecord = await ctx.database.db
    .selectFrom('audit_trail')
    .select(['actor_id'])
    .where('workspace_id', '=', seeded.workspaceId)
    .where('action', '=', 'audit_package.exported')
    .execute();
  assert.equal(exportRecord.length, 2, 'both packages are in the trail');
  assert.ok(exportRecord.some((r) => r.actor_id === user.id));
});
