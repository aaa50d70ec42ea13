import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addPeople, at, registerFixture, tester } from '../shared/testing.ts';
import {
  acknowledgePolicy,
  addPolicyStatement,
  approvePolicyVersion,
  createPolicy,
  getPolicy,
  policyStatements,
  publishPolicyVersion,
  reviewPolicy,
  savePolicyDraft,
  updatePolicy,
  versionAcknowledgements,
} from './policies.service.ts';

test('policies: draft, approve, publish and update; approval and publication are evidence', async (t) => {
  const f = await registerFixture(t);
  const { policy, version } = await createPolicy(
    f.database,
    tester,
    f.slug,
    {
      title: 'Information Security Policy',
      owner: 'ciso@acme.example',
      body: '# Security\n\nMFA everywhere.',
      controls: 'GOV-06',
    },
    { now: at('2026-01-05T00:00:00Z') },
  );
  assert.equal(policy.status, 'draft');
  assert.equal(version?.version, 1);
  // An unapproved draft is revised in place.
  const revised = await savePolicyDraft(f.database, tester, f.slug, policy.id, {
    body: '# Security\n\nMFA for all access.',
  });
  assert.equal(revised.version, 1);
  await assert.rejects(
    publishPolicyVersion(f.database, tester, f.slug, policy.id, 1, {}),
    /is not approved yet: approve it before publishing/,
  );
  const approved = await approvePolicyVersion(f.database, tester, f.slug, 'information security policy', 1, {
    approver: 'ceo@acme.example',
    approvedAt: '2026-01-06T10:00:00Z',
  });
  assert.equal(approved.approved_by, 'ceo@acme.example');
  const published = await publishPolicyVersion(
    f.database,
    tester,
    f.slug,
    policy.id,
    1,
    { publishedAt: '2026-01-07T00:00:00Z' },
    {
      now: at('2026-01-07T00:00:00Z'),
    },
  );
  assert.equal(published.policy.status, 'active');
  assert.equal(published.policy.last_reviewed_at?.toISOString(), '2026-01-06T10:00:00.000Z');
  assert.equal(published.campaign?.due_at.toISOString(), '2026-02-06T00:00:00.000Z');
  // Approved text is fixed: changing it makes version 2.
  const v2 = await savePolicyDraft(f.database, tester, f.slug, policy.id, {
    body: '# Security\n\nMFA and SSO.',
    changeSummary: 'SSO',
  });
  assert.equal(v2.version, 2);

  const updated = await updatePolicy(f.database, tester, f.slug, policy.id, { reviewCadenceDays: 180 });
  assert.equal(updated.review_cadence_days, 180);

  const approval = await f.evidence(approved.approval_evidence_id);
  assert.equal(approval.item.kind, 'policy.approval');
  assert.ok(approval.item.controls.includes('GOV-06'));
  const publication = await f.evidence(published.version.publication_evidence_id);
  assert.equal((publication.content as { body: string }).body, '# Security\n\nMFA for all access.');
});

test('policy acknowledgements: version 1 records survive version 2, whose campaign tracks its own', async (t) => {
  const f = await registerFixture(t);
  await addPeople(f.database, f.slug, [
    { email: 'ana@acme.example', startDate: '2024-01-01' },
    { email: 'ben@acme.example', startDate: '2024-01-01' },
    { email: 'cho@acme.example', startDate: '2026-03-01' },
  ]);
  const { policy } = await createPolicy(
    f.database,
    tester,
    f.slug,
    { title: 'Acceptable Use', body: 'v1 text' },
    { now: at('2026-01-01T00:00:00Z') },
  );
  await approvePolicyVersion(f.database, tester, f.slug, policy.id, 1, {
    approver: 'ceo@acme.example',
    approvedAt: '2026-01-01T00:00:00Z',
  });
  await publishPolicyVersion(
    f.database,
    tester,
    f.slug,
    policy.id,
    1,
    { publishedAt: '2026-01-01T00:00:00Z', dueAt: '2026-01-31' },
    {
      now: at('2026-01-01T00:00:00Z'),
    },
  );
  for (const [who, when] of [
    ['ana@acme.example', '2026-01-10T09:00:00Z'],
    ['Ben@Acme.example', '2026-01-12T15:30:00Z'],
  ] as const) {
    await acknowledgePolicy(
      f.database,
      tester,
      f.slug,
      'Acceptable Use',
      { email: who, acknowledgedAt: when },
      { now: at(when) },
    );
  }
  // A repeat keeps the first record.
  const repeat = await acknowledgePolicy(
    f.database,
    tester,
    f.slug,
    policy.id,
    { email: 'ana@acme.example' },
    { now: at('2026-01-20T00:00:00Z') },
  );
  assert.equal(repeat.created, false);
  assert.equal(repeat.row.acknowledged_at.toISOString(), '2026-01-10T09:00:00.000Z');

  // Cho joined 2026-03-01: due 30 days later, so nothing is missing on 2026-03-15.
  await f.run(at('2026-03-15T00:00:00Z'), ['policy.acknowledgements_missing']);
  assert.equal((await f.findings('policy.acknowledgements_missing', 'open')).length, 0);
  await f.run(at('2026-04-05T00:00:00Z'), ['policy.acknowledgements_missing']);
  const [late] = await f.findings('policy.acknowledgements_missing', 'open');
  assert.ok(late);
  assert.match(late.detail, /version 1: 1 of 3 have not acknowledged .*cho@acme\.example/);
  await acknowledgePolicy(
    f.database,
    tester,
    f.slug,
    policy.id,
    { email: 'cho@acme.example' },
    { now: at('2026-04-06T00:00:00Z') },
  );
  assert.equal((await f.findings('policy.acknowledgements_missing', 'open')).length, 0);

  // Version 2 is published with its own campaign.
  await savePolicyDraft(f.database, tester, f.slug, policy.id, {
    body: 'v2 text',
    changeSummary: 'AI tools',
  });
  await approvePolicyVersion(f.database, tester, f.slug, policy.id, 2, {
    approver: 'ceo@acme.example',
    approvedAt: '2026-06-01T00:00:00Z',
  });
  await publishPolicyVersion(
    f.database,
    tester,
    f.slug,
    policy.id,
    2,
    {
      publishedAt: '2026-06-01T00:00:00Z',
      dueAt: '2026-06-15',
      audience: ['ana@acme.example', 'ben@acme.example'],
    },
    { now: at('2026-06-01T00:00:00Z') },
  );
  await acknowledgePolicy(
    f.database,
    tester,
    f.slug,
    policy.id,
    { email: 'ana@acme.example', acknowledgedAt: '2026-06-02T08:00:00Z' },
    {
      now: at('2026-06-02T08:00:00Z'),
    },
  );

  const v1 = await versionAcknowledgements(f.database, f.slug, policy.id, 1, {
    asOf: at('2026-06-20T00:00:00Z'),
  });
  assert.deepEqual(
    v1.acknowledgements.map((a) => [a.email, a.acknowledged_at.toISOString()]),
    [
      ['ana@acme.example', '2026-01-10T09:00:00.000Z'],
      ['ben@acme.example', '2026-01-12T15:30:00.000Z'],
      ['cho@acme.example', '2026-04-06T00:00:00.000Z'],
    ],
  );
  const v2 = await versionAcknowledgements(f.database, f.slug, policy.id, 2, {
    asOf: at('2026-06-20T00:00:00Z'),
  });
  assert.deepEqual(
    v2.acknowledgements.map((a) => a.email),
    ['ana@acme.example'],
  );
  assert.equal(v2.campaign?.due_at.toISOString(), '2026-06-15T00:00:00.000Z');
  assert.equal(v2.status?.audience, 'listed');
  assert.deepEqual(
    v2.status?.overdue.map((m) => m.email),
    ['ben@acme.example'],
  );
  assert.notEqual(v2.campaign?.id, v1.campaign?.id);

  // The monitor judges the version in force: Ben is late for version 2.
  await f.run(at('2026-06-20T00:00:00Z'), ['policy.acknowledgements_missing']);
  const [v2late] = await f.findings('policy.acknowledgements_missing', 'open');
  assert.match(v2late!.detail, /version 2: 1 of 2 .*ben@acme\.example/);

  const acks = await f.evidenceOfKind('policy.acknowledgement');
  assert.equal(acks.length, 4);
  assert.ok(acks.every((a) => a.subject?.type === 'person'));
});

test('policies: the review is due a cadence after the last approval or review', async (t) => {
  const f = await registerFixture(t);
  const { policy } = await createPolicy(
    f.database,
    tester,
    f.slug,
    {
      title: 'Incident Response Plan',
      kind: 'plan',
      body: 'Call the on-call.',
      acknowledgementRequired: false,
      controls: 'INC-01',
    },
    { now: at('2025-01-01T00:00:00Z') },
  );
  await approvePolicyVersion(f.database, tester, f.slug, policy.id, 1, {
    approver: 'ciso@acme.example',
    approvedAt: '2025-01-02T00:00:00Z',
  });
  await publishPolicyVersion(
    f.database,
    tester,
    f.slug,
    policy.id,
    1,
    { publishedAt: '2025-01-02T00:00:00Z' },
    { now: at('2025-01-02T00:00:00Z') },
  );
  await f.run(at('2025-12-31T00:00:00Z'), ['policy.review_overdue']);
  assert.equal((await f.findings('policy.review_overdue', 'open')).length, 0);
  await f.run(at('2026-01-10T00:00:00Z'), ['policy.review_overdue']);
  const [overdue] = await f.findings('policy.review_overdue', 'open');
  assert.match(overdue!.detail, /last reviewed 2025-01-02; the review was due 2026-01-02/);
  assert.ok(overdue!.control_ids.includes('INC-01'));
  // The plan says it is reviewed yearly; practice contradicts it while the review is overdue.
  await addPolicyStatement(f.database, tester, f.slug, 'incident response plan', {
    statement: 'This plan is reviewed every year',
    checks: ['policy.review_overdue'],
  });
  const before = await policyStatements(f.database, f.slug, policy.id);
  assert.deepEqual(
    before.statements.map((x) => x.practice.status),
    ['contradicted'],
  );
  const review = await reviewPolicy(
    f.database,
    tester,
    f.slug,
    policy.id,
    { reviewer: 'ciso@acme.example', outcome: 'no_change', notes: 'Still accurate.' },
    { now: at('2026-01-12T00:00:00Z') },
  );
  const [closed] = await f.findings('policy.review_overdue', 'closed');
  assert.ok(closed?.evidence_ids.includes(review.evidence_id!));
  assert.equal((await getPolicy(f.database, f.slug, policy.id)).reviews.length, 1);
  assert.deepEqual(
    (await policyStatements(f.database, f.slug, policy.id)).statements.map((x) => x.practice.status),
    ['matches'],
  );
  // Draft-only and retired policies are not judged; no acknowledgement is asked of a plan.
  assert.equal((await f.findings('policy.acknowledgements_missing')).length, 0);
});
