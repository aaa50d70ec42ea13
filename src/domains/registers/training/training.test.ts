import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addPeople, at, registerFixture, tester } from '../shared/testing.ts';
import {
  assignTraining,
  createCourse,
  recordCompletion,
  trainingStatus,
  updateCourse,
} from './training.service.ts';

test('training: on-hire, annual and role-specific assignments follow from HR; completions are evidence; overdue is a finding', async (t) => {
  const f = await registerFixture(t);
  await addPeople(f.database, f.slug, [
    {
      email: 'ana@acme.example',
      startDate: '2023-05-01',
      department: 'Engineering',
      title: 'Senior Engineer',
    },
    { email: 'ben@acme.example', startDate: '2023-05-01', department: 'Sales', title: 'Account Executive' },
    { email: 'cho@acme.example', startDate: '2026-02-01', department: 'Engineering', title: 'Engineer' },
  ]);
  await f.run(at('2026-01-01T00:00:00Z'), ['training.overdue']);
  assert.equal((await f.findings('training.overdue')).length, 0, 'no courses: nothing to judge');

  const awareness = await createCourse(
    f.database,
    tester,
    f.slug,
    {
      code: 'SAT',
      title: 'Security awareness',
      kind: 'security_awareness',
      frequency: 'annual',
      dueDays: 30,
      effectiveFrom: '2025-01-01',
    },
    { now: at('2025-01-01T00:00:00Z') },
  );
  const completion = await recordCompletion(
    f.database,
    tester,
    f.slug,
    { course: 'SAT', email: 'ANA@acme.example', completedAt: '2025-01-20', score: 92 },
    { now: at('2025-01-20T00:00:00Z') },
  );
  assert.equal(completion.email, 'ana@acme.example');
  await recordCompletion(
    f.database,
    tester,
    f.slug,
    { course: 'SAT', email: 'ben@acme.example', completedAt: '2025-01-25' },
    { now: at('2025-01-25T00:00:00Z') },
  );
  await createCourse(
    f.database,
    tester,
    f.slug,
    {
      code: 'SDLC',
      title: 'Secure development',
      kind: 'role_specific',
      frequency: 'once',
      dueDays: 60,
      audienceDepartments: 'Engineering',
      effectiveFrom: '2025-06-01',
    },
    { now: at('2025-06-01T00:00:00Z') },
  );
  const updated = await updateCourse(
    f.database,
    tester,
    f.slug,
    'sat',
    { title: 'Security awareness 2026' },
    { now: at('2025-06-02T00:00:00Z') },
  );
  assert.equal(updated.id, awareness.id);
  assert.equal(updated.title, 'Security awareness 2026');

  await recordCompletion(
    f.database,
    tester,
    f.slug,
    { course: 'SDLC', email: 'ana@acme.example', completedAt: '2025-07-01' },
    { now: at('2025-07-01T00:00:00Z') },
  );
  const stored = await f.evidence((await f.evidenceOfKind('training.completion')).at(-1)!.id);
  assert.ok(stored.item.controls.includes('HR-03'));

  const status = await trainingStatus(f.database, f.slug, { asOf: at('2026-03-01T00:00:00Z') });
  const row = (email: string, code: string) =>
    status.assignments.find((a) => a.email === email && a.course.code === code);
  assert.equal(row('ana@acme.example', 'SAT')?.state, 'overdue', 'annual refresh due 2026-01-20');
  assert.equal(row('ana@acme.example', 'SAT')?.reason, 'annual');
  assert.equal(row('ana@acme.example', 'SDLC')?.state, 'completed');
  assert.equal(row('ben@acme.example', 'SDLC'), undefined, 'role-specific: only Engineering');
  assert.equal(row('cho@acme.example', 'SAT')?.reason, 'on_hire');
  assert.equal(row('cho@acme.example', 'SAT')?.dueAt.toISOString(), '2026-03-03T00:00:00.000Z');
  assert.equal(row('cho@acme.example', 'SAT')?.state, 'due');

  await f.run(at('2026-03-01T00:00:00Z'), ['training.overdue']);
  const open = await f.findings('training.overdue', 'open');
  assert.deepEqual(open.map((x) => (x.subject as { email?: string }).email).sort(), [
    'ana@acme.example',
    'ben@acme.example',
  ]);
  assert.match(
    open.find((x) => (x.subject as { email: string }).email === 'ana@acme.example')!.detail,
    /SAT \(annual, due 2026-01-20\)/,
  );

  const renewed = await recordCompletion(
    f.database,
    tester,
    f.slug,
    { course: 'SAT', email: 'ana@acme.example', completedAt: '2026-03-02' },
    {
      now: at('2026-03-02T00:00:00Z'),
    },
  );
  const closed = await f.findings('training.overdue', 'closed');
  assert.equal(closed.length, 1);
  assert.ok(closed[0]!.evidence_ids.includes(renewed.evidence_id!));
  // Importing the same completion again records nothing new.
  await recordCompletion(
    f.database,
    tester,
    f.slug,
    { course: 'SAT', email: 'ana@acme.example', completedAt: '2026-03-02' },
    { now: at('2026-03-02T01:00:00Z') },
  );
  assert.equal((await f.evidenceOfKind('training.completion')).length, 4);

  const manual = await assignTraining(
    f.database,
    tester,
    f.slug,
    { course: 'SDLC', email: 'ben@acme.example', dueAt: '2026-04-30' },
    {
      now: at('2026-03-03T00:00:00Z'),
    },
  );
  assert.equal(manual.email, 'ben@acme.example');
  const later = await trainingStatus(f.database, f.slug, { asOf: at('2026-05-01T00:00:00Z') });
  assert.equal(
    later.assignments.find((a) => a.email === 'ben@acme.example' && a.reason === 'manual')?.state,
    'overdue',
  );
  await assert.rejects(
    recordCompletion(f.database, tester, f.slug, { course: 'NOPE', email: 'a@b.co' }),
    /course: course "NOPE" does not exist/,
  );
});
