import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at, registerFixture, tester } from '../shared/testing.ts';
import {
  addFollowUp,
  createIncident,
  getIncident,
  getPlan,
  listExercises,
  recordExercise,
  setPlan,
  updateFollowUp,
  updateIncident,
} from './incidents.service.ts';

test('incidents: reported, updated through to closure with timeline and notifications, each step evidence', async (t) => {
  const f = await registerFixture(t);
  const incident = await createIncident(
    f.database,
    tester,
    f.slug,
    {
      reference: 'INC-2026-001',
      title: 'Leaked API key in a public gist',
      severity: 'high',
      detectedAt: '2026-03-01T08:15:00Z',
      controls: 'INC-04',
      timeline: '2026-03-01T08:15:00Z Secret scanning alert\n2026-03-01T08:40:00Z Key revoked',
    },
    { now: at('2026-03-01T09:00:00Z') },
  );
  assert.equal(incident.status, 'open');
  assert.deepEqual(
    incident.timeline.map((e) => e.entry),
    ['Secret scanning alert', 'Key revoked'],
  );
  await assert.rejects(
    updateIncident(f.database, tester, f.slug, 'INC-2026-001', { status: 'closed' }),
    /rootCause: a high-severity incident is closed only with its root cause recorded/,
  );
  const closed = await updateIncident(
    f.database,
    tester,
    f.slug,
    'inc-2026-001',
    {
      status: 'closed',
      rootCause: 'A developer committed a test key to a personal gist.',
      addTimeline: [{ at: '2026-03-02T10:00:00Z', entry: 'Post-incident review held' }],
      addNotification: '2026-03-01T12:00:00Z Customer Acme Corp (email)',
    },
    { now: at('2026-03-02T12:00:00Z') },
  );
  assert.equal(closed.status, 'closed');
  assert.equal(closed.closed_at?.toISOString(), '2026-03-02T12:00:00.000Z');
  assert.equal(closed.resolved_at?.toISOString(), '2026-03-02T12:00:00.000Z');
  assert.deepEqual(closed.notifications, [
    { at: '2026-03-01T12:00:00.000Z', recipient: 'Customer Acme Corp (email)' },
  ]);
  assert.equal(closed.timeline.length, 3);
  const records = await f.evidenceOfKind('incident.record');
  assert.equal(records.length, 2);
  const last = await f.evidence(closed.evidence_id);
  assert.ok(
    last.item.controls.includes('INC-06'),
    'notifications made prove the breach notification control',
  );
  assert.match(JSON.stringify(last.content), /status open → closed/);
  await assert.rejects(
    createIncident(f.database, tester, f.slug, { reference: 'X', title: 'x', severity: 'sev1' }),
    /severity: "sev1"/,
  );
});

test('incident plan: untested is a finding; a tabletop exercise tests it; its follow-ups are tracked to closure', async (t) => {
  const f = await registerFixture(t);
  await f.run(at('2026-01-01T00:00:00Z'), ['incident.plan_untested', 'incident.followups_overdue']);
  assert.equal(
    (await f.findings('incident.plan_untested')).length,
    0,
    'no plan, no exercises: nothing to judge',
  );

  await setPlan(
    f.database,
    tester,
    f.slug,
    { title: 'Incident Response Plan v3', owner: 'ciso@acme.example' },
    { now: at('2026-01-02T00:00:00Z') },
  );
  const [untested] = await f.findings('incident.plan_untested', 'open');
  assert.match(untested!.detail, /never been tested/);

  const exercise = await recordExercise(
    f.database,
    tester,
    f.slug,
    {
      title: 'Ransomware on the build server',
      scenario: 'Build server encrypted on a Friday night; backups are 26 hours old.',
      heldAt: '2026-01-20T14:00:00Z',
      facilitator: 'ciso@acme.example',
      participants: 'ana@acme.example;ben@acme.example;cho@acme.example',
      outcomes: 'Escalation worked; backup restore took longer than the RTO.',
      followUps: [
        { title: 'Shorten backup interval to 4 hours', owner: 'ben@acme.example', dueAt: '2026-02-28' },
      ],
    },
    { now: at('2026-01-21T00:00:00Z') },
  );
  const [closedUntested] = await f.findings('incident.plan_untested', 'closed');
  assert.ok(closedUntested?.evidence_ids.includes(exercise.evidence_id!));
  assert.equal((await getPlan(f.database, f.slug)).lastTestedAt?.toISOString(), '2026-01-20T14:00:00.000Z');
  const stored = await f.evidence(exercise.evidence_id);
  assert.equal(stored.item.kind, 'incident.tabletop_exercise');
  assert.deepEqual(
    (stored.content as { exercise: { participants: string[] } }).exercise.participants.length,
    3,
  );

  const { followUps } = await listExercises(f.database, f.slug);
  assert.equal(followUps.length, 1);
  await f.run(at('2026-03-05T00:00:00Z'), ['incident.followups_overdue']);
  const [overdue] = await f.findings('incident.followups_overdue', 'open');
  assert.match(
    overdue!.detail,
    /1 follow-up actions overdue: "Shorten backup interval to 4 hours" \(ben@acme\.example, due 2026-02-28\)/,
  );

  await assert.rejects(
    updateFollowUp(f.database, tester, f.slug, followUps[0]!.id, { status: 'done' }),
    /resolution: say how/,
  );
  const done = await updateFollowUp(
    f.database,
    tester,
    f.slug,
    followUps[0]!.id,
    { status: 'done', resolution: 'Backups run every 4 hours since 2026-03-06.' },
    { now: at('2026-03-06T00:00:00Z') },
  );
  assert.equal(done.closed_at?.toISOString(), '2026-03-06T00:00:00.000Z');
  const [closed] = await f.findings('incident.followups_overdue', 'closed');
  assert.ok(closed?.evidence_ids.includes(done.evidence_id!));

  // A year and more without a test: the plan is untested again.
  await f.run(at('2027-02-01T00:00:00Z'), ['incident.plan_untested']);
  assert.match(
    (await f.findings('incident.plan_untested', 'open'))[0]!.detail,
    /last tested 2026-01-20, 376 days ago/,
  );

  // Follow-ups from an incident, too.
  await createIncident(f.database, tester, f.slug, {
    reference: 'INC-7',
    title: 'Phishing',
    severity: 'low',
  });
  const action = await addFollowUp(f.database, tester, f.slug, {
    incident: 'INC-7',
    title: 'Block sender domain',
    dueAt: '2027-03-01',
  });
  assert.equal((await getIncident(f.database, f.slug, 'INC-7')).followUps[0]?.id, action.id);
});
