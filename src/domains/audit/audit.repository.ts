import type { Kysely } from 'kysely';
import type { Trx } from '../../db/database.ts';
import type { DB } from '../../db/schema.ts';
import type { Actor } from './actor.ts';

export interface AuditEntry {
  /** Null for platform events (sign-ins, people): they belong to no single workspace. */
  workspaceId: string | null;
  actor: Actor;
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

/** The raw insert; services call `recordAudit` (record-audit.ts), the one entry point. */
export async function insertAuditEntry(trx: Trx | Kysely<DB>, entry: AuditEntry): Promise<void> {
  await trx
    .insertInto('audit_trail')
    .values({
      workspace_id: entry.workspaceId,
      actor_type: entry.actor.type,
      actor_id: entry.actor.id,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}

export async function listAuditEntries(trx: Trx, workspaceId: string, limit = 100) {
  return trx
    .selectFrom('audit_trail')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
