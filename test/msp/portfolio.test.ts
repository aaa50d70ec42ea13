import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createPeriod } from '../../src/domains/audits/periods.service.ts';
import { importFile } from '../../src/domains/ingest/import.service.ts';
import { credentialReport, roster } from '../../src/domains/monitoring/checks/check-testing.ts';
import { runChecks } from '../../src/domains/monitoring/run-checks.service.ts';
import { mspPortfolio } from '../../src/domains/msp/portfolio.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { createTestDatabase } from '../helpers/database.ts';

const actor = { type: 'cli', id: 'portfolio-test' } as const;
const lines = (text: string) => Readable.from([text]) as AsyncIterable<string>;

test('the portfolio shows each client’s failing controls, findings, overdue reviews, audits and drift', async (t) => {
  const { database: db } = await createTestDatabase(t);
  await createWorkspace(db, actor, { slug: 'msp', kind: 'msp' });
  const acme = await createWorkspace(db, actor, { slug: 'acme', parent: 'msp' });
  await createWorkspace(db, actor, { slug: 'calm', parent: 'msp' });

  await importFile(
    db,
    actor,
    'acme',
    'hr-roster',
    lines(roster({ id: 'E1', name: 'Alice', email: 'alice@acme.test' })),
    {
      fileName: 'roster.csv',
      observedAt: '2026-09-30T00:00:00Z',
    },
  );
  const report = (mfa: boolean) =>
    lines(
      credentialReport({
        user: 'alice@acme.test',
        password: true,
        mfa,
        passwordLastUsed: '2026-09-30T00:00:00+00:00',
      }),
    );
  await importFile(db, actor, 'acme', 'aws-iam-credential-report', report(false), {
    fileName: 'r1.csv',
    observedAt: '2026-09-30T00:00:00Z',
  });
  await runChecks(db, actor, 'acme', { asOf: new Date('2026-10-01T00:00:00Z') });
  const failingAfterFirstRun = (
    await db.db
      .selectFrom('controls')
      .select('template_id')
      .where('workspace_id', '=', acme.id)
      .where('status', '=', 'failing')
      .execute()
  ).map((c) => c.template_id);
  assert.ok(failingAfterFirstRun.length > 0, 'a password without MFA should fail a control');

  await createPeriod(db, actor, 'acme', {
    name: 'FY2026',
    reportType: 'type2',
    from: '2026-07-01',
    to: '2026-12-31',
  });
  await db.db
    .insertInto('vendors')
    .values({
      workspace_id: acme.id,
      name: 'Old Hosting',
      criticality: 'high',
      review_cadence_days: 365,
      last_reviewed_at: new Date('2025-01-01T00:00:00Z'),
    } as never)
    .execute();

  const now = new Date('2026-10-05T00:00:00Z');
  const p = await mspPortfolio(db, 'msp', null, { now, deprovisioningSlaHours: 24, driftDays: 7 });
  assert.deepEqual(
    p.clients.map((c) => c.client),
    ['acme', 'calm'],
  );
  const a = p.clients[0]!;
  const calm = p.clients[1]!;
  assert.deepEqual(a.failingControls, [...failingAfterFirstRun].sort());
  assert.equal(a.controls.failing, failingAfterFirstRun.length);
  const openFindings = await db.db
    .selectFrom('findings')
    .select('id')
    .where('workspace_id', '=', acme.id)
    .where('status', '=', 'open')
    .execute();
  assert.ok(openFindings.length > 0);
  assert.equal(a.findings.open, openFindings.length);
  assert.deepEqual(a.overdueReviews.vendors, ['Old Hosting']);
  assert.deepEqual(
    a.upcomingAudits.map((u) => [u.name, u.endsOn, u.daysToEnd]),
    [['FY2026', '2026-12-31', 87]],
  );
  assert.equal(typeof a.readiness?.score, 'number');
  assert.equal(a.readiness?.window.from, '2026-07-01T00:00:00.000Z');
  // The first evaluation is where a control starts, not drift.
  assert.equal(a.drift.changes, 0);
  assert.equal(calm.controls.failing, 0);
  assert.equal(calm.findings.open, 0);
  assert.deepEqual(calm.upcomingAudits, []);
  assert.equal(p.totals.failingControls, failingAfterFirstRun.length);

  // Alice enrols MFA; the next evaluation turns the control: that is drift.
  await importFile(db, actor, 'acme', 'aws-iam-credential-report', report(true), {
    fileName: 'r2.csv',
    observedAt: '2026-10-02T00:00:00Z',
  });
  await runChecks(db, actor, 'acme', { asOf: new Date('2026-10-03T00:00:00Z') });
  const p2 = await mspPortfolio(db, 'msp', null, {
    now,
    deprovisioningSlaHours: 24,
    driftDays: 7,
    readiness: false,
  });
  const a2 = p2.clients[0]!;
  assert.ok(a2.drift.changes > 0);
  for (const id of a2.drift.controls)
    assert.ok(failingAfterFirstRun.includes(id), `${id} drifted without having failed`);
  assert.ok(a2.controls.failing < failingAfterFirstRun.length);
  assert.equal(a2.readiness, null);

  // Reach: only the clients given.
  const narrowed = await mspPortfolio(db, 'msp', new Set([acme.id]), {
    now,
    deprovisioningSlaHours: 24,
    readiness: false,
  });
  assert.deepEqual(
    narrowed.clients.map((c) => c.client),
    ['acme'],
  );
  await assert.rejects(
    mspPortfolio(db, 'msp', new Set<string>(), { now, deprovisioningSlaHours: 24 }),
    /does not exist/,
  );
});
