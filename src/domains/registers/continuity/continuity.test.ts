import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at, registerFixture, tester } from '../shared/testing.ts';
import { listContinuityTests, recordContinuityTest, updateContinuityTest } from './continuity.service.ts';

test('continuity: restore tests are evidence; a target without a successful restore in 92 days is a finding', async (t) => {
  const f = await registerFixture(t);
  await f.run(at('2026-01-01T00:00:00Z'), ['continuity.restore_test_overdue']);
  assert.equal(
    (await f.findings('continuity.restore_test_overdue')).length,
    0,
    'an empty register opens nothing',
  );

  const first = await recordContinuityTest(
    f.database,
    tester,
    f.slug,
    {
      kind: 'backup_restore',
      target: 'Billing DB',
      performedAt: '2026-01-10T10:00:00Z',
      performedBy: 'ben@acme.example',
      result: 'success',
      rtoTargetMinutes: 240,
      rtoActualMinutes: 95,
      rpoTargetMinutes: 60,
      rpoActualMinutes: 15,
    },
    { now: at('2026-01-10T12:00:00Z') },
  );
  const stored = await f.evidence(first.evidence_id);
  assert.equal(stored.item.kind, 'continuity.restore_test');
  assert.deepEqual((stored.content as { test: { rto: unknown } }).test.rto, {
    targetMinutes: 240,
    actualMinutes: 95,
    met: true,
  });
  assert.ok(stored.item.criteria.includes('A1.3'));

  const corrected = await updateContinuityTest(
    f.database,
    tester,
    f.slug,
    first.id,
    { notes: 'Restored to a scratch instance.' },
    {
      now: at('2026-01-11T00:00:00Z'),
    },
  );
  assert.equal(corrected.notes, 'Restored to a scratch instance.');
  assert.notEqual(corrected.evidence_id, first.evidence_id);

  await recordContinuityTest(
    f.database,
    tester,
    f.slug,
    {
      kind: 'backup_restore',
      target: 'billing db',
      performedAt: '2026-04-09T10:00:00Z',
      performedBy: 'ben@acme.example',
      result: 'failed',
    },
    { now: at('2026-04-12T12:00:00Z') },
  );
  const [overdue] = await f.findings('continuity.restore_test_overdue', 'open');
  assert.match(
    overdue!.detail,
    /last successful restore test 2026-01-10, 92 days ago .*; the latest test \(2026-04-09\) failed/,
  );

  const retest = await recordContinuityTest(
    f.database,
    tester,
    f.slug,
    {
      kind: 'backup_restore',
      target: 'Billing DB',
      performedAt: '2026-04-13T10:00:00Z',
      performedBy: 'ben@acme.example',
      result: 'success',
    },
    { now: at('2026-04-13T12:00:00Z') },
  );
  const [closed] = await f.findings('continuity.restore_test_overdue', 'closed');
  assert.ok(closed?.evidence_ids.includes(retest.evidence_id!));
  assert.equal((await listContinuityTests(f.database, f.slug)).length, 3);
  await assert.rejects(
    recordContinuityTest(f.database, tester, f.slug, {
      kind: 'backup_restore',
      target: 'X',
      performedAt: '2026-04-13',
      performedBy: 'a',
      result: 'ok',
    }),
    /result: "ok" is not one of success, partial, failed/,
  );
});
