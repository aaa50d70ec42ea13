/**
 * A year of generated history with known deviations — a missed Q2 access review, a late and a
 * forgotten termination, merges without independent approval — and the populations, deviations
 * and forecast probabilities Assay computes, against values worked out by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliActor } from '../../src/cli/runtime.ts';
import { parsePeriod, readinessReport } from '../../src/domains/audits/readiness.service.ts';
import { classify, type NormalizedEvent } from '../../src/domains/events/event.model.ts';
import { appendEvidence } from '../../src/domains/evidence/append-evidence.ts';
import { IngestWriter } from '../../src/domains/ingest/ingest-writer.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { createTestDatabase } from '../helpers/database.ts';

const day = 24 * 3600 * 1000;
const iso = (s: string) => new Date(s).toISOString();

function event(
  partial: Partial<NormalizedEvent> & Pick<NormalizedEvent, 'sourceKey' | 'time' | 'action'>,
  cls: Parameters<typeof classify>,
): NormalizedEvent {
  return {
    source: 'ocsf',
    system: 'okta',
    outcome: 'success',
    raw: { generated: partial.sourceKey },
    ...classify(...cls),
    ...partial,
  } as NormalizedEvent;
}

test('readiness over a year with known deviations matches hand-computed values', async (t) => {
  const { database } = await createTestDatabase(t);
  const actor = cliActor();
  const workspace = await createWorkspace(database, actor, { slug: 'acme' });
  await database.inWorkspace(workspace.id, async (trx) => {
    const writer = new IngestWriter(trx, workspace.id, null);
    // Four leavers in 2025: two on time, one 3 days late, one never deprovisioned.
    const leavers = [
      { email: 'ann@acme.example', end: '2025-02-10', disabled: '2025-02-11T09:00:00Z' },
      { email: 'bob@acme.example', end: '2025-05-20', disabled: '2025-05-21T08:00:00Z' },
      { email: 'cat@acme.example', end: '2025-08-01', disabled: '2025-08-05T10:00:00Z' },
      { email: 'dan@acme.example', end: '2025-11-03', disabled: null },
    ];
    for (const [i, l] of leavers.entries()) {
      await writer.add({
        type: 'person',
        position: {},
        person: {
          source: 'hr-roster',
          employeeId: `E${i}`,
          name: l.email,
          email: l.email,
          startDate: '2020-01-01',
          endDate: l.end,
          status: 'terminated',
          observedAt: iso('2025-12-31T00:00:00Z'),
        },
      });
      const account = {
        type: 'user' as const,
        system: 'okta',
        externalId: `00u${i}`,
        email: l.email,
        userName: l.email,
      };
      await writer.add({
        type: 'event',
        position: {},
        event: event(
          {
            sourceKey: `create-${i}`,
            time: iso('2020-01-01T00:00:00Z'),
            action: 'user.lifecycle.create',
            target: account,
            accountStatus: 'active',
          },
          ['accountChange', 1],
        ),
      });
      if (l.disabled) {
        await writer.add({
          type: 'event',
          position: {},
          event: event(
            {
              sourceKey: `deactivate-${i}`,
              time: iso(l.disabled),
              action: 'user.lifecycle.deactivate',
              target: account,
              accountStatus: 'deprovisioned',
            },
            ['accountChange', 5],
          ),
        });
      }
    }
    // Ten merged pull requests; #3, #6 and #9 have no independent approval (#6 is self-approved).
    for (let pr = 1; pr <= 10; pr++) {
      const time = new Date(Date.parse('2025-03-01T12:00:00Z') + pr * 20 * day);
      const author = { type: 'user' as const, system: 'github:acme', userName: `dev${pr}` };
      const reviewer = pr === 6 ? author : { type: 'user' as const, system: 'github:acme', userName: 'lead' };
      if (pr !== 3 && pr !== 9) {
        await writer.add({
          type: 'event',
          position: {},
          event: event(
            {
              system: 'github:acme',
              sourceKey: `review-${pr}`,
              time: new Date(time.getTime() - 3600_000).toISOString(),
              action: 'pull_request_review.submitted',
              actor: reviewer,
              repository: 'acme/api',
              code: { change: 'review_submitted', bypass: false, pullRequest: pr, reviewState: 'approved' },
            },
            ['codeChange', 99, 'Review'],
          ),
        });
      }
      await writer.add({
        type: 'event',
        position: {},
        event: event(
          {
            system: 'github:acme',
            sourceKey: `merge-${pr}`,
            time: time.toISOString(),
            action: 'pull_request.merged',
            actor: author,
            target: author,
            repository: 'acme/api',
            code: { change: 'pull_request_merged', bypass: false, pullRequest: pr },
          },
          ['codeChange', 2],
        ),
      });
    }
    await writer.finish();
    // Quarterly access reviews signed off in Q1, Q3 and Q4 — Q2's was skipped.
    await appendEvidence(
      trx,
      workspace.id,
      ['2025-03-28T10:00:00Z', '2025-09-26T10:00:00Z', '2025-12-12T10:00:00Z'].map((at) => ({
        kind: 'access_review.signoff',
        controls: ['AC-05'],
        effectiveAt: at,
        collector: { type: 'user', id: 'lead@acme.example' },
        content: { campaign: at.slice(0, 7) },
      })),
    );
  });

  const report = await readinessReport(database, 'acme', parsePeriod('2025-01-01..2025-12-31'), {
    deprovisioningSlaHours: 24,
    now: new Date('2026-03-01T00:00:00Z'),
  });
  const control = (id: string) => {
    const c = report.controls.find((x) => x.templateId === id);
    assert.ok(c, `${id} in the report`);
    return c;
  };
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

  const review = control('AC-05');
  assert.equal(review.population, 4);
  assert.deepEqual(review.deviations, { late: 0, missing: 1, failed: 0, total: 1 });
  assert.equal(review.sampleSize, 2);
  close(review.probabilityOfDeviationInSample, 1 - 3 / 6); // 1 − C(3,2)/C(4,2)
  assert.equal(
    report.populations.find((p) => p.templateId === 'AC-05')!.occurrences.find((o) => o.status === 'missing')!
      .id,
    '2025-Q2',
  );

  const leavers = control('AC-04');
  assert.equal(leavers.population, 4);
  assert.deepEqual(leavers.deviations, { late: 1, missing: 1, failed: 0, total: 2 });
  assert.equal(leavers.sampleSize, 2);
  close(leavers.probabilityOfDeviationInSample, 1 - 1 / 6); // 1 − C(2,2)/C(4,2)

  const merges = control('CHG-01');
  assert.equal(merges.population, 10);
  assert.equal(merges.deviations.failed, 3);
  assert.equal(merges.sampleSize, 5);
  close(merges.probabilityOfDeviationInSample, 1 - 21 / 252); // 1 − C(7,5)/C(10,5)

  // The gaps are ranked by the chance a sample finds them. No checks ran during 2025, so every
  // automated control's days of monitoring are missing: those rank first, as they should.
  const ranked = report.gaps.map((g) => g.probabilityOfDeviationInSample);
  assert.deepEqual(
    ranked,
    [...ranked].sort((a, b) => b - a),
  );
  for (const id of ['CHG-01', 'AC-04', 'AC-05'])
    assert.ok(
      report.gaps.some((g) => g.templateId === id),
      `${id} is a gap`,
    );
  const monitoring = report.controls.find((c) => c.templateId === 'AC-07')!;
  assert.equal(monitoring.kind, 'monitoring');
  assert.equal(monitoring.population, 365);
  assert.equal(monitoring.deviations.missing, 365);
  assert.ok(report.probabilityAnyDeviation >= merges.probabilityOfDeviationInSample);
  assert.ok(report.score > 0 && report.score < 100);
});

test('periods are validated', () => {
  assert.throws(() => parsePeriod('2025-13-01..2025-12-31'), /expected FROM\.\.TO/);
  assert.throws(() => parsePeriod('2025-12-31..2025-01-01'), /ends before it starts/);
  assert.throws(() => parsePeriod('last year'), /expected FROM\.\.TO/);
  const p = parsePeriod('2025-01-01..2025-12-31');
  assert.equal(p.to.toISOString(), '2026-01-01T00:00:00.000Z');
});
