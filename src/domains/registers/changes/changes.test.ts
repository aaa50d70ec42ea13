import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at, registerFixture, tester } from '../shared/testing.ts';
import { changePicture, getChange, recordChange, updateChange } from './changes.service.ts';

test('manual changes: recorded and approved as evidence; author ≠ approver; emergencies approved within days', async (t) => {
  const f = await registerFixture(t);
  const change = await recordChange(
    f.database,
    tester,
    f.slug,
    {
      ticket: 'CHG-101',
      title: 'Rotate database credentials',
      system: 'Billing DB',
      author: 'ana@acme.example',
      approver: 'ben@acme.example',
      approvedAt: '2026-03-01T09:00:00Z',
      tester: 'cho@acme.example',
      implementedAt: '2026-03-01T18:00:00Z',
    },
    { now: at('2026-03-02T00:00:00Z') },
  );
  assert.equal(change.status, 'implemented');
  assert.equal((await f.evidence(change.evidence_id)).item.kind, 'change.manual_record');
  assert.equal((await f.findings('change.manual_segregation_of_duties')).length, 0);

  await recordChange(
    f.database,
    tester,
    f.slug,
    {
      ticket: 'CHG-102',
      title: 'Firewall rule',
      system: 'Billing DB',
      author: 'Ana@acme.example',
      approver: 'ana@acme.example',
      approvedAt: '2026-03-03T09:00:00Z',
      implementedAt: '2026-03-03T10:00:00Z',
    },
    { now: at('2026-03-04T00:00:00Z') },
  );
  const [selfApproved] = await f.findings('change.manual_segregation_of_duties', 'open');
  assert.match(selfApproved!.detail, /CHG-102: approved by its own author/);

  // An emergency change has five days for its retroactive approval.
  await recordChange(
    f.database,
    tester,
    f.slug,
    {
      ticket: 'CHG-103',
      title: 'Hotfix',
      system: 'API',
      emergency: true,
      author: 'cho@acme.example',
      implementedAt: '2026-03-05T02:00:00Z',
    },
    { now: at('2026-03-05T03:00:00Z') },
  );
  await f.run(at('2026-03-08T00:00:00Z'), ['change.manual_segregation_of_duties']);
  assert.equal(
    (await f.findings('change.manual_segregation_of_duties', 'open')).length,
    1,
    'within the five days',
  );
  await f.run(at('2026-03-11T00:00:00Z'), ['change.manual_segregation_of_duties']);
  const api = (await f.findings('change.manual_segregation_of_duties', 'open')).find(
    (x) => (x.subject as { name: string }).name === 'API',
  );
  assert.match(api!.detail, /CHG-103: emergency change without a retroactive approval within 5 days/);

  const approved = await updateChange(
    f.database,
    tester,
    f.slug,
    'chg-103',
    { approver: 'ben@acme.example', approvedAt: '2026-03-09T00:00:00Z' },
    {
      now: at('2026-03-11T01:00:00Z'),
    },
  );
  assert.match(JSON.stringify((await f.evidence(approved.evidence_id)).content), /approved retroactively/);
  assert.equal(
    (await f.findings('change.manual_segregation_of_duties', 'open')).filter(
      (x) => (x.subject as { name: string }).name === 'API',
    ).length,
    0,
  );
  await updateChange(
    f.database,
    tester,
    f.slug,
    'CHG-102',
    { approver: 'ben@acme.example' },
    { now: at('2026-03-11T02:00:00Z') },
  );
  const stillLate = await f.findings('change.manual_segregation_of_duties', 'open');
  assert.match(stillLate[0]!.detail, /CHG-102: approved only after it was implemented/);

  const picture = await changePicture(f.database, f.slug, { from: '2026-03-01', to: '2026-03-31' });
  assert.equal(picture.summary.manualChanges, 3);
  assert.equal(picture.summary.manualEmergency, 1);
  assert.equal(picture.summary.manualWithSegregationIssues, 1);
  assert.equal((await getChange(f.database, f.slug, 'CHG-101')).ticket, 'CHG-101');
  await assert.rejects(
    recordChange(f.database, tester, f.slug, { ticket: 'CHG-9', title: 'x' }),
    /author: is required/,
  );
  await assert.rejects(
    recordChange(f.database, tester, f.slug, {
      ticket: 'CHG-9',
      title: 'x',
      author: 'a',
      status: 'approved',
    }),
    /approver: an approved change names its approver/,
  );
});
