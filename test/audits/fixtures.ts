/**
 * A year (2025) of generated history for one workspace with known deviations — a missed Q2
 * access review, a late and a forgotten termination, merges without independent approval — plus
 * an evidence file, a check run that opens findings, and the FY2025 period declared.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { cliActor } from '../../src/cli/runtime.ts';
import type { Database } from '../../src/db/database.ts';
import { createPeriod } from '../../src/domains/audits/periods.service.ts';
import { classify, type NormalizedEvent } from '../../src/domains/events/event.model.ts';
import { FileBlobStore } from '../../src/domains/evidence/core/blob-store.ts';
import { addEvidenceWithFile, appendEvidence } from '../../src/domains/evidence/evidence.service.ts';
import { IngestWriter } from '../../src/domains/ingest/ingest-writer.ts';
import { runChecks } from '../../src/domains/monitoring/run-checks.service.ts';
import { createWorkspace } from '../../src/domains/workspaces/workspaces.service.ts';

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

export const reviewDates = ['2025-03-28T10:00:00Z', '2025-09-26T10:00:00Z', '2025-12-12T10:00:00Z'];

export interface SeededYear {
  workspaceId: string;
  blobStore: FileBlobStore;
  reviewEvidenceIds: string[];
  fileEvidenceId: string;
}

export async function seedYear(database: Database, slug = 'acme'): Promise<SeededYear> {
  const actor = cliActor();
  const workspace = await createWorkspace(database, actor, { slug });
  const blobStore = new FileBlobStore(join(mkdtempSync(join(tmpdir(), 'assay-audit-blobs-')), 'blobs'));
  const reviewEvidenceIds = await database.inWorkspace(workspace.id, async (trx) => {
    const writer = new IngestWriter(trx, workspace.id, null);
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
    const records = await appendEvidence(
      trx,
      workspace.id,
      reviewDates.map((at) => ({
        kind: 'access_review.signoff',
        controls: ['AC-05'],
        effectiveAt: at,
        collector: { type: 'user', id: 'lead@acme.example' },
        content: { campaign: at.slice(0, 7) },
      })),
    );
    return records.map((r) => r.id);
  });
  // A file: the signed Q3 review as a PDF-like attachment.
  const file = await addEvidenceWithFile(
    database,
    blobStore,
    actor,
    slug,
    {
      kind: 'access_review.report',
      controls: ['AC-05'],
      effectiveAt: '2025-09-26T11:00:00Z',
      collector: { type: 'user', id: 'lead@acme.example' },
      content: { pages: 3 },
    },
    {
      source: Readable.from([Buffer.from('%PDF-1.4 signed access review, Q3 2025\n')]),
      mediaType: 'application/pdf',
      fileName: 'q3-review.pdf',
    },
  );
  // Checks run at year end: the forgotten leaver's account opens a finding.
  await runChecks(database, actor, slug, { asOf: new Date('2025-12-15T00:00:00Z') });
  await createPeriod(
    database,
    actor,
    slug,
    { name: 'FY2025', reportType: 'type2', from: '2025-01-01', to: '2025-12-31' },
    new Date('2026-01-05T00:00:00Z'),
  );
  return { workspaceId: workspace.id, blobStore, reviewEvidenceIds, fileEvidenceId: file.id };
}
