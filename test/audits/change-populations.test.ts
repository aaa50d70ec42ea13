/**
 * The change populations decided in the database: which merges count as independently approved
 * (CHG-01) and which changes bypassed protection (CHG-02), case by case.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliActor } from '../../src/cli/runtime.ts';
import { computePopulations } from '../../src/domains/audits/populations.ts';
import { classify, type NormalizedEvent } from '../../src/domains/events/event.model.ts';
import { IngestWriter } from '../../src/domains/ingest/ingest-writer.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';
import { createTestDatabase } from '../helpers/database.ts';

const user = (userName: string) => ({ type: 'user' as const, system: 'github:acme', userName });

interface Change {
  key: string;
  time: string;
  repository: string;
  change: 'review_submitted' | 'pull_request_merged' | 'push';
  pullRequest?: number | string;
  actor: string;
  target?: string;
  reviewState?: string;
  bypass?: boolean;
}

function changeEvent(c: Change): NormalizedEvent {
  const code: Record<string, unknown> = { change: c.change, bypass: c.bypass ?? false };
  if (c.pullRequest !== undefined) code.pullRequest = c.pullRequest;
  if (c.reviewState !== undefined) code.reviewState = c.reviewState;
  const kind: Parameters<typeof classify> =
    c.change === 'review_submitted'
      ? ['codeChange', 99, 'Review']
      : c.change === 'push'
        ? ['codeChange', 1]
        : ['codeChange', 2];
  return {
    source: 'ocsf',
    system: 'github:acme',
    outcome: 'success',
    raw: { generated: c.key },
    ...classify(...kind),
    sourceKey: c.key,
    time: c.time,
    action: c.change,
    actor: user(c.actor),
    ...(c.target ? { target: user(c.target) } : {}),
    repository: c.repository,
    code,
  } as NormalizedEvent;
}

const merge = (pr: number | string, time: string, author: string, extra: Partial<Change> = {}): Change => ({
  key: `merge-${extra.repository ?? 'acme/api'}-${pr}`,
  time,
  repository: 'acme/api',
  change: 'pull_request_merged',
  pullRequest: pr,
  actor: author,
  target: author,
  ...extra,
});
const review = (
  pr: number | string,
  time: string,
  reviewer: string,
  extra: Partial<Change> = {},
): Change => ({
  key: `review-${extra.repository ?? 'acme/api'}-${pr}-${reviewer}-${time}`,
  time,
  repository: 'acme/api',
  change: 'review_submitted',
  pullRequest: pr,
  actor: reviewer,
  reviewState: 'approved',
  ...extra,
});

test('merges are independently approved only by an approving review of the same pull request, by someone else, in time', async (t) => {
  const { database } = await createTestDatabase(t);
  const workspace = await createWorkspace(database, cliActor(), { slug: 'acme' });
  const changes: Change[] = [
    // #1: approved by the lead an hour before the merge.
    review(1, '2025-03-01T09:00:00Z', 'lead'),
    merge(1, '2025-03-01T10:00:00Z', 'dev1'),
    // #2: only the author approved.
    review(2, '2025-03-02T09:00:00Z', 'dev2'),
    merge(2, '2025-03-02T10:00:00Z', 'dev2'),
    // #3: the lead approved after the merge.
    merge(3, '2025-03-03T10:00:00Z', 'dev3'),
    review(3, '2025-03-03T11:00:00Z', 'lead'),
    // #4: an approval of #4 in another repository.
    review(4, '2025-03-04T09:00:00Z', 'lead', { repository: 'acme/web' }),
    merge(4, '2025-03-04T10:00:00Z', 'dev4'),
    // #5: "APPROVED" in capitals counts; the approval at the very instant of the merge counts.
    review(5, '2025-03-05T10:00:00Z', 'lead', { reviewState: 'APPROVED' }),
    merge(5, '2025-03-05T10:00:00Z', 'dev5'),
    // #6: the lead only commented.
    review(6, '2025-03-06T09:00:00Z', 'lead', { reviewState: 'commented' }),
    merge(6, '2025-03-06T10:00:00Z', 'dev6'),
    // #7: the author approved first, then someone else did: approved.
    review(7, '2025-03-07T08:00:00Z', 'dev7'),
    review(7, '2025-03-07T09:00:00Z', 'lead'),
    merge(7, '2025-03-07T10:00:00Z', 'dev7'),
    // #8: the pull request as stored differs ("8" is not 8).
    review('8', '2025-03-08T09:00:00Z', 'lead'),
    merge(8, '2025-03-08T10:00:00Z', 'dev8'),
    // #9: merged by the lead on behalf of dev9 (the target is the author): the lead's approval counts.
    review(9, '2025-03-09T09:00:00Z', 'lead'),
    merge(9, '2025-03-09T10:00:00Z', 'lead', { target: 'dev9' }),
    // #10: merged by dev10 for the lead (the target): the lead's own approval does not count.
    review(10, '2025-03-10T09:00:00Z', 'lead'),
    merge(10, '2025-03-10T10:00:00Z', 'dev10', { target: 'lead' }),
    // Pushes: one through protection, one bypassing it.
    { key: 'push-1', time: '2025-04-01T10:00:00Z', repository: 'acme/api', change: 'push', actor: 'dev1' },
    {
      key: 'push-2',
      time: '2025-04-02T10:00:00Z',
      repository: 'acme/api',
      change: 'push',
      actor: 'dev2',
      bypass: true,
    },
    // Outside the period: neither listed nor able to approve.
    review(11, '2024-12-31T09:00:00Z', 'lead'),
    merge(11, '2025-01-01T10:00:00Z', 'dev11'),
    merge(12, '2026-01-01T10:00:00Z', 'dev12'),
  ];
  await database.inWorkspace(workspace.id, async (trx) => {
    const writer = new IngestWriter(trx, workspace.id, null);
    for (const c of changes) await writer.add({ type: 'event', position: {}, event: changeEvent(c) });
    await writer.finish();
  });

  const populations = await database.inWorkspace(workspace.id, (trx) =>
    computePopulations(
      trx,
      workspace.id,
      { from: new Date('2025-01-01T00:00:00Z'), to: new Date('2026-01-01T00:00:00Z') },
      {
        deprovisioningSlaHours: 24,
        now: new Date('2026-03-01T00:00:00Z'),
        controls: new Set(['CHG-01', 'CHG-02']),
      },
    ),
  );
  const merges = populations.find((p) => p.templateId === 'CHG-01')!.occurrences;
  assert.deepEqual(
    merges.map((o) => [o.label, o.status]),
    [
      ['acme/api#11', 'failed'],
      ['acme/api#1', 'operated'],
      ['acme/api#2', 'failed'],
      ['acme/api#3', 'failed'],
      ['acme/api#4', 'failed'],
      ['acme/api#5', 'operated'],
      ['acme/api#6', 'failed'],
      ['acme/api#7', 'operated'],
      ['acme/api#8', 'failed'],
      ['acme/api#9', 'operated'],
      ['acme/api#10', 'failed'],
    ],
  );
  assert.equal(merges[1]!.detail, 'independently approved');
  assert.equal(merges[2]!.detail, 'merged without an independent approval');
  assert.equal(merges[1]!.start, '2025-03-01T10:00:00.000Z');
  assert.equal(merges[1]!.eventIds.length, 1);

  const changesToProtected = populations.find((p) => p.templateId === 'CHG-02')!.occurrences;
  // Merges and pushes of the period, in time order; reviews are not changes.
  assert.equal(changesToProtected.length, 13);
  const pushes = changesToProtected.filter((o) => o.label.includes(' push '));
  assert.deepEqual(
    pushes.map((o) => [o.label, o.status, o.detail]),
    [
      ['acme/api push 2025-04-01', 'operated', 'through protection'],
      ['acme/api push 2025-04-02', 'failed', 'bypassed branch protection'],
    ],
  );
  assert.deepEqual(
    changesToProtected.map((o) => o.start),
    [...changesToProtected.map((o) => o.start)].sort(),
  );
});
