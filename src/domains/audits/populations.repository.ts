import { sql } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { EventView } from '../monitoring/facts.ts';

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

/**
 * The code-change events (class 990002) in [from, to) up to `until`, carrying only the parts of
 * the normalised record the change populations read (code, actor, target, repository): the rest of
 * each event's data never leaves the database.
 */
export async function selectCodeChangeEvents(
  trx: Trx,
  workspaceId: string,
  from: Date,
  to: Date,
  until: Date,
) {
  const result = await sql<{
    id: number;
    time: Date;
    repository: string | null;
    data: Pick<EventView['data'], 'code' | 'actor' | 'target' | 'repository'>;
  }>`
    select id, time, repository,
      coalesce(
        (select jsonb_object_agg(key, value) from jsonb_each(data)
          where key in ('code', 'actor', 'target', 'repository')),
        '{}'::jsonb) as data
    from events
    where workspace_id = ${workspaceId} and class_uid = 990002
      and time >= ${from} and time < ${to} and time <= ${until}
    order by time, id`.execute(trx);
  return result.rows;
}
