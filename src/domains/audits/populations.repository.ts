import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';

export async function selectEvidenceForControls(trx: Trx, workspaceId: string, from: Date, to: Date) {
  return trx
    .selectFrom('evidence_items')
    .select(['id', 'kind', 'control_ids', 'effective_at'])
    .where('workspace_id', '=', workspaceId)
    .where('effective_at', '>=', from)
    .where('effective_at', '<', to)
    .where(sql<boolean>`cardinality(control_ids) > 0`)
    .orderBy('effective_at')
    .execute();
}

export async function selectStatusIntervals(trx: Trx, workspaceId: string, from: Date, to: Date) {
  return trx
    .selectFrom('control_status_intervals')
    .select(['control_id', 'status', 'valid_from', 'valid_to'])
    .where('workspace_id', '=', workspaceId)
    .where('valid_from', '<', to)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', from)]))
    .orderBy('valid_from')
    .execute();
}

export async function selectExceptionsOverlapping(trx: Trx, workspaceId: string, from: Date, to: Date) {
  return trx
    .selectFrom('exceptions')
    .select(['id', 'check_id', 'subject_key', 'approved_at', 'expires_at', 'revoked_at'])
    .where('workspace_id', '=', workspaceId)
    .where('approved_at', '<', to)
    .where('expires_at', '>', from)
    .execute();
}
