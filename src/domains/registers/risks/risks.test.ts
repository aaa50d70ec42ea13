import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addSystem } from '../../scope/scope.service.ts';
import { getWorkspace } from '../../workspaces/workspaces.service.ts';
import { listRegisterTasks } from '../shared/registers.repository.ts';
import { at, registerFixture, tester } from '../shared/testing.ts';
import { createVendor } from '../vendors/vendors.service.ts';
import {
  createRisk,
  defaultMatrix,
  getRisk,
  rate,
  reviewRisk,
  setMatrix,
  updateRisk,
} from './risks.service.ts';
import {
  assessSignificantChange,
  listSignificantChanges,
  scanSignificantChanges,
} from './significant-changes.ts';

const base = {
  reference: 'R-001',
  title: 'Credential stuffing against the customer login',
  owner: 'ciso@acme.example',
  inherentLikelihood: 4,
  inherentImpact: 5,
  residualLikelihood: 2,
  residualImpact: 4,
  treatment: 'mitigate',
  controls: 'AC-02;MON-02',
};

test('risks: rated on the 5×5 scale, created and updated with each assessment in the ledger', async (t) => {
  const f = await registerFixture(t);
  const risk = await createRisk(f.database, tester, f.slug, base, { now: at('2026-01-10T00:00:00Z') });
  assert.deepEqual(risk.control_ids, ['AC-02', 'MON-02']);
  assert.deepEqual(rate(defaultMatrix, 4, 5), { score: 20, rating: 'critical' });
  assert.deepEqual(rate(defaultMatrix, 2, 4), { score: 8, rating: 'medium' });

  const fraud = await createRisk(
    f.database,
    tester,
    f.slug,
    { ...base, reference: 'R-002', title: 'Refund fraud by support staff', fraudRisk: true, controls: '' },
    { now: at('2026-01-10T00:00:00Z') },
  );
  const evidence = await f.evidence(fraud.evidence_id);
  assert.ok(evidence.item.criteria.includes('CC3.3'), 'a fraud risk proves CC3.3');

  const updated = await updateRisk(
    f.database,
    tester,
    f.slug,
    'r-001',
    { residualLikelihood: 1, treatment: 'accept' },
    {
      now: at('2026-02-01T00:00:00Z'),
    },
  );
  assert.equal(updated.treatment, 'accept');
  assert.equal((await f.evidenceOfKind('risk.assessment')).length, 3);

  await assert.rejects(
    createRisk(f.database, tester, f.slug, { ...base, reference: 'R-009', inherentImpact: 6 }),
    /inherentImpact: must be from 1 to 5/,
  );
  await assert.rejects(
    createRisk(f.database, tester, f.slug, { ...base, reference: 'R-010', controls: 'XX-1' }),
    /controls: "XX-1" is not an active control/,
  );
  await assert.rejects(
    createRisk(f.database, tester, f.slug, { ...base, reference: 'R-011', treatment: 'ignore' }),
    /treatment: "ignore"/,
  );
  await assert.rejects(
    createRisk(f.database, tester, f.slug, base),
    (e: Error & { code?: string }) => e.code === 'register_record_exists',
  );

  // The scale is configurable, but cannot shrink below ratings already given.
  await assert.rejects(
    setMatrix(f.database, tester, f.slug, { impactLevels: 4, criticalFrom: 14 }),
    /re-rate them before shrinking/,
  );
  const matrix = await setMatrix(f.database, tester, f.slug, { likelihoodLevels: 6, criticalFrom: 20 });
  assert.equal(matrix.likelihoodLevels, 6);
  const withSix = await createRisk(f.database, tester, f.slug, {
    ...base,
    reference: 'R-003',
    inherentLikelihood: 6,
  });
  assert.equal(withSix.inherent_likelihood, 6);
});

test('risk register review: overdue a cadence after the last review, closed by the review', async (t) => {
  const f = await registerFixture(t);
  await f.run(at('2026-01-01T00:00:00Z'), ['risk.register_review_overdue']);
  assert.equal(
    (await f.findings('risk.register_review_overdue')).length,
    0,
    'an empty register opens nothing',
  );
  await createRisk(f.database, tester, f.slug, base, { now: at('2025-01-10T00:00:00Z') });
  await createRisk(
    f.database,
    tester,
    f.slug,
    { ...base, reference: 'R-002', reviewCadenceDays: 90 },
    { now: at('2025-12-01T00:00:00Z') },
  );
  await f.run(at('2026-01-15T00:00:00Z'), ['risk.register_review_overdue']);
  const [overdue] = await f.findings('risk.register_review_overdue', 'open');
  assert.match(
    overdue!.detail,
    /1 of 2 open risks overdue for review: R-001 \(last 2025-01-10, due 2026-01-10\)/,
  );
  const { review } = await reviewRisk(
    f.database,
    tester,
    f.slug,
    'R-001',
    { reviewer: 'ciso@acme.example', notes: 'Bot protection deployed.', residualLikelihood: 1 },
    { now: at('2026-01-20T00:00:00Z') },
  );
  const [closed] = await f.findings('risk.register_review_overdue', 'closed');
  assert.ok(closed?.evidence_ids.includes(review.evidence_id!));
  const detail = await getRisk(f.database, f.slug, 'R-001');
  assert.equal(detail.reviews.length, 1);
  assert.equal(detail.risk.residual_likelihood, 1);
  // R-002 is reviewed quarterly: due 2026-03-01.
  await f.run(at('2026-03-02T00:00:00Z'), ['risk.register_review_overdue']);
  assert.match((await f.findings('risk.register_review_overdue', 'open'))[0]!.detail, /R-002/);
});

test('significant changes: a new vendor or in-scope system opens a reassessment task (CC3.4)', async (t) => {
  const f = await registerFixture(t);
  await createRisk(f.database, tester, f.slug, base, { now: at('2026-01-01T00:00:00Z') });
  await createVendor(
    f.database,
    tester,
    f.slug,
    { name: 'Cloudly', criticality: 'high' },
    { now: at('2026-02-01T00:00:00Z') },
  );
  await addSystem(f.database, tester, f.slug, {
    name: 'Billing',
    kind: 'application',
    environment: 'production',
    dataClassification: 'confidential',
  });
  const found = await scanSignificantChanges(f.database, tester, f.slug);
  assert.equal(found.length, 1);
  assert.equal(
    (await scanSignificantChanges(f.database, tester, f.slug)).length,
    0,
    'detection is idempotent',
  );
  const changes = await listSignificantChanges(f.database, f.slug);
  assert.deepEqual(changes.map((c) => c.kind).sort(), ['new_system', 'new_vendor']);
  const workspace = await getWorkspace(f.database, f.slug);
  const tasks = await f.database.inWorkspace(workspace.id, (trx) =>
    listRegisterTasks(trx, workspace.id, 'risk_reassessment'),
  );
  assert.equal(tasks.filter((task) => task.status === 'open').length, 2);
  const vendorChange = changes.find((c) => c.kind === 'new_vendor')!;
  assert.equal(
    tasks.find((task) => task.id === vendorChange.task_id)?.due_at?.toISOString(),
    '2026-03-03T00:00:00.000Z',
  );

  const assessed = await assessSignificantChange(f.database, tester, f.slug, vendorChange.id, {
    assessedBy: 'ciso@acme.example',
    assessment: 'Cloudly hosts production: covered by R-001; no new risk.',
    risks: ['R-001'],
  });
  assert.ok(assessed.evidence_id);
  const after = await f.database.inWorkspace(workspace.id, (trx) =>
    listRegisterTasks(trx, workspace.id, 'risk_reassessment'),
  );
  assert.equal(after.find((task) => task.id === vendorChange.task_id)?.status, 'done');
  await assert.rejects(
    assessSignificantChange(f.database, tester, f.slug, vendorChange.id, {
      assessedBy: 'x',
      assessment: 'again',
    }),
    /already assessed/,
  );
});
