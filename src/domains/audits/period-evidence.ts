/**
 * The evidence of one audit period, as an auditor reads it: items effective within the period
 * that prove a control of the period's scope, newest first, in pages.
 */
import { sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import { listControlRows } from '../controls/controls.repository.ts';
import { presentItem } from '../evidence/evidence.presenter.ts';
import type { ItemRow } from '../evidence/evidence.repository.ts';
import type { ResolvedPeriod } from './periods.service.ts';

export async function listPeriodEvidence(
  database: Database,
  workspaceId: string,
  period: ResolvedPeriod,
  filter: { control?: string | undefined; before?: number | undefined; limit?: number | undefined },
  now: Date = new Date(),
) {
  const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
  const rows = await database.inWorkspace(workspaceId, async (trx) => {
    const scope = period.period
      ? period.period.scope.controls.map((c) => c.templateId)
      : (await listControlRows(trx, workspaceId)).map((c) => c.template_id);
    const controls = filter.control === undefined ? scope : scope.filter((c) => c === filter.control);
    if (controls.length === 0) return [];
    let query = trx
      .selectFrom('evidence_items')
      .select([
        'leaf_index',
        'id',
        'kind',
        'control_ids',
        'criterion_ids',
        'subject_type',
        'subject_id',
        'subject_name',
        'effective_at',
        'collected_at',
        'stale_after',
        'collector_type',
        'collector_id',
        'content_sha256',
        'blob_sha256',
        'blob_size',
        'blob_media_type',
        'blob_file_name',
        'erased',
        'erased_by',
        'erased_at',
        'appended_at',
        sql<string | null>`convert_from(envelope, 'UTF8')`.as('envelope_text'),
        sql<string>`encode(leaf_hash, 'hex')`.as('leaf_hash_hex'),
      ])
      .where('workspace_id', '=', workspaceId)
      .where('effective_at', '>=', period.window.from)
      .where('effective_at', '<', period.window.to)
      .where(sql<boolean>`control_ids && ${sql.val(controls)}::text[]`);
    if (filter.before !== undefined) query = query.where('leaf_index', '<', filter.before);
    return (await query.orderBy('leaf_index', 'desc').limit(limit).execute()) as ItemRow[];
  });
  const items = rows.map((row) => presentItem(row, now));
  const last = items.at(-1);
  return { period: period.label, items, next: items.length === limit && last ? last.leafIndex : null };
}
