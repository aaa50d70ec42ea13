/**
 * Seals a workspace's audit trail into its evidence ledger: the entries not yet sealed, oldest
 * first, become one `audit.trail` evidence item (a batch of at most `maxEntriesPerSeal`), and
 * each entry records that item's id. From then on the ledger — and every checkpoint signed
 * after it — vouches for who did what and when; editing or deleting a sealed entry shows as a
 * mismatch against the ledger. The scheduler seals every workspace whose oldest unsealed entry
 * is older than the checkpoint interval; an export seals first, so the package holds the trail.
 */
import type { Database } from '../../db/database.ts';
import { appendEvidence } from '../evidence/append-evidence.ts';
import { markAuditEntriesSealed, selectUnsealedAuditEntries } from './audit.repository.ts';

export const maxEntriesPerSeal = 2_000;

export interface SealResult {
  entries: number;
  evidenceIds: string[];
}

export async function sealAuditTrail(database: Database, workspaceId: string): Promise<SealResult> {
  const result: SealResult = { entries: 0, evidenceIds: [] };
  for (;;) {
    const sealed = await database.inWorkspace(workspaceId, async (trx) => {
      const entries = await selectUnsealedAuditEntries(trx, workspaceId, maxEntriesPerSeal);
      const first = entries[0];
      const last = entries.at(-1);
      if (!first || !last) return null;
      const [record] = await appendEvidence(trx, workspaceId, [
        {
          kind: 'audit.trail',
          subject: { type: 'workspace', id: workspaceId },
          effectiveAt: new Date(last.at).toISOString(),
          collector: { type: 'system', id: 'audit-trail' },
          content: {
            fromId: Number(first.id),
            toId: Number(last.id),
            entries: entries.map((e) => ({
              id: Number(e.id),
              at: new Date(e.at).toISOString(),
              actor: { type: e.actor_type, id: e.actor_id },
              action: e.action,
              target: { type: e.target_type, id: e.target_id },
              details: e.details,
            })),
          },
        },
      ]);
      await markAuditEntriesSealed(
        trx,
        workspaceId,
        { fromId: Number(first.id), toId: Number(last.id) },
        record!.id,
      );
      return { entries: entries.length, evidenceId: record!.id };
    });
    if (!sealed) return result;
    result.entries += sealed.entries;
    result.evidenceIds.push(sealed.evidenceId);
    if (sealed.entries < maxEntriesPerSeal) return result;
  }
}
