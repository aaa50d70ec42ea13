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

/** The oldest entries of a workspace not yet sealed into its ledger. */
export async function selectUnsealedAuditEntries(trx: Trx, workspaceId: string, limit: number) {
  return trx
    .selectFrom('audit_trail')
    .select(['id', 'at', 'actor_type', 'actor_id', 'action', 'target_type', 'target_id', 'details'])
    .where('workspace_id', '=', workspaceId)
    .where('evidence_id', 'is', null)
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function markAuditEntriesSealed(
  trx: Trx,
  workspaceId: string,
  range: { fromId: number; toId: number },
  evidenceId: string,
): Promise<void> {
  await trx
    .updateTable('audit_trail')
    .set({ evidence_id: evidenceId })
    .where('workspace_id', '=', workspaceId)
    .where('evidence_id', 'is', null)
    .where('id', '>=', range.fromId)
    .where('id', '<=', range.toId)
    .execute();
}

/** Workspaces with entries older than `before` still to be sealed. */
export async function selectWorkspacesWithUnsealedAudit(trx: Trx, before: Date): Promise<string[]> {
  const rows = await trx
    .selectFrom('audit_trail')
    .select('workspace_id')
    .distinct()
    .where('evidence_id', 'is', null)
    .where('workspace_id', 'is not', null)
    .where('at', '<=', before)
    .execute();
  return rows.map((r) => r.workspace_id).filter((id): id is string => id !== null);
}
